"""The heartbeat: touched only while connected, and judged by its age."""

from __future__ import annotations

import asyncio
import os

import pytest

from layercake_contracts.heartbeat import STALE_AFTER_S, beat, problem, report
from layercake_testing.waiting import eventually


async def test_beat_touches_the_file_only_while_connected(tmp_path):
    """No file while the bus is away; one as soon as the connection is up."""
    path = tmp_path / "run" / "heartbeat"
    asked: list[bool] = []
    up = False

    def connected() -> bool:
        asked.append(up)
        return up

    task = asyncio.create_task(beat(path, connected, every_s=0.01))
    try:
        await eventually(lambda: len(asked) >= 3)
        assert not path.exists()
        up = True
        await eventually(path.exists)
    finally:
        task.cancel()


def test_a_fresh_heartbeat_is_no_problem_and_an_old_one_is(tmp_path):
    """Within STALE_AFTER_S of its last touch it is healthy; past it, the age is named."""
    path = tmp_path / "heartbeat"
    path.touch()
    touched = path.stat().st_mtime
    assert problem(path, touched + STALE_AFTER_S) is None
    stale = problem(path, touched + STALE_AFTER_S + 5)
    assert stale is not None
    assert f"{STALE_AFTER_S + 5:.0f} s old" in stale
    assert str(path) in stale


def test_no_file_and_no_setting_are_problems_that_say_so(tmp_path):
    """A missing file names its path; no setting names the variable to set."""
    missing = problem(tmp_path / "nothing", 0.0)
    assert missing is not None
    assert "no heartbeat at" in missing
    unset = problem(None, 0.0)
    assert unset is not None
    assert "LAYERCAKE_HEARTBEAT_FILE" in unset


def test_report_exits_1_on_a_stale_heartbeat_and_returns_on_a_fresh_one(tmp_path, capsys):
    """What a container's health check sees: exit 1 and why, or a line saying healthy."""
    path = tmp_path / "heartbeat"
    path.touch()
    report(path)
    assert "healthy" in capsys.readouterr().out
    old = path.stat().st_mtime - STALE_AFTER_S - 60
    os.utime(path, (old, old))
    with pytest.raises(SystemExit) as exited:
        report(path)
    assert exited.value.code == 1
    assert "unhealthy: the heartbeat at" in capsys.readouterr().err
