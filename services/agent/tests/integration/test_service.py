"""The agent service on a real nats-server, its model a local API spoken through the real SDK."""

from __future__ import annotations

import asyncio

import pytest

from layercake_agent.app import create_runtime
from layercake_agent.settings import Settings
from layercake_contracts.bus import STREAM_NAME
from layercake_contracts.events import (
    AgentFailed,
    AgentRequested,
    ArtifactRecorded,
    CodeGenerated,
    HealRequested,
    OptionSelected,
    ProjectCreated,
)
from layercake_contracts.runtime import ServiceRuntime
from layercake_contracts.values import Diagnostic, FileEntry, Gate, Manifest, Role, Severity, Step
from layercake_testing.waiting import eventually

pytestmark = pytest.mark.nats

FIX = "app/calc.py\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n>>>>>>> REPLACE\n"
CALC = b"def add(a, b):\n    return a - b\n"


@pytest.fixture
async def agent_and_observer(nats_server, model_api, tmp_path):
    agent = create_runtime(
        Settings(
            nats_url=nats_server.url,
            provider="anthropic",
            anthropic_api_key="test-key",
            anthropic_base_url=model_api.url,
            agent_root=tmp_path / "agent",
        )
    )
    observer = ServiceRuntime("observer", nats_server.url)
    seen: list[CodeGenerated | AgentFailed] = []
    for outcome in (CodeGenerated, AgentFailed):

        @observer.subscribe(observer.broker, outcome)
        async def on_outcome(event: CodeGenerated | AgentFailed) -> None:
            seen.append(event)

    await agent.start()
    await observer.start()
    yield observer, seen, tmp_path / "agent"
    await observer.stop()
    await agent.stop()


async def test_the_same_heal_request_delivered_twice_makes_one_model_call(
    agent_and_observer, model_api
):
    """A redelivered HealRequested is answered from the kept outcome: one call, one event."""
    observer, seen, _ = agent_and_observer
    model_api.answer(FIX)
    blobs = await observer.bus.blobs()
    base = Manifest({"app/calc.py": FileEntry(sha256=await blobs.put(CALC), size=len(CALC))})
    heal = HealRequested(
        project_id="calc", role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=2, base=base,
        failed_step=Step.TEST,
        diagnostics=(Diagnostic(tool="pytest", severity=Severity.ERROR, file="app/calc.py",
                                line=2, message="assert -1 == 5"),),
    )  # fmt: skip
    payload = heal.model_dump_json().encode()
    for _ in range(2):  # no Nats-Msg-Id: the stream keeps both copies, as a redelivery would
        await observer.broker.publish(payload, "lc.evt.calc.HealRequested", stream=STREAM_NAME)
    await eventually(lambda: len(seen) >= 1)
    await asyncio.sleep(1.5)
    js = observer.broker.connection.jetstream()
    info = await js.stream_info(STREAM_NAME, subjects_filter="lc.evt.calc.CodeGenerated")
    assert info.state.subjects == {"lc.evt.calc.CodeGenerated": 1}
    assert len(model_api.requests) == 1
    [generated] = seen
    assert isinstance(generated, CodeGenerated)
    assert generated.causation_id == heal.event_id
    assert (generated.attempt, generated.base) == (2, base)
    assert await blobs.get(generated.answer) == FIX.encode()
    task = model_api.bodies[0]["messages"][0]["content"][-1]["text"]
    assert ">    2 |     return a - b" in task, (
        "the heal prompt shows the failing line from the blob store"
    )


async def test_the_prompt_shows_the_intake_the_documents_and_the_selected_design(
    agent_and_observer, model_api
):
    """ProjectCreated, ArtifactRecorded and OptionSelected seen earlier make up the context."""
    observer, seen, agent_root = agent_and_observer
    model_api.answer("```tsx:src/App.tsx\nexport {}\n```\n")
    blobs = await observer.bus.blobs()
    created = ProjectCreated(
        project_id="shop", name="Shop", intake="Sell socks online.", owner="ada"
    )
    prd = await blobs.put(b"# PRD\nUS-1: a buyer pays by card.\n")
    design_b = await blobs.put(b"<!doctype html><title>Option B</title>\n")
    design_a = await blobs.put(b"<!doctype html><title>Option A</title>\n")
    facts = [
        created,
        ArtifactRecorded.follow(created, gate=Gate.G2, kind="prd", name="prd", blob=prd),
        ArtifactRecorded.follow(created, gate=Gate.G4, kind="design_option", name="option-a", blob=design_a),
        ArtifactRecorded.follow(created, gate=Gate.G4, kind="design_option", name="option-b", blob=design_b),
        OptionSelected.follow(created, gate=Gate.G4, option="option-b", by="ada"),
    ]  # fmt: skip
    for fact in facts:
        await observer.bus.publish(fact)
    record = agent_root / "shop" / "record.json"
    remembered = ("socks", '"option-b"', prd, design_a, design_b)
    await eventually(lambda: record.exists() and all(r in record.read_text() for r in remembered))
    ask = AgentRequested.follow(created, role=Role.FRONTEND_DEVELOPER, gate=Gate.G5)
    await observer.bus.publish(ask)
    await eventually(lambda: len(seen) == 1)
    context = model_api.bodies[0]["messages"][0]["content"][0]["text"]
    assert "Sell socks online." in context
    assert "US-1: a buyer pays by card." in context
    assert "Selected design: option-b" in context
    assert "<title>Option B</title>" in context
    assert "Option A" not in context, "options not chosen are left out"
