"""What a person's resolution of an escalation sets going: retry, skip, or a decision.

Core: no I/O. `RESOLUTIONS` says, per kind of escalation, what each choice
does (the CLI shows it); `follow_up` computes the request the `Project`
records with the resolution, which the outbox announces (`core/outbox.py`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from layercake_contracts.values import EscalationKind, Gate, Role

if TYPE_CHECKING:
    from layercake_gateway.core.project import Project


class Resolution(StrEnum):
    """What a person decides on an escalation."""

    RETRY = "retry"
    SKIP = "skip"
    DECIDE = "decide"


# What each resolution sets going, per kind of escalation (`layercake escalations` says it).
RESOLUTIONS: dict[EscalationKind, dict[Resolution, str]] = {
    EscalationKind.HEAL_LIMIT: {
        Resolution.RETRY: "heal again from the last failure, with a fresh budget of attempts",
        Resolution.SKIP: "mark the role done with the tree it has; the gate awaits approval "
        "once its proof is complete",
        Resolution.DECIDE: "the role works again, told your decision, with a fresh budget",
    },
    EscalationKind.AGENT: {
        Resolution.RETRY: "ask the agent again, with a fresh budget of retries",
        Resolution.SKIP: "mark the role done with the tree it has; the gate awaits approval "
        "once its proof is complete",
        Resolution.DECIDE: "record your decision; nothing runs",
    },
    EscalationKind.INFRASTRUCTURE: {
        Resolution.RETRY: "build the same tree again, with a fresh budget of build retries",
        Resolution.SKIP: "mark the role done with the tree it has; the gate awaits approval "
        "once its proof is complete",
        Resolution.DECIDE: "record your decision; nothing runs",
    },
    EscalationKind.PUSH: {
        Resolution.RETRY: "push the release to its target again",
        Resolution.SKIP: "leave the release unpushed (G9 stays approved)",
        Resolution.DECIDE: "record your decision; nothing runs",
    },
}


def action_of(decision: str) -> Resolution:
    """The action a decision in words names: "retry…", "skip…", else a decision."""
    word = decision.strip().lower()
    return next((r for r in (Resolution.RETRY, Resolution.SKIP) if word.startswith(r)),
                Resolution.DECIDE)  # fmt: skip


def follow_up(
    project: Project, escalation: dict[str, Any], action: Resolution, decided: str
) -> dict[str, Any] | None:
    """What a resolution sets going (see `RESOLUTIONS`), as the outbox announces it."""
    kind = EscalationKind(escalation["kind"])
    gate, role = Gate(escalation["gate"]), Role(escalation["role"])
    attempt: int = escalation["attempt"]
    about = {"gate": gate.value, "role": role.value}
    if kind is EscalationKind.PUSH:
        retry = action is Resolution.RETRY and project.release is not None
        return {"type": "export", **(project.release or {})} if retry else None
    if action is Resolution.SKIP:
        return {"type": "skip", **about}
    key = f"{gate.value}/{role.value}"
    if action is Resolution.RETRY and kind is EscalationKind.HEAL_LIMIT:
        errors = [e for e in project.errors if (e["gate"], e["role"], e["attempt"])
                  == (gate.value, role.value, attempt)]  # fmt: skip
        return {"type": "heal", **about, "attempt": attempt,
                "manifest": project.base_for(gate, role), "build": project.last_builds.get(key),
                "answer": project.answers.get(key), "history": project.history.get(key, []),
                "errors": errors}  # fmt: skip
    if action is Resolution.RETRY:  # the agent could not answer: the same attempt again
        return {"type": "agent", **about, "attempt": attempt, "base": project.base_for(gate, role),
                "instructions": f"Asked again by {decided}"}  # fmt: skip
    if kind is EscalationKind.HEAL_LIMIT:  # the decision is the rework's reason
        return {"type": "agent", **about, "attempt": attempt + 1,
                "base": project.base_for(gate, role),
                "instructions": f"Decided by {decided}"}  # fmt: skip
    return None
