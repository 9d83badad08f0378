"""A served runtime keeps its heartbeat while it is on a real nats-server."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from layercake_contracts.heartbeat import problem
from layercake_contracts.runtime import ServiceRuntime, serve
from layercake_testing.waiting import eventually

pytestmark = pytest.mark.nats


async def test_serve_touches_the_heartbeat_once_on_the_bus(nats_server, tmp_path):
    """`serve` with a heartbeat file: the file appears, and the check finds it fresh."""
    path = tmp_path / "heartbeat"
    runtime = ServiceRuntime("parser", nats_server.url)
    served = asyncio.create_task(serve(runtime, path))
    try:
        await eventually(path.exists)
        assert runtime.connected()
        assert problem(path, path.stat().st_mtime) is None
    finally:
        served.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await served
