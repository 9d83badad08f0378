from __future__ import annotations

import asyncio
import json
import logging
import uuid  # noqa: TC003  # annotations are evaluated by nobody, but kept readable

import pytest

from layercake_contracts.events import Event, GateOpened, ProcessingFailed
from layercake_contracts.runtime import ServiceRuntime
from layercake_contracts.settings import DeliveryPolicy
from layercake_contracts.values import Gate
from layercake_testing.waiting import eventually

pytestmark = pytest.mark.nats


@pytest.fixture
async def runtimes(nats_server):
    """Start runtimes on the test's server and stop them all afterwards."""
    started: list[ServiceRuntime] = []

    async def start(runtime: ServiceRuntime) -> ServiceRuntime:
        await runtime.start()
        started.append(runtime)
        return runtime

    yield start
    for runtime in reversed(started):
        await runtime.stop()


@pytest.fixture
async def dead_letters(nats_server, runtimes):
    """Every ProcessingFailed published during the test."""
    seen: list[ProcessingFailed] = []
    observer = ServiceRuntime("observer", nats_server.url)

    @observer.subscribe(observer.broker, ProcessingFailed)
    async def on_processing_failed(event: ProcessingFailed) -> None:
        seen.append(event)

    await runtimes(observer)
    return seen


def fast_policy(**overrides) -> DeliveryPolicy:
    return DeliveryPolicy(**{"max_deliver": 3, "ack_wait_s": 2.0, "backoff_s": (0.1,), **overrides})


async def test_failing_handler_is_tried_max_deliver_times_then_dead_lettered(
    nats_server, runtimes, dead_letters
):
    """A handler that always raises sees the message max_deliver times, then one ProcessingFailed; the next message is handled."""
    runtime = ServiceRuntime("flaky", nats_server.url, fast_policy())
    calls: list[uuid.UUID] = []
    poisoned = GateOpened(project_id="poison", gate=Gate.G1)
    healthy = GateOpened(project_id="healthy", gate=Gate.G1)

    @runtime.subscribe(runtime.broker, GateOpened)
    async def on_gate_opened(event: GateOpened) -> None:
        calls.append(event.event_id)
        if event.event_id == poisoned.event_id:
            raise RuntimeError("cannot handle this one")

    await runtimes(runtime)
    await runtime.bus.publish(poisoned)
    await runtime.bus.publish(healthy)

    await eventually(lambda: len(dead_letters) == 1 and healthy.event_id in calls)
    await asyncio.sleep(1.0)  # room for a wrong extra delivery or dead letter to show
    assert calls.count(poisoned.event_id) == 3
    assert calls.count(healthy.event_id) == 1
    [dead] = dead_letters
    assert dead.original_event_id == poisoned.event_id
    assert dead.correlation_id == poisoned.correlation_id
    assert dead.project_id == "poison"
    assert dead.service == "flaky"
    assert dead.deliveries == 3
    assert "cannot handle this one" in dead.error


async def test_slow_handler_is_kept_alive_by_in_progress_acks(nats_server, runtimes):
    """With AckWait 2 s, a handler that works 6 s is called once, not redelivered."""
    runtime = ServiceRuntime("slow", nats_server.url, fast_policy(ack_wait_s=2.0))
    calls: list[float] = []
    finished: list[bool] = []

    @runtime.subscribe(runtime.broker, GateOpened)
    async def on_gate_opened(event: GateOpened) -> None:
        calls.append(asyncio.get_running_loop().time())
        await asyncio.sleep(6.0)
        finished.append(True)

    await runtimes(runtime)
    await runtime.bus.publish(GateOpened(project_id="slow", gate=Gate.G5))
    await eventually(lambda: finished, within=15)
    await asyncio.sleep(3.0)
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("subject_type", "mutate", "named"),
    [
        ("GateOpened", lambda p: p.pop("gate"), "gate"),
        ("GateOpened", lambda p: p.update(gate=42), "gate"),
        ("GateOpened", lambda p: p.update(occurred_at="yesterday"), "occurred_at"),
        # A type not in the catalogue is ignored only when its envelope is valid.
        ("Nope", lambda p: p.update(type="Nope", occurred_at="yesterday"), "Nope"),
        ("Nope", lambda p: (p.update(type="Nope"), p.pop("event_id")), "Nope"),
        ("GateOpened", lambda p: p.update(type="GateApproved"), "type"),
        # The subject's project is the one consumers act for: a payload naming another is refused.
        (
            "GateOpened",
            lambda p: p.update(project_id="elsewhere"),
            "'bad', message says 'elsewhere'",
        ),
        # Only the gateway opens gates.
        ("GateOpened", lambda p: p.update(producer="builder"), "produced by gateway"),
    ],
)
async def test_malformed_message_is_dead_lettered_naming_the_field(
    nats_server, runtimes, dead_letters, subject_type, mutate, named
):
    """A message that does not validate is dead-lettered at once, the error names the field, and the consumer goes on."""
    runtime = ServiceRuntime("strict", nats_server.url, fast_policy())
    handled: list[Event] = []

    @runtime.subscribe(runtime.broker, None)
    async def on_any(event: Event) -> None:
        handled.append(event)

    await runtimes(runtime)
    payload = json.loads(GateOpened(project_id="bad", gate=Gate.G2).model_dump_json())
    mutate(payload)
    await runtime.broker.publish(
        json.dumps(payload).encode(), f"lc.evt.bad.{subject_type}", stream="LC_EVENTS"
    )
    good = GateOpened(project_id="good", gate=Gate.G2)
    await runtime.bus.publish(good)

    await eventually(lambda: len(dead_letters) == 1 and len(handled) >= 1)
    await asyncio.sleep(0.5)
    [dead] = dead_letters
    assert named in dead.error
    assert dead.deliveries == 1
    assert dead.service == "strict"
    # What could be read of the envelope is kept: the audit follows the message's run.
    if "event_id" in payload:
        assert str(dead.original_event_id) == payload["event_id"]
        assert str(dead.causation_id) == payload["event_id"]
    else:  # nothing to name: no id is made up
        assert dead.original_event_id is None
    assert str(dead.correlation_id) == payload["correlation_id"]
    # The dead letter itself is an event on the stream, seen by the all-events consumer.
    assert [e.event_id for e in handled if e.type == "GateOpened"] == [good.event_id]


async def test_an_event_type_not_in_the_catalogue_is_acked_and_ignored(
    nats_server, runtimes, dead_letters
):
    """A valid envelope of an unknown type never reaches a handler, is not dead-lettered, and is not delivered again."""
    runtime = ServiceRuntime("tolerant", nats_server.url, fast_policy())
    handled: list[Event] = []

    @runtime.subscribe(runtime.broker, None)
    async def on_any(event: Event) -> None:
        handled.append(event)

    await runtimes(runtime)
    payload = json.loads(GateOpened(project_id="later", gate=Gate.G2).model_dump_json())
    payload.update(type="GateReopened", reason="a type of a later version")
    await runtime.broker.publish(
        json.dumps(payload).encode(), "lc.evt.later.GateReopened", stream="LC_EVENTS"
    )
    known = GateOpened(project_id="later", gate=Gate.G3)
    await runtime.bus.publish(known)

    await eventually(lambda: [e.event_id for e in handled] == [known.event_id])
    await asyncio.sleep(2.5)  # past ack_wait: an unacked message would come back
    assert [e.event_id for e in handled] == [known.event_id]
    assert dead_letters == []
    info = await runtime.broker.connection.jetstream().consumer_info("LC_EVENTS", "tolerant-all")
    assert info.num_ack_pending == 0
    assert info.num_redelivered == 0


async def test_garbage_bytes_are_dead_lettered(nats_server, runtimes, dead_letters):
    """Bytes that are not JSON at all become a ProcessingFailed, not a crash."""
    runtime = ServiceRuntime("strict", nats_server.url, fast_policy())

    @runtime.subscribe(runtime.broker, GateOpened)
    async def on_gate_opened(event: GateOpened) -> None:
        raise AssertionError("must not be called")

    await runtimes(runtime)
    await runtime.broker.publish(b"\xff\x00garbage", "lc.evt.junk.GateOpened", stream="LC_EVENTS")
    await eventually(lambda: len(dead_letters) == 1)
    assert dead_letters[0].project_id == "junk"
    assert "json" in dead_letters[0].error.lower()


async def test_several_workers_handle_messages_at_the_same_time(nats_server, runtimes):
    """With max_workers=3, three slow messages are in the handler together."""
    runtime = ServiceRuntime("parallel", nats_server.url, fast_policy())
    inside: list[int] = []
    peak: list[int] = []

    @runtime.subscribe(runtime.broker, GateOpened, max_workers=3)
    async def on_gate_opened(event: GateOpened) -> None:
        inside.append(1)
        peak.append(len(inside))
        await asyncio.sleep(1.0)
        inside.pop()

    await runtimes(runtime)
    for n in range(3):
        await runtime.bus.publish(GateOpened(project_id=f"p{n}", gate=Gate.G1))
    await eventually(lambda: len(peak) == 3 and not inside)
    assert max(peak) == 3


async def test_idle_concurrent_consumers_log_no_error_while_waiting(nats_server, runtimes):
    """Consumers with several workers and nothing to fetch wait through many fetch timeouts and log no error or traceback."""
    runtime = ServiceRuntime("idle", nats_server.url, fast_policy())
    for index in range(8):

        @runtime.subscribe(runtime.broker, GateOpened, name=f"idle-{index}", max_workers=4)
        async def on_gate_opened(event: GateOpened) -> None:
            raise AssertionError(event)

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    faststream_log = logging.getLogger("faststream.access.nats")  # it does not propagate
    faststream_log.addHandler(handler)
    try:
        await runtimes(runtime)
        await asyncio.sleep(8.0)  # eight fetch timeouts per consumer, each a chance to fail
    finally:
        faststream_log.removeHandler(handler)
    assert any("waiting for messages" in r.getMessage() for r in records), "the log was read"
    errors = [r for r in records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [r.getMessage() for r in errors]


async def test_a_bad_message_with_an_unreadable_id_keeps_the_correlation_it_has(
    nats_server, runtimes, dead_letters
):
    """An envelope is read field by field: a broken event_id is left out, the correlation kept."""
    runtime = ServiceRuntime("strict", nats_server.url, fast_policy())

    @runtime.subscribe(runtime.broker, GateOpened)
    async def on_gate_opened(event: GateOpened) -> None:
        raise AssertionError("must not be called")

    await runtimes(runtime)
    payload = json.loads(GateOpened(project_id="half", gate=Gate.G2).model_dump_json())
    payload["event_id"] = "not-a-uuid"
    await runtime.broker.publish(
        json.dumps(payload).encode(), "lc.evt.half.GateOpened", stream="LC_EVENTS"
    )
    await eventually(lambda: len(dead_letters) == 1)
    [dead] = dead_letters
    assert dead.original_event_id is None
    assert dead.causation_id is None
    assert str(dead.correlation_id) == payload["correlation_id"]
    assert dead.original_type == "GateOpened"
