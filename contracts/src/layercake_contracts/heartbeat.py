"""A worker's heartbeat: a file it touches while it is connected to the bus, and its check.

`serve` touches the file named by `LAYERCAKE_HEARTBEAT_FILE` every few seconds while the
service's connection is up; `layercake-<service> health`, a container's health check, reads
how old it is. A worker that lost the bus, or whose loop is stuck, stops touching it.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

BEAT_S = 5.0
STALE_AFTER_S = 3 * BEAT_S


async def beat(path: Path, connected: Callable[[], bool], every_s: float = BEAT_S) -> None:
    """Touch `path` every `every_s` seconds while `connected()`, until cancelled."""
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    while True:
        if connected():
            await asyncio.to_thread(path.touch)
        await asyncio.sleep(every_s)


def problem(path: Path | None, now: float) -> str | None:
    """What is wrong with the heartbeat at `path` at time `now`; None while it is fresh."""
    if path is None:
        return "LAYERCAKE_HEARTBEAT_FILE is not set: the worker keeps no heartbeat to check"
    try:
        age = now - path.stat().st_mtime
    except FileNotFoundError:
        return f"no heartbeat at {path}: the worker has not reached the bus (yet)"
    if age > STALE_AFTER_S:
        return (
            f"the heartbeat at {path} is {age:.0f} s old (over {STALE_AFTER_S:g} s): "
            "the worker has lost the bus, or is stuck"
        )
    return None


def report(path: Path | None) -> None:
    """Say whether the heartbeat at `path` is fresh; exit 1 when it is not."""
    found = problem(path, time.time())
    if found is not None:
        print(f"unhealthy: {found}", file=sys.stderr)  # noqa: T201  # a command's answer
        raise SystemExit(1)
    print(f"healthy: heartbeat at {path}")  # noqa: T201
