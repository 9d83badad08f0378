"""Each service's `layercake <service> run` starts a worker process that joins the bus and drains on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import nats
import pytest
from nats.js.errors import NotFoundError

from layercake_contracts.bus import STREAM_NAME

pytestmark = pytest.mark.nats

LAYERCAKE = Path(sys.executable).parent / "layercake"


@pytest.mark.parametrize("service", ["parser", "builder", "agent", "git", "gateway"])
async def test_service_worker_declares_the_stream_and_stops_on_sigterm(
    nats_server, service, tmp_path
):
    """The worker, a separate process, creates the event stream on a fresh server and exits 0 on SIGTERM."""
    env = {"PATH": os.environ["PATH"], "LAYERCAKE_NATS_URL": nats_server.url, "HOME": str(tmp_path)}
    proc = await asyncio.create_subprocess_exec(
        str(LAYERCAKE),
        service,
        "run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    client = await nats.connect(nats_server.url)
    try:
        js = client.jetstream()
        for _ in range(200):
            try:
                info = await js.stream_info(STREAM_NAME)
                break
            except NotFoundError:
                await asyncio.sleep(0.05)
        else:
            pytest.fail(f"{service} worker never declared the stream")
        assert info.config.subjects == ["lc.evt.>"]
        assert proc.returncode is None, "the worker keeps running"
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=20)
        assert proc.returncode == 0, output.decode()
        assert b"service_stopped" in output
    finally:
        if proc.returncode is None:
            proc.kill()
        await client.close()
