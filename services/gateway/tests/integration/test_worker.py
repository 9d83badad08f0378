"""The gateway worker on a real nats-server: bus events in, the ledger's decisions out, once."""

from __future__ import annotations

import asyncio

import pytest

from layercake_contracts.bus import STREAM_NAME
from layercake_contracts.events import GateApproved, ProjectCreated, parse_event
from layercake_contracts.values import Gate, Role
from layercake_gateway.app import create_runtime
from layercake_gateway.settings import Settings

pytestmark = pytest.mark.nats


async def stream_types(runtime) -> list[str]:
    js = runtime.broker.connection.jetstream()
    last = (await js.stream_info(STREAM_NAME)).state.last_seq
    return [parse_event((await js.get_msg(STREAM_NAME, n)).data).type for n in range(1, last + 1)]


async def test_an_approval_on_the_bus_opens_the_next_gate_once(nats_server, store_url):
    """ProjectCreated and GateApproved(G0), the approval delivered twice: G1 opens once, its agent is asked once."""
    settings = Settings(nats_url=nats_server.url, ledger_url=store_url, relay_interval_s=0.2)
    gateway = create_runtime(settings)
    await gateway.start()
    try:
        root = ProjectCreated(project_id="calc", name="calc", intake="i", owner="ada")
        approval = GateApproved.follow(root, gate=Gate.G0, by="ada")
        await gateway.bus.publish(root)
        for _ in range(2):  # without a message id: two copies on the stream, as a redelivery
            await gateway.broker.publish(
                approval.model_dump_json().encode(), "lc.evt.calc.GateApproved", stream=STREAM_NAME
            )

        async def settled() -> list[str]:
            return await stream_types(gateway)

        for _ in range(100):
            if (await settled()).count("AgentRequested") >= 1:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        types = await settled()
        assert types.count("GateOpened") == 1
        assert types.count("AgentRequested") == 1
        consumer = await gateway.broker.connection.jetstream().consumer_info(
            STREAM_NAME, "gateway-ledger"
        )
        assert consumer.config.max_ack_pending == 1, "one message in flight keeps the order"
        project = gateway.ledger.get("calc")
        assert project.state_of(Gate.G1).value == "in_progress"
        assert project.attempt_of(Gate.G1, Role.PRODUCT_MANAGER) == 1
    finally:
        await gateway.stop()
