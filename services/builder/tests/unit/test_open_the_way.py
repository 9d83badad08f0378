"""The builder root is reached by the slot users: each folder above it gets o+x, and says so."""

from __future__ import annotations

import stat

import structlog

from layercake_builder.app import open_the_way


def test_each_folder_above_the_root_that_lacks_search_is_opened_and_named_in_the_log(tmp_path):
    private = tmp_path / "home"
    root = private / "work" / "builder"
    root.mkdir(parents=True)
    private.chmod(0o700)
    (private / "work").chmod(0o751)
    with structlog.testing.capture_logs() as logs:
        opened = open_the_way(root)
    assert private in opened
    assert private / "work" not in opened, "a folder others can pass already is left alone"
    assert stat.S_IMODE(private.stat().st_mode) == 0o701, "search only, no listing"
    named = [e["folder"] for e in logs if e["event"] == "builder_root_made_reachable"]
    assert str(private) in named
    assert open_the_way(root) == [], "the second start changes nothing"
