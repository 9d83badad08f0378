"""Waiting for something to become true, without a fixed sleep."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


async def eventually(
    condition: Callable[[], bool], within: float = 10.0, interval: float = 0.05
) -> None:
    """Return once `condition()` holds; fail with a clear message after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            msg = f"condition not met within {within}s: {condition}"
            raise AssertionError(msg)
        await asyncio.sleep(interval)
