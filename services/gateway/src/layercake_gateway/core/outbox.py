"""What the ledger tells the bus about its own decisions (the outbox's content).

Pure: one recorded aggregate event in, the bus events it announces out. Their
ids derive from the recorded event's position in its aggregate, so relaying
the same record again (after a crash between publish and bookkeeping) gives
the same ids, and the stream stores them once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from layercake_contracts.events import (
    AgentRequested,
    BuildRequested,
    EscalationRaised,
    EventBase,
    ExportRequested,
    GateApproved,
    GateOpened,
    GateRejected,
    HealRequested,
    IntakeRevised,
    OptionSelected,
    ProjectCreated,
)
from layercake_contracts.values import (
    Diagnostic,
    EarlierAttempt,
    EscalationKind,
    Gate,
    Manifest,
    RejectedPath,
    Role,
)
from layercake_gateway.core.causes import CAUSE, announcement_id


@dataclass(frozen=True)
class Recorded:
    """One aggregate event as the store holds it."""

    name: str  # the event class's name: "GateOpened", "AttemptFailed", …
    project_id: str
    aggregate_id: uuid.UUID
    version: int
    state: dict[str, Any]
    correlation_id: uuid.UUID  # the run's (the ProjectCreated's)

    @classmethod
    def of(cls, domain_event: Any, project_id: str, correlation_id: uuid.UUID) -> Recorded:  # noqa: ANN401  # any of the library's events
        """What the store holds of `domain_event`, of project `project_id`, run `correlation_id`."""
        return cls(
            name=type(domain_event).__name__,
            project_id=project_id,
            aggregate_id=domain_event.originator_id,
            version=domain_event.originator_version,
            state={k: v for k, v in vars(domain_event).items() if not k.startswith("originator")},
            correlation_id=correlation_id,
        )


def announcements(recorded: Recorded) -> list[EventBase]:
    """The bus events `recorded` announces (none for a fact the bus already told us).

    The first names the record's cause; the rest follow from the first (the gate
    opened asks its agents; the approval asks the push). All carry the run's
    correlation.
    """
    made = _ANNOUNCERS.get(recorded.name, _nothing)(recorded)
    cause = recorded.state.get(CAUSE)
    announced: list[EventBase] = []
    for index, event in enumerate(made):
        first = uuid.UUID(cause) if cause else None
        announced.append(
            event.model_copy(
                update={
                    "event_id": announcement_id(recorded.aggregate_id, recorded.version, index),
                    "correlation_id": recorded.correlation_id,
                    "causation_id": announced[0].event_id if announced else first,
                }
            )
        )
    return announced


def _nothing(_: Recorded) -> list[EventBase]:
    return []


def _opened(recorded: Recorded) -> list[EventBase]:
    gate, pid = Gate(recorded.state["gate"]), recorded.project_id
    requests: list[EventBase] = [
        AgentRequested(
            project_id=pid,
            role=Role(role),
            gate=gate,
            attempt=1,
            base=Manifest.model_validate(recorded.state.get("base") or {}),
        )
        for role in recorded.state["roles"]
    ]
    return [GateOpened(project_id=pid, gate=gate), *requests]


def _approved(recorded: Recorded) -> list[EventBase]:
    """The approval (if made here), then the push it asks: nothing is pushed before G9's."""
    state, pid = recorded.state, recorded.project_id
    approved: list[EventBase] = (
        [GateApproved(project_id=pid, gate=Gate(state["gate"]), by=state["by"])]
        if state["announce"]
        else []
    )
    export = state.get("export")
    return approved if export is None else [*approved, _export(pid, export)]


def _export_asked(recorded: Recorded) -> list[EventBase]:
    state = recorded.state
    return [_export(recorded.project_id, state)] if state["push"] else []


def _export(project_id: str, target: dict[str, Any]) -> ExportRequested:
    return ExportRequested(
        project_id=project_id, remote_url=target["remote_url"], branch=target["branch"]
    )


def _intake_revised(recorded: Recorded) -> list[EventBase]:
    state = recorded.state
    return [IntakeRevised(project_id=recorded.project_id, intake=state["intake"], by=state["by"],
                          revision=state["revision"])]  # fmt: skip


def _push_failed(recorded: Recorded) -> list[EventBase]:
    state = recorded.state
    return [EscalationRaised(project_id=recorded.project_id, role=Role.DEVOPS_ENGINEER,
                             gate=Gate.G9, attempt=state["attempt"], reason=state["reason"],
                             kind=EscalationKind.PUSH)]  # fmt: skip


def _rejected(recorded: Recorded) -> list[EventBase]:
    state, pid = recorded.state, recorded.project_id
    gate = Gate(state["gate"])
    attempts = state.get("attempts") or {}
    why = "Rejected" if state.get("rework") in {None, gate.value} else f"{gate} rejected"
    rework: list[EventBase] = [
        AgentRequested(project_id=pid, role=Role(r), gate=Gate(state.get("rework") or gate),
                       attempt=attempts.get(r, 1),
                       instructions=f"{why} by {state['by']}: {state['reason']}",
                       base=Manifest.model_validate((state.get("bases") or {}).get(r, {})))
        for r in state["roles"]
    ]  # fmt: skip
    if not state["announce"]:
        return rework
    return [
        GateRejected(project_id=pid, gate=gate, by=state["by"], reason=state["reason"]),
        *rework,
    ]


def _selected(recorded: Recorded) -> list[EventBase]:
    state = recorded.state
    if not state["announce"]:
        return []
    return [
        OptionSelected(
            project_id=recorded.project_id, gate=Gate.G4, option=state["option"], by=state["by"]
        )
    ]


def _failed(recorded: Recorded) -> list[EventBase]:
    state, pid = recorded.state, recorded.project_id
    gate, role, attempt = Gate(state["gate"]), Role(state["role"]), state["attempt"]
    if role is Role.USER:
        return []  # a person's files are not healed, and they know of their own failure
    if not state["heal"]:
        return [EscalationRaised(project_id=pid, role=role, gate=gate, attempt=attempt,
                                 reason=state["reason"])]  # fmt: skip
    return [_heal(pid, state)]


def _heal(pid: str, state: dict[str, Any]) -> HealRequested:
    """The heal of a failed attempt (`state`: its gate, role, attempt, tree, build, answer)."""
    gate, role, attempt = Gate(state["gate"]), Role(state["role"]), state["attempt"]
    build, answer = state.get("build") or {}, state.get("answer") or {}
    diagnostics = _diagnostics(build.get("diagnostics", state["errors"]))
    history = state.get("history")
    if history is None:  # recorded before attempts were kept: the count alone
        history = [{"attempt": attempt, "outcome": f"{len(diagnostics)} diagnostic(s)",
                    "diagnostics": state["errors"][:5]}]  # fmt: skip
    return HealRequested(
        project_id=pid,
        role=role,
        gate=gate,
        attempt=attempt + 1,
        base=Manifest.model_validate(state["manifest"]),
        failed_step=build.get("failed_step"),
        command=build.get("command", ""),
        exit_code=build.get("exit_code"),
        output_tail=build.get("output_tail", ""),
        diagnostics=diagnostics,
        rejected=tuple(RejectedPath.model_validate(r) for r in answer.get("rejected", ())),
        warnings=tuple(answer.get("warnings", ())),
        history=tuple(
            EarlierAttempt.model_validate(
                {**entry, "diagnostics": _diagnostics(entry.get("diagnostics", ()))}
            )
            for entry in history
        ),
    )


def _diagnostics(errors: list[dict[str, Any]]) -> tuple[Diagnostic, ...]:
    return tuple(
        Diagnostic.model_validate({"tool": "ledger", "severity": "error", **_fields(error)})
        for error in errors
    )


def _fields(error: dict[str, Any]) -> dict[str, Any]:
    known = set(Diagnostic.model_fields)
    return {k: v for k, v in error.items() if k in known}


# Waits before an agent that failed for a passing reason is asked again.
AGENT_RETRY_BACKOFF_S = (1.0, 2.0, 4.0, 8.0)


def retry_delay(tries: int) -> float:
    """How long after its failure an agent is asked again (the `tries`-th retry)."""
    return AGENT_RETRY_BACKOFF_S[min(tries, len(AGENT_RETRY_BACKOFF_S)) - 1]


def due_at(recorded: Recorded) -> datetime | None:
    """When `recorded`'s announcements may go out, if not at once (a retry waits)."""
    if recorded.name not in {"AgentFailed", "BuildFaulted"} or not recorded.state["retry"]:
        return None
    failed_at = datetime.fromisoformat(recorded.state["at"])
    return failed_at + timedelta(seconds=retry_delay(recorded.state["tries"]))


def _agent_failed(recorded: Recorded) -> list[EventBase]:
    state, pid = recorded.state, recorded.project_id
    gate, role, attempt = Gate(state["gate"]), Role(state["role"]), state["attempt"]
    if not state["retry"]:
        return [EscalationRaised(project_id=pid, role=role, gate=gate, attempt=attempt,
                                 reason=state["reason"], kind=EscalationKind.AGENT)]  # fmt: skip
    return [AgentRequested(project_id=pid, role=role, gate=gate, attempt=attempt,
                           instructions=f"Asked again after: {state['reason']}",
                           base=Manifest.model_validate(state.get("base") or {}))]  # fmt: skip


def _build_faulted(recorded: Recorded) -> list[EventBase]:
    state, pid = recorded.state, recorded.project_id
    gate, role, attempt = Gate(state["gate"]), Role(state["role"]), state["attempt"]
    if not state["retry"]:
        kind = EscalationKind.INFRASTRUCTURE
        return [EscalationRaised(project_id=pid, role=role, gate=gate, attempt=attempt,
                                 reason=state["reason"], kind=kind)]  # fmt: skip
    return [_rebuild(pid, state)]


def _escalation_resolved(recorded: Recorded) -> list[EventBase]:
    """What a person's resolution sets going: a build, a heal, an agent's run, a push."""
    pid, rebuild = recorded.project_id, recorded.state.get("rebuild")
    follow_up = recorded.state.get("follow_up") or {"type": "skip"}
    if rebuild is not None:
        return [_rebuild(pid, rebuild)]
    if follow_up["type"] == "heal":
        return [_heal(pid, follow_up)]
    if follow_up["type"] == "export":
        return [_export(pid, follow_up)]
    if follow_up["type"] == "agent":
        return [AgentRequested(project_id=pid, role=Role(follow_up["role"]),
                               gate=Gate(follow_up["gate"]), attempt=follow_up["attempt"],
                               instructions=follow_up["instructions"],
                               base=Manifest.model_validate(follow_up["base"]))]  # fmt: skip
    return []  # skipped, or a decision recorded: nothing runs


def _rebuild(project_id: str, facts: dict[str, Any]) -> BuildRequested:
    """The same build asked again: its tree, role, gate and attempt."""
    return BuildRequested(
        project_id=project_id, role=Role(facts["role"]), gate=Gate(facts["gate"]),
        attempt=facts["attempt"], manifest=Manifest.model_validate(facts["manifest"]),
    )  # fmt: skip


def _started(recorded: Recorded) -> list[EventBase]:
    state = recorded.state
    if not state.get("announce"):
        return []
    return [
        ProjectCreated(
            project_id=recorded.project_id, name=state["name"], intake=state["intake"],
            owner=state["owner"], has_ui=state["has_ui"],
        )
    ]  # fmt: skip


_ANNOUNCERS = {
    "Started": _started,
    "AgentFailed": _agent_failed,
    "GateOpened": _opened,
    "GateApproved": _approved,
    "ExportAsked": _export_asked,
    "IntakeRevised": _intake_revised,
    "ReleasePushFailed": _push_failed,
    "GateRejected": _rejected,
    "OptionSelected": _selected,
    "AttemptFailed": _failed,
    "BuildFaulted": _build_faulted,
    "EscalationResolved": _escalation_resolved,
}
