"""The demo's running display: the line a person reads for an event."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
from rich.console import Console

from layercake.demo import Demo
from layercake_contracts.events import CommitSkipped
from layercake_contracts.values import Gate


def test_a_build_that_changes_nothing_is_shown_as_nothing_to_commit():
    """A rework whose tree is already committed: one line naming the commit, no commit counted."""
    out = io.StringIO()
    demo = Demo(
        client=httpx.AsyncClient(), project_id="tally", home=Path(".layercake"), yes=True,
        console=Console(file=out, width=200),
    )  # fmt: skip
    demo.show(CommitSkipped(project_id="tally", gate=Gate.G3, branch="gate/g3", sha="a" * 40))
    assert "G3: nothing to commit, aaaaaaaaaa holds this tree" in out.getvalue()
    assert demo.progress.commits == 0
