"""A ledger URL names its store as SQLAlchemy's do: three slashes relative, four absolute."""

from __future__ import annotations

from pathlib import Path

import pytest

from layercake_gateway.adapters.ledger import sqlite_path, store_env


def test_three_slashes_name_a_file_relative_to_the_current_folder():
    """The default `sqlite:///.layercake/ledger.db` is not read at the filesystem's root."""
    assert store_env("sqlite:///.layercake/ledger.db")["SQLITE_DBNAME"] == ".layercake/ledger.db"
    assert sqlite_path("sqlite:///.layercake/ledger.db") == Path(".layercake/ledger.db")


def test_four_slashes_name_an_absolute_file():
    assert store_env("sqlite:////srv/lc/ledger.db")["SQLITE_DBNAME"] == "/srv/lc/ledger.db"
    assert sqlite_path("sqlite:////srv/lc/ledger.db") == Path("/srv/lc/ledger.db")


def test_a_postgres_url_is_no_sqlite_file_and_a_url_without_a_path_is_refused():
    assert sqlite_path("postgresql://u@h/db") is None
    for wrong in ("sqlite:///", "sqlite://host/x.db", "mysql://h/db"):
        with pytest.raises(ValueError, match="use sqlite:///PATH"):
            store_env(wrong)
