"""Waiting for something to become true, without a fixed sleep."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

_T = TypeVar("_T")


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


async def settle(
    probe: Callable[[], Awaitable[_T | None]], within: float = 10.0, interval: float = 0.05
) -> _T:
    """The first truthy value `probe()` gives; fail with a clear message after `within` seconds."""
    deadline = time.monotonic() + within
    while not (value := await probe()):
        if time.monotonic() > deadline:
            msg = f"nothing came of {probe} within {within}s"
            raise AssertionError(msg)
        await asyncio.sleep(interval)
    return value
