"""Durable consumers an older version made: updated in place, or the start refused with the fix."""

from __future__ import annotations

import asyncio

import nats
import pytest
import structlog
from nats.js.api import DeliverPolicy

from layercake_contracts.bus import STREAM_NAME, ensure_stream
from layercake_contracts.consumers import ConsumerDrift, declared
from layercake_contracts.events import GateOpened
from layercake_contracts.runtime import DeliveryPolicy, ServiceRuntime, run_worker

pytestmark = pytest.mark.nats
SUBJECT = "lc.evt.*.GateOpened"


def runtime_of(url: str, ack_wait_s: float = 30.0) -> ServiceRuntime:
    """A runtime with one handler, on the consumer `worker-GateOpened`."""
    runtime = ServiceRuntime("worker", url, DeliveryPolicy(ack_wait_s=ack_wait_s))

    @runtime.subscribe(runtime.broker, GateOpened)
    async def on_gate_opened(event: GateOpened) -> None:
        del event

    return runtime


async def made(url: str, **fields: object) -> None:
    """`worker-GateOpened` as declared, but with `fields` as given (an older version's)."""
    connection = await nats.connect(url)
    js = connection.jetstream()
    await ensure_stream(js)
    config = declared("worker-GateOpened", SUBJECT, 30.0, ordered=False)
    await js.add_consumer(STREAM_NAME, config.evolve(**fields))
    await connection.close()


async def found(url: str) -> object:
    connection = await nats.connect(url)
    info = await connection.jetstream().consumer_info(STREAM_NAME, "worker-GateOpened")
    await connection.close()
    return info.config


async def test_editable_fields_are_updated_and_logged(nats_server):
    """An older ack wait and max ack pending are brought to the declared ones; both are named."""
    await made(nats_server.url, ack_wait=10.0, max_ack_pending=1)
    runtime = runtime_of(nats_server.url, ack_wait_s=20.0)
    with structlog.testing.capture_logs() as logs:
        await runtime.start()
    await runtime.stop()
    config = await found(nats_server.url)
    assert (config.ack_wait, config.max_ack_pending) == (20.0, 1000)
    [updated] = [entry for entry in logs if entry["event"] == "consumer_updated"]
    assert updated["changed"] == {"ack_wait": [10.0, 20.0], "max_ack_pending": [1, 1000]}


async def test_a_consumer_as_declared_is_not_updated(nats_server):
    """Nothing differs (an ack wait of 2.01 s held as 2.009999999 s too): no update, no log line."""
    await made(nats_server.url, ack_wait=2.01)
    runtime = runtime_of(nats_server.url, ack_wait_s=2.01)
    with structlog.testing.capture_logs() as logs:
        await runtime.start()
    await runtime.stop()
    assert [entry for entry in logs if entry["event"].startswith("consumer_")] == []


async def test_a_fixed_field_that_differs_refuses_the_start(nats_server):
    """Another deliver policy: ConsumerDrift names consumer, field, both values and the fix."""
    await made(nats_server.url, deliver_policy=DeliverPolicy.NEW, max_ack_pending=1)
    runtime = runtime_of(nats_server.url)
    with structlog.testing.capture_logs() as logs, pytest.raises(ConsumerDrift) as refused:
        await runtime.start()
    message = str(refused.value)
    assert "consumer worker-GateOpened on LC_EVENTS has deliver_policy 'new'" in message
    assert "(declared: 'all')" in message
    assert f"consumer rm {STREAM_NAME} worker-GateOpened" in message
    assert refused.value.fixed[0].field == "deliver_policy"
    config = await found(nats_server.url)  # left as it was, the editable field too
    assert (config.deliver_policy, config.max_ack_pending) == (DeliverPolicy.NEW, 1)
    assert [e["fields"] for e in logs if e["event"] == "consumer_config_refused"] == [
        ["deliver_policy"]
    ]


def test_the_worker_exits_with_the_reason(nats_server):
    """`layercake <service> run` on such a consumer ends at once, printing what to do."""
    asyncio.run(made(nats_server.url, filter_subject="lc.evt.*.GateRejected"))
    with pytest.raises(SystemExit) as exited:
        run_worker(lambda: runtime_of(nats_server.url))
    assert "filter_subject 'lc.evt.*.GateRejected' (declared: 'lc.evt.*.GateOpened')" in str(
        exited.value.code
    )
