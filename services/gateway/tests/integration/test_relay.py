"""The outbox relay on a real nats-server: decisions reach the bus once, even across a crash."""

from __future__ import annotations

import asyncio

import pytest

from layercake_contracts.events import (
    AgentFailed,
    BuildFailed,
    CodeGenerated,
    GateApproved,
    ProjectCreated,
)
from layercake_contracts.values import (
    Diagnostic,
    EscalationKind,
    FaultCause,
    FileEntry,
    Gate,
    InfrastructureFault,
    Manifest,
    Role,
    Severity,
    Step,
    StepResult,
    Usage,
)
from layercake_gateway.adapters.ledger import Ledger
from layercake_gateway.adapters.relay import Relay
from layercake_gateway.core.policy import Policy
from layercake_testing.stream import stream_events

pytestmark = pytest.mark.nats


class CrashAfterPublishing(Exception):
    pass


async def test_a_crash_between_publishing_and_bookkeeping_relays_once_on_restart(bus, store_url):
    """Recorded decisions are published; a relay that dies before noting them republishes the same ids."""
    ledger = Ledger(store_url, Policy())
    root = ProjectCreated(project_id="calc", name="calc", intake="i", owner="ada")
    ledger.record(root, 1)
    ledger.decide("calc", lambda p: p.approve(Gate.G0, by="ada", announce=True))

    published: list = []

    async def publish_then_crash(event) -> None:
        await bus.publish(event)
        published.append(event)
        raise CrashAfterPublishing

    with pytest.raises(CrashAfterPublishing):
        await Relay(ledger, publish_then_crash).run_once()
    assert len(published) == 1

    restarted = Relay(Ledger(store_url, Policy()), bus.publish)  # a new process
    assert await restarted.run_once() >= 1
    assert await restarted.run_once() == 0, "everything was noted as relayed"
    events = await stream_events(bus)
    kinds = [e.type for e in events]
    assert kinds == ["GateApproved", "GateOpened", "AgentRequested"]
    assert len({e.event_id for e in events}) == 3
    approved, opened, requested = events
    assert (approved.gate, approved.by) == (Gate.G0, "ada")
    assert opened.gate is Gate.G1
    assert (requested.role, requested.gate, requested.attempt) == (Role.PRODUCT_MANAGER, Gate.G1, 1)


async def test_a_failed_build_is_announced_as_a_heal_then_an_escalation(bus, store_url):
    """Below the limit, HealRequested with the diagnostics and base; the last, EscalationRaised; a person's, neither."""
    ledger = Ledger(store_url, Policy(heal_limit=2))
    root = ProjectCreated(project_id="calc", name="calc", intake="i", owner="ada")
    ledger.record(root, 1)
    base = Manifest({"calc.py": FileEntry(sha256="a" * 64, size=10)})
    result = StepResult(
        step=Step.TEST, command=("pytest",), exit_code=1, duration_s=1.0,
        diagnostics=(Diagnostic(tool="pytest", severity=Severity.ERROR, file="calc.py", line=2,
                                message="assert -1 == 5"),),
    )  # fmt: skip
    for attempt in (1, 2):
        failed = BuildFailed.follow(
            root, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=attempt, manifest=base,
            results=(result,), failed_step=Step.TEST,
        )  # fmt: skip
        ledger.record(failed, attempt + 1)
    await Relay(ledger, bus.publish).run_once()
    heal, escalation = await stream_events(bus)
    assert heal.type == "HealRequested"
    assert heal.attempt == 2
    assert heal.base == base
    assert [(d.file, d.line, d.message) for d in heal.diagnostics] == [
        ("calc.py", 2, "assert -1 == 5")
    ]
    assert escalation.type == "EscalationRaised"
    assert "heal limit is 2" in escalation.reason
    assert escalation.kind is EscalationKind.HEAL_LIMIT
    persons = BuildFailed.follow(
        root, role=Role.USER, gate=Gate.G5, attempt=1, manifest=base, results=(result,),
        failed_step=Step.TEST,
    )  # fmt: skip
    ledger.record(persons, 4)
    await Relay(ledger, bus.publish).run_once()
    assert len(await stream_events(bus)) == 2, "a person's failed files announce no heal"
    assert ledger.get("calc").errors[-1]["role"] == "user"


async def test_decisions_read_off_the_bus_are_not_announced_again(bus, store_url):
    """A GateApproved that came from the bus is applied, and only its consequences are published."""
    ledger = Ledger(store_url, Policy())
    root = ProjectCreated(project_id="calc", name="calc", intake="i", owner="ada")
    ledger.record(root, 1)
    ledger.record(GateApproved.follow(root, gate=Gate.G0, by="ada"), 2)
    await Relay(ledger, bus.publish).run_once()
    assert [e.type for e in await stream_events(bus)] == ["GateOpened", "AgentRequested"]


async def test_a_passing_agent_failure_is_asked_again_after_a_wait_then_escalates(bus, store_url):
    """Retryable AgentFailed: AgentRequested again once its backoff passed; not retryable: EscalationRaised."""
    ledger = Ledger(store_url, Policy(heal_limit=3))
    root = ProjectCreated(project_id="calc", name="calc", intake="i", owner="ada")
    ledger.record(root, 1)
    common = {"role": Role.BACKEND_DEVELOPER, "gate": Gate.G5, "attempt": 1}
    ledger.record(AgentFailed.follow(root, **common, reason="529 overloaded", retryable=True), 2)
    relay = Relay(ledger, bus.publish)
    assert await relay.run_once() == 1, "the creation goes; the retry waits its backoff"
    assert await stream_events(bus) == []
    await asyncio.sleep(1.1)
    assert await relay.run_once() == 2, "the retry, and the note that its event was applied"
    ledger.record(AgentFailed.follow(root, **common, reason="401 bad key", retryable=False), 3)
    await relay.run_once()
    again, escalation = await stream_events(bus)
    assert (again.type, again.role, again.attempt) == ("AgentRequested", Role.BACKEND_DEVELOPER, 1)
    assert "529 overloaded" in again.instructions
    assert escalation.type == "EscalationRaised"
    assert "not retryable" in escalation.reason
    assert len(ledger.get("calc").escalations) == 1


async def test_a_build_that_could_not_reach_the_registry_is_built_again_after_a_wait_then_escalates(
    bus, store_url
):
    """A REGISTRY fault: no HealRequested; BuildRequested of the same tree once its backoff passed; then infrastructure."""
    ledger = Ledger(store_url, Policy(build_retries=1))
    root = ProjectCreated(project_id="calc", name="calc", intake="i", owner="ada")
    ledger.record(root, 1)
    tree = Manifest({"package.json": FileEntry(sha256="b" * 64, size=2)})
    fault = InfrastructureFault(cause=FaultCause.REGISTRY, detail="npm ERR! code E405")
    result = StepResult(step=Step.INSTALL, command=("npm install",), exit_code=1, duration_s=1.0,
                        fault=fault)  # fmt: skip
    for position in (2, 3):
        failed = BuildFailed.follow(
            root, role=Role.FRONTEND_DEVELOPER, gate=Gate.G5, attempt=1, manifest=tree,
            results=(result,), failed_step=Step.INSTALL, fault=fault,
        )  # fmt: skip
        ledger.record(failed, position)
    relay = Relay(ledger, bus.publish)
    await relay.run_once()
    assert await stream_events(bus) == [], "the retry waits its backoff"
    await asyncio.sleep(1.1)
    await relay.run_once()
    again, escalation = await stream_events(bus)
    assert (again.type, again.role, again.attempt, again.manifest) == (
        "BuildRequested", Role.FRONTEND_DEVELOPER, 1, tree,
    )  # fmt: skip
    assert (escalation.type, escalation.kind) == ("EscalationRaised", EscalationKind.INFRASTRUCTURE)
    assert "registry: npm ERR! code E405" in escalation.reason
    assert ledger.get("calc").attempt_of(Gate.G5, Role.FRONTEND_DEVELOPER) == 0, "no heal asked"


async def test_model_usage_adds_up_in_the_project(store_url):
    """Each CodeGenerated adds its tokens and cost to the project's totals."""
    ledger = Ledger(store_url, Policy())
    root = ProjectCreated(project_id="calc", name="calc", intake="i", owner="ada")
    ledger.record(root, 1)
    for position in (2, 3):
        ledger.record(
            CodeGenerated.follow(
                root, role=Role.ARCHITECT, gate=Gate.G3, attempt=1, answer="a" * 64,
                base=Manifest(), model="m", usage=Usage(input_tokens=100, output_tokens=50,
                                                        cost_usd=0.25), duration_s=1.0,
            ),
            position,
        )  # fmt: skip
    project = ledger.get("calc")
    assert (project.tokens, project.cost_usd) == (300, 0.5)
