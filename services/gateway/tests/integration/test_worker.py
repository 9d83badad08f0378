"""The gateway worker on a real nats-server: bus events in, the ledger's decisions out, once."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING

import pytest

from layercake_contracts.bus import STREAM_NAME
from layercake_contracts.events import (
    BuildSucceeded,
    GateApproved,
    ProcessingFailed,
    ProjectCreated,
    parse_event,
)
from layercake_contracts.values import Gate, Manifest, Role
from layercake_gateway.adapters.ledger import UnknownProject
from layercake_gateway.app import create_runtime
from layercake_gateway.settings import Settings
from layercake_testing.waiting import settle

if TYPE_CHECKING:
    from layercake_gateway.core.causes import Seen

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


@pytest.fixture
async def gateway(nats_server, store_url):
    """A started gateway runtime on the test's server and store."""
    settings = Settings(nats_url=nats_server.url, ledger_url=store_url, relay_interval_s=0.2)
    runtime = create_runtime(settings)
    await runtime.start()
    yield runtime
    await runtime.stop()


async def known(runtime, project_id: str):
    """The project once the ledger holds it."""
    with contextlib.suppress(UnknownProject):
        return runtime.ledger.get(project_id)
    return None


async def forge(runtime, event, subject: str, **changes) -> ProcessingFailed:
    """Publish `event` with `changes` to its payload on `subject`, past any bus; the dead letter it gets."""
    payload = {**json.loads(event.model_dump_json()), **changes}
    await runtime.broker.publish(json.dumps(payload).encode(), subject, stream=STREAM_NAME)
    [letter] = await settle(lambda: dead_letters(runtime))
    return letter


async def dead_letters(runtime) -> list[ProcessingFailed]:
    js = runtime.broker.connection.jetstream()
    found: list[ProcessingFailed] = []
    for n in range(1, (await js.stream_info(STREAM_NAME)).state.last_seq + 1):
        event = parse_event((await js.get_msg(STREAM_NAME, n)).data)
        if isinstance(event, ProcessingFailed):
            found.append(event)
    return found


async def test_an_approval_on_alices_subject_naming_bobs_project_is_dead_lettered_and_bobs_gate_stays(
    gateway,
):
    """A GateApproved on `lc.evt.alice-proj.GateApproved` whose payload names bob's project is dead-lettered naming both; bob's G0 stays open."""
    for pid, owner in (("alice-proj", "alice"), ("bob-proj", "bob")):
        await gateway.bus.publish(ProjectCreated(project_id=pid, name=pid, intake="i", owner=owner))
    bob = await settle(lambda: known(gateway, "bob-proj"))
    await settle(lambda: known(gateway, "alice-proj"))
    forged = GateApproved(project_id="bob-proj", gate=Gate.G0, by="mallory")
    letter = await forge(gateway, forged, "lc.evt.alice-proj.GateApproved")
    assert letter.service == "gateway"
    assert letter.original_event_id == forged.event_id
    assert "'alice-proj'" in letter.error
    assert "'bob-proj'" in letter.error
    after = gateway.ledger.get("bob-proj")
    assert after.state_of(Gate.G0) == bob.state_of(Gate.G0)
    assert after.version == bob.version


async def test_a_build_succeeded_not_from_the_builder_is_dead_lettered_by_the_ledger(gateway):
    """A BuildSucceeded whose producer is the agent is dead-lettered naming both services, and the ledger records no build."""
    root = ProjectCreated(project_id="calc", name="calc", intake="i", owner="ada")
    await gateway.bus.publish(root)
    await settle(lambda: known(gateway, "calc"))
    forged = BuildSucceeded.follow(
        root, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=1, manifest=Manifest(), results=()
    )
    letter = await forge(gateway, forged, "lc.evt.calc.BuildSucceeded", producer="agent")
    assert letter.original_type == "BuildSucceeded"
    assert "produced by builder" in letter.error
    assert "'agent'" in letter.error
    # The ledger keeps the dead letter as seen (for `why`), and nothing of the forged build.

    async def kept() -> Seen | None:
        return (await asyncio.to_thread(gateway.ledger.seen, "calc")).get(str(letter.event_id))

    seen = await settle(kept)
    assert seen.cause == str(forged.event_id)
    assert str(forged.event_id) not in gateway.ledger.seen("calc")
    project = gateway.ledger.get("calc")
    assert (project.artifacts["G5"], project.done_roles["G5"]) == ([], [])


async def test_an_event_type_the_ledger_does_not_know_is_acked_and_ignored(gateway):
    """An event of a type not in the catalogue is not dead-lettered and does not hold back the ordered ledger consumer."""
    root = ProjectCreated(project_id="later", name="later", intake="i", owner="ada")
    await gateway.bus.publish(root)
    await settle(lambda: known(gateway, "later"))
    payload = {**json.loads(root.model_dump_json()), "type": "GateReopened", "gate": "G0"}
    await gateway.broker.publish(
        json.dumps(payload).encode(), "lc.evt.later.GateReopened", stream=STREAM_NAME
    )
    await gateway.bus.publish(GateApproved.follow(root, gate=Gate.G0, by="ada"))

    async def opened() -> bool:
        return gateway.ledger.get("later").state_of(Gate.G1).value == "in_progress"

    await settle(opened)
    js = gateway.broker.connection.jetstream()
    last = (await js.stream_info(STREAM_NAME)).state.last_seq
    subjects = [(await js.get_msg(STREAM_NAME, n)).subject for n in range(1, last + 1)]
    assert not [s for s in subjects if s.endswith(".ProcessingFailed")]

    async def all_acked() -> bool:
        info = await js.consumer_info(STREAM_NAME, "gateway-ledger")
        return info.num_pending == info.num_ack_pending == info.num_redelivered == 0

    await settle(all_acked)
