"""The ten gates as a project page shows them: state, missing proof, who decided what and when.

Pure: a `Project` and the decisions the ledger stored (`Ledger.decided`) in,
plain rows out. Whatever a model wrote stays text here; the templates escape it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from layercake_contracts.values import Gate
from layercake_gateway.core.gates import FINDING, ArtifactKind, GateState

if TYPE_CHECKING:
    from collections.abc import Callable

    from layercake_gateway.adapters.ledger import Decided
    from layercake_gateway.core.project import Project

TITLES = {
    Gate.G0: "Intake", Gate.G1: "Intake review", Gate.G2: "Product requirements",
    Gate.G3: "Architecture", Gate.G4: "Design", Gate.G5: "Code", Gate.G6: "Tests",
    Gate.G7: "Security", Gate.G8: "Deployment", Gate.G9: "Release",
}  # fmt: skip
# What the ledger expects of a person at a gate in each state, in words.
WAITING = {
    GateState.PENDING.value: "not open yet",
    GateState.IN_PROGRESS.value: "its roles are at work",
    GateState.AWAITING_APPROVAL.value: "awaits your approval",
    GateState.APPROVED.value: "approved",
    GateState.REJECTED.value: "rejected",
    GateState.AWAITING_REVISION.value: "awaits a revised intake (layercake revise)",
}


@dataclass(frozen=True)
class Decision:
    """Who decided what at a gate, and when (UTC)."""

    gate: str
    what: str
    by: str
    at: str
    reason: str | None = None


@dataclass(frozen=True)
class GateRow:
    """One gate of the timeline."""

    gate: str
    title: str
    state: str
    said: str
    missing: tuple[str, ...]
    findings: tuple[str, ...]
    decisions: tuple[Decision, ...]
    current: bool

    @property
    def awaits_you(self) -> bool:
        """Whether a person may approve or reject it now."""
        return self.state == GateState.AWAITING_APPROVAL.value


def decisions(decided: list[Decided], escalations: list[dict[str, Any]]) -> list[Decision]:
    """The stored decisions in words, each with its gate (an escalation's gate for a resolution).

    A decision made here is announced, and the ledger reads it back off the bus: an
    OptionSelected is then recorded again, not announced (`announce` false). That echo
    is no second decision.
    """
    return [_in_words(d, escalations) for d in decided if d.facts.get("announce") is not False]


def _in_words(decided: Decided, escalations: list[dict[str, Any]]) -> Decision:
    facts, at = decided.facts, decided.at.strftime("%Y-%m-%d %H:%M:%S UTC")
    if decided.kind in _WORDS:
        gate, what, reason = _WORDS[decided.kind](facts)
    else:  # EscalationResolved: the escalation names the gate
        index = int(facts["index"])
        gate = escalations[index]["gate"] if index < len(escalations) else "?"
        what = f"resolved escalation {index} ({facts.get('action') or 'decide'})"
        reason = facts["decision"]
    return Decision(gate, what, str(facts.get("by", "?")), at, reason)


_WORDS: dict[str, Callable[[dict[str, Any]], tuple[str, str, str | None]]] = {
    "GateApproved": lambda f: (f["gate"], "approved", None),
    "GateRejected": lambda f: (f["gate"], "rejected", f["reason"]),
    "OptionSelected": lambda f: (Gate.G4.value, f"chose {f['option']}", None),
    "FindingsAccepted": lambda f: (f["gate"], "accepted the findings", f["reason"]),
    "IntakeRevised": lambda f: (Gate.G0.value, f"revised the intake ({f['revision']})", None),
    "ExportAsked": lambda f: (Gate.G9.value, f"named the release {f['remote_url']}", None),
}


def timeline(project: Project, decided: list[Decision]) -> list[GateRow]:
    """G0 to G9 in order; the first gate not approved is the current one."""
    current = next((g for g in Gate if project.gates[g.value] != GateState.APPROVED.value), None)
    rows = []
    for gate in Gate:
        missing = project.missing(gate)
        state = project.gates[gate.value]
        rows.append(
            GateRow(
                gate=gate.value,
                title=TITLES[gate],
                state=state,
                said=WAITING.get(state, state),
                missing=tuple(m for m in missing if not m.startswith(FINDING)),
                findings=tuple(m.removeprefix(FINDING) for m in missing if m.startswith(FINDING)),
                decisions=tuple(d for d in decided if d.gate == gate.value),
                current=gate is current,
            )
        )
    return rows


def design_options(project: Project) -> list[tuple[str, str]]:
    """The G4 design options the designer wrote, as (name, the page's blob), by name."""
    return sorted(
        (a["name"], a["blob"])
        for a in project.artifacts[Gate.G4.value]
        if a["kind"] == ArtifactKind.DESIGN_OPTION and a["blob"]
    )
