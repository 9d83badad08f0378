"""Escalations: what waits for a person, and their resolution of it.

Core: no I/O. A part of the `Project` aggregate (as `IntakeAndRelease` is). An
escalation is raised by the state changes that give up (`_escalate`); a
person resolves it (retry, skip, or a decision in words), and what that sets
going (`core/resolutions.py`) is recorded with the resolution for the outbox
to announce. The events keep the topics they were first stored under
(`core/topics.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from eventsourcing.domain import Aggregate, event

from layercake_contracts.values import EscalationKind
from layercake_gateway.core.errors import LedgerError
from layercake_gateway.core.resolutions import Resolution, action_of
from layercake_gateway.core.resolutions import follow_up as follow_up_of
from layercake_gateway.core.topics import keep_topics, stored_as

if TYPE_CHECKING:
    from layercake_gateway.core.project import Project


@keep_topics
class Escalations(Aggregate):
    """The escalations of a project, over the state `Project` keeps."""

    # What `Project` keeps and does, for the type checker only: at runtime an annotation
    # here would make the library treat this part as an aggregate of its own.
    if TYPE_CHECKING:
        escalations: list[dict[str, Any]]
        manifests: dict[str, dict[str, Any]]
        attempts: dict[str, int]
        first_attempts: dict[str, int]
        build_retries: dict[str, int]
        agent_retries: dict[str, int]
        done_roles: dict[str, list[str]]

        def _resolve_errors(self, gate: str, role: str, at: str) -> None: ...
        def _await_if_complete(self, gate: str) -> None: ...

    def resolve_escalation(  # one person's decision
        self, index: int, decision: str, by: str, at: str, action: Resolution | None = None
    ) -> Resolution:
        """A person decided on escalation `index`: retry, skip, or a decision in words.

        With no `action`, a decision that starts with "retry" or "skip" is that. What
        follows is `RESOLUTIONS[kind][action]`; returns the action taken.
        """
        if not 0 <= index < len(self.escalations) or self.escalations[index]["resolved_at"]:
            raise LedgerError(f"no open escalation number {index}")
        escalation = self.escalations[index]
        action = action or action_of(decision)
        rebuild, follow_up = None, None
        if action is Resolution.RETRY and escalation["kind"] == EscalationKind.INFRASTRUCTURE:
            key = f"{escalation['gate']}/{escalation['role']}"
            rebuild = {name: escalation[name] for name in ("gate", "role", "attempt")}
            rebuild["manifest"] = self.manifests.get(key, {})
        else:  # this part is only ever a `Project`'s, whose state `follow_up` reads
            follow_up = follow_up_of(cast("Project", self), escalation, action, f"{by}: {decision}")
        self._escalation_resolved(index, decision, by, at, rebuild, follow_up, action.value)
        return action

    # -- state changes (these bodies run again on replay) -----------------------

    @event("EscalationResolved", topic=stored_as("EscalationResolved"))
    def _escalation_resolved(  # the recorded facts of a person's resolution
        self,
        index: int,
        decision: str,
        by: str,
        at: str,
        rebuild: dict[str, Any] | None = None,
        follow_up: dict[str, Any] | None = None,  # see `_follow_up`
        action: str | None = None,  # None: recorded before resolutions were actions
    ) -> None:
        escalation = self.escalations[index]
        escalation.update(resolved_at=at, decision=decision, by=by, action=action)
        if rebuild is not None:  # the build is asked again: its retries start over
            self.build_retries.pop(f"{rebuild['gate']}/{rebuild['role']}", None)
        if follow_up is None or follow_up["type"] == "export":
            return
        gate, role = follow_up["gate"], follow_up["role"]
        key = f"{gate}/{role}"
        if follow_up["type"] == "skip":  # the role is done with what it has
            if role not in self.done_roles[gate]:
                self.done_roles[gate].append(role)
            self._resolve_errors(gate, role, at)
            self._await_if_complete(gate)
            return
        # The role works again with a fresh budget: retries and heals count from here.
        attempt = follow_up["attempt"] + (follow_up["type"] == "heal")
        self.agent_retries.pop(key, None)
        self.attempts[key] = self.first_attempts[key] = attempt

    # -- helpers of the state changes (plain methods: no event of their own) ------

    def _escalate(  # one escalation's facts
        self, gate: str, role: str, attempt: int, reason: str, at: str, kind: EscalationKind
    ) -> None:
        self.escalations.append(
            {"gate": gate, "role": role, "attempt": attempt, "reason": reason, "at": at,
             "kind": kind.value, "resolved_at": None, "decision": None, "by": None}
        )  # fmt: skip
