"""The gateway as a separate process: decisions recorded before a crash are relayed on restart, once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import nats
import pytest

from layercake_contracts.bus import STREAM_NAME, ensure_stream
from layercake_contracts.events import ProjectCreated, parse_event
from layercake_contracts.values import Gate
from layercake_gateway.adapters.ledger import Ledger
from layercake_gateway.core.policy import Policy

pytestmark = pytest.mark.nats
LAYERCAKE = str(Path(sys.executable).parent / "layercake")


async def stream_types(js) -> list[str]:
    last = (await js.stream_info(STREAM_NAME)).state.last_seq
    return [parse_event((await js.get_msg(STREAM_NAME, n)).data).type for n in range(1, last + 1)]


async def test_decisions_recorded_before_a_kill_are_relayed_once_after_restarts(
    nats_server, tmp_path
):
    """Recorded but never relayed (as if killed in between); the gateway started, killed -9 and started again publishes them once."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger(url, Policy())
    root = ProjectCreated(project_id="calc", name="calc", intake="i", owner="ada")
    ledger.record(root, 1)
    ledger.decide("calc", lambda p: p.approve(Gate.G0, by="ada", announce=True))
    env = {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path), "LAYERCAKE_NATS_URL": nats_server.url,
        "LAYERCAKE_LEDGER_URL": url, "LAYERCAKE_RELAY_INTERVAL_S": "0.2",
    }  # fmt: skip
    client = await nats.connect(nats_server.url)
    js = client.jetstream()
    await ensure_stream(js)

    def start() -> subprocess.Popen[bytes]:
        log = (tmp_path / "gateway.log").open("ab")
        return subprocess.Popen([LAYERCAKE, "gateway", "run"], env=env, cwd=tmp_path,  # noqa: S603
                                stdout=log, stderr=subprocess.STDOUT)  # fmt: skip

    gateway = start()
    try:
        for _ in range(200):
            if "AgentRequested" in await stream_types(js):
                break
            await asyncio.sleep(0.1)
        gateway.send_signal(signal.SIGKILL)
        gateway.wait(10)
        gateway = start()
        await asyncio.sleep(3.0)  # many relay rounds of the restarted gateway
        assert await stream_types(js) == ["GateApproved", "GateOpened", "AgentRequested"]
    finally:
        gateway.send_signal(signal.SIGTERM)
        try:
            gateway.wait(20)
        except subprocess.TimeoutExpired:
            gateway.kill()
        await client.close()
