from __future__ import annotations

import os
import sqlite3
import uuid
from urllib.parse import urlparse

import psycopg
import pytest

PG_DSN = os.environ.get("LAYERCAKE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    """A fresh, empty ledger store of each kind (PostgreSQL: a schema of its own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{PG_DSN}?schema={schema}"
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def tamper(store_url):
    """Run SQL straight on the store, as someone editing the database would."""

    parsed = urlparse(store_url)

    def run(sql: str, params: tuple = ()) -> list:
        # Aggregate ids: SQLite keeps them as hex, PostgreSQL as uuid.
        params = tuple(
            (p.hex if parsed.scheme == "sqlite" else p) if isinstance(p, uuid.UUID) else p
            for p in params
        )
        if parsed.scheme == "sqlite":
            with sqlite3.connect(parsed.path) as connection:
                return connection.execute(sql.replace("%s", "?"), params).fetchall()
        sql = sql.replace("stored_events", "ledger_events")  # PostgreSQL names tables by app
        schema = parsed.query.split("schema=", 1)[1]
        with psycopg.connect(PG_DSN, autocommit=True) as connection:
            connection.execute(f'SET search_path TO "{schema}"')
            cursor = connection.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    return run
