"""The `Project` aggregate: one project's gates, artifacts, attempts, errors and escalations.

Core: no I/O. Each public method decides (checks rules, computes) and then
calls one `@event` method, whose body only changes state, because it runs
again on every replay. The ledger's own decisions (open a gate, request a
heal, escalate) are events of this aggregate too; the relay turns them into
bus events from the store's notification log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import event

from layercake_contracts.values import Gate, Role
from layercake_gateway.core.gates import (
    GATE_ORDER,
    ArtifactKind,
    GateState,
    missing_artifacts,
    next_gate,
    roles_for,
)
from layercake_gateway.core.prompts import AwaitsAnswers

DEFAULT_HEAL_LIMIT = 3
# How many bus event ids a project remembers: duplicates come close together.
APPLIED_MEMORY = 1000
PROJECT_NAMESPACE = uuid.UUID("6a1f0c2e-8d3b-4f5a-9e7c-2b4d6f8a0c1e")


class LedgerError(Exception):
    """Base of every error the ledger raises."""


class GateRuleBroken(LedgerError):
    """A request that the gate machine refuses; `expected` says what would be allowed."""

    def __init__(self, gate: Gate, state: GateState, expected: str) -> None:
        super().__init__(f"{gate} is {state}; expected {expected}")
        self.gate, self.state, self.expected = gate, state, expected


class MissingArtifacts(LedgerError):
    """Approval refused: the gate lacks the proof it requires."""

    def __init__(self, gate: Gate, missing: tuple[str, ...]) -> None:
        super().__init__(f"{gate} cannot be approved; missing: {', '.join(missing)}")
        self.gate, self.missing = gate, missing


@dataclass(frozen=True)
class HealDecision:
    """What the heal policy decided after a failed attempt."""

    heal: bool
    next_attempt: int
    reason: str


class Project(AwaitsAnswers):
    """One project, as its events say it is."""

    @staticmethod
    def create_id(project_id: str) -> uuid.UUID:
        """The aggregate id of a project, derived from its bus id (one per project)."""
        return uuid.uuid5(PROJECT_NAMESPACE, project_id)

    @event("Started")
    def __init__(  # a project's whole intake
        self,
        project_id: str,
        name: str,
        intake: str,
        owner: str,
        has_ui: bool,
        heal_limit: int,
        announce: bool = False,
    ) -> None:
        self.created_here = announce  # made through the API: the outbox announces it
        self.project_id = project_id
        self.name = name
        self.intake = intake
        self.owner = owner
        self.has_ui = has_ui
        self.heal_limit = heal_limit
        self.gates: dict[str, str] = {g.value: GateState.PENDING.value for g in Gate}
        self.gates[Gate.G0.value] = GateState.AWAITING_APPROVAL.value
        self.artifacts: dict[str, list[dict[str, Any]]] = {g.value: [] for g in Gate}
        self.artifacts[Gate.G0.value].append({"kind": ArtifactKind.INTAKE.value, "name": "intake"})
        self.attempts: dict[str, int] = {}
        self.errors: list[dict[str, Any]] = []
        self.escalations: list[dict[str, Any]] = []
        self.selected_option: str | None = None
        self.done_roles: dict[str, list[str]] = {g.value: [] for g in Gate}
        self.tokens = 0
        self.cost_usd = 0.0
        self.agent_retries: dict[str, int] = {}
        # The tree each role last produced (the base its heal starts from).
        self.manifests: dict[str, dict[str, Any]] = {}
        # The tree each gate's agents started from when it opened (see `codebase`).
        self.bases: dict[str, dict[str, Any]] = {}
        # Who decided what: the gate table of an audit replay shows it.
        self.decisions: list[dict[str, Any]] = []
        # The latest bus events that changed this project: the same event seen again
        # (redelivered, or published twice by someone else) changes nothing.
        self.applied: list[str] = []

    # -- reading ----------------------------------------------------------------

    def state_of(self, gate: Gate) -> GateState:
        """The state of one gate."""
        return GateState(self.gates[gate.value])

    def missing(self, gate: Gate) -> tuple[str, ...]:
        """The proof `gate` still lacks."""
        return missing_artifacts(gate, [a["kind"] for a in self.artifacts[gate.value]])

    def codebase(self) -> dict[str, Any]:
        """The project's tree: its roles' latest trees at the last approved gate that has any.

        Each role's tree holds the base it started from, so the last approved gate's
        trees, merged (a person's files last), are the whole project.
        """
        for gate in reversed(GATE_ORDER):
            if self.gates[gate.value] != GateState.APPROVED.value:
                continue
            keys = sorted(
                (k for k in self.manifests if k.split("/")[0] == gate.value),
                key=lambda k: (k.endswith(f"/{Role.USER.value}"), k),
            )
            if keys:
                merged: dict[str, Any] = {}
                for key in keys:
                    merged.update(self.manifests[key])
                return merged
        return {}

    def base_for(self, gate: Gate, role: Role) -> dict[str, Any]:
        """Where a role's next try at `gate` starts: its own latest tree there, or the gate's."""
        return self.manifests.get(_key(gate, role)) or self.bases.get(gate.value, {})

    def has_applied(self, event_id: str) -> bool:
        """Whether the bus event `event_id` already changed this project."""
        return event_id in self.applied

    def mark_applied(self, event_id: str) -> None:
        """Remember that the bus event `event_id` changed this project."""
        self._applied(event_id)

    def attempt_of(self, gate: Gate, role: Role) -> int:
        """The latest attempt of `role` at `gate` (0 before the first)."""
        return self.attempts.get(_key(gate, role), 0)

    # -- decisions --------------------------------------------------------------

    def approve(self, gate: Gate, by: str, *, announce: bool = False) -> Gate | None:
        """Approve `gate` and open the next; returns the gate opened, if any."""
        state = self.state_of(gate)
        if state not in {GateState.AWAITING_APPROVAL, GateState.IN_PROGRESS}:
            raise GateRuleBroken(gate, state, "awaiting_approval")
        missing = self.missing(gate)
        if missing:
            raise MissingArtifacts(gate, missing)
        self._approved(gate.value, by, announce)
        following = next_gate(gate)
        if following is not None:
            roles = [r.value for r in roles_for(following, has_ui=self.has_ui)]
            self._opened(following.value, roles, self.codebase())
        return following

    def reject(
        self, gate: Gate, by: str, reason: str, *, announce: bool = False
    ) -> tuple[Role, ...]:
        """Send the gate's agents back to work with `reason`; returns who reworks."""
        state = self.state_of(gate)
        if state is not GateState.AWAITING_APPROVAL:
            raise GateRuleBroken(gate, state, "awaiting_approval")
        roles = roles_for(gate, has_ui=self.has_ui)
        bases = {r.value: self.base_for(gate, r) for r in roles}
        self._rejected(gate.value, by, reason, [r.value for r in roles], announce, bases)
        return roles

    def select_option(self, option: str, by: str, *, announce: bool = False) -> None:
        """Choose one of the G4 design options."""
        state = self.state_of(Gate.G4)
        if state not in {GateState.AWAITING_APPROVAL, GateState.IN_PROGRESS}:
            raise GateRuleBroken(Gate.G4, state, "in_progress or awaiting_approval")
        names = {a["name"] for a in self.artifacts[Gate.G4.value] if a["kind"] == "design_option"}
        if option not in names:
            raise GateRuleBroken(Gate.G4, state, f"one of the options {sorted(names)}")
        self._selected(option, by, announce)

    def record_artifact(
        self, gate: Gate, kind: str, name: str, blob: str | None, facts: dict[str, Any]
    ) -> None:
        """Keep a proof artifact; a gate whose proof is complete awaits approval."""
        self._artifact(gate.value, kind, name, blob, facts)

    def record_work_done(
        self, gate: Gate, role: Role, attempt: int, at: str, manifest: dict[str, Any] | None = None
    ) -> None:
        """A role's work passed (its tree is `manifest`); errors of that role are resolved."""
        self._work_done(gate.value, role.value, attempt, at, manifest or {})

    def record_tree(self, gate: Gate, role: Role, manifest: dict[str, Any]) -> None:
        """A role wrote files: its tree at `gate` is now `manifest` (built or not)."""
        self._tree_written(gate.value, role.value, manifest)

    def record_failure(
        self,
        gate: Gate,
        role: Role,
        attempt: int,
        errors: list[dict[str, Any]],
        at: str,
        manifest: dict[str, Any] | None = None,
    ) -> HealDecision:
        """A role's attempt failed: keep its errors, then heal (attempt + 1) or escalate."""
        if role is Role.USER:  # a person's own files: they mend them, no agent does
            heal, reason = False, "the files a person wrote failed; they are theirs to mend"
        else:
            heal = attempt < self.heal_limit
            reason = (
                f"attempt {attempt} of {self.heal_limit} failed"
                if heal
                else f"{attempt} attempts failed; the heal limit is {self.heal_limit}"
            )
        self._failed(gate.value, role.value, attempt, errors, at, heal, reason, manifest or {})
        return HealDecision(heal=heal, next_attempt=attempt + 1, reason=reason)

    def accept_findings(self, by: str, reason: str) -> None:
        """A person accepts G7's high or critical findings, with a reason: the audit passes."""
        state = self.state_of(Gate.G7)
        if state not in {GateState.IN_PROGRESS, GateState.AWAITING_APPROVAL}:
            raise GateRuleBroken(Gate.G7, state, "in_progress or awaiting_approval")
        if not reason.strip():
            raise LedgerError("accepting findings needs a reason")
        facts = {"accepted_by": by, "reason": reason}
        self._artifact(Gate.G7.value, ArtifactKind.AUDIT.value, "accepted findings", None, facts)

    def record_usage(self, tokens: int, cost_usd: float) -> None:
        """Add one model call's tokens and cost to the project's totals."""
        self._used(tokens, cost_usd)

    def record_agent_failure(
        self, gate: Gate, role: Role, attempt: int, reason: str, *, retryable: bool, at: str
    ) -> HealDecision:
        """An agent could not answer: ask again (after a wait) while retries last, else escalate."""
        key = _key(gate, role)
        tries = self.agent_retries.get(key, 0) + 1
        retry = retryable and tries <= self.heal_limit
        why = (
            f"agent failure {tries} of {self.heal_limit} allowed: {reason}"
            if retry
            else f"the agent cannot go on ({'retries used up' if retryable else 'not retryable'}): "
            f"{reason}"
        )
        base = self.base_for(gate, role)
        self._agent_failed(gate.value, role.value, attempt, why, retry, tries, at, base)
        return HealDecision(heal=retry, next_attempt=attempt, reason=why)

    def resolve_escalation(self, index: int, decision: str, by: str, at: str) -> None:
        """A person decided on an escalation."""
        if not 0 <= index < len(self.escalations) or self.escalations[index]["resolved_at"]:
            raise LedgerError(f"no open escalation number {index}")
        self._escalation_resolved(index, decision, by, at)

    # -- state changes (these bodies run again on replay) -----------------------

    # `announce`: a decision made here (the API) is published; one read off the bus is not.
    # Decisions keep it as "here", so an audit shows where each was made.
    @event("GateApproved")
    def _approved(self, gate: str, by: str, announce: bool) -> None:
        self.gates[gate] = GateState.APPROVED.value
        self.decisions.append({"gate": gate, "decision": "approved", "by": by, "here": announce})

    @event("GateOpened")
    def _opened(self, gate: str, roles: list[str], base: dict[str, Any] | None = None) -> None:
        self.bases[gate] = base or {}
        self.gates[gate] = (
            GateState.IN_PROGRESS.value if roles else GateState.AWAITING_APPROVAL.value
        )
        for role in roles:
            self.attempts[f"{gate}/{role}"] = 1

    @event("GateRejected")
    def _rejected(  # the recorded facts of a rejection
        self,
        gate: str,
        by: str,
        reason: str,
        roles: list[str],
        announce: bool,
        bases: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        del bases  # recorded for the announcement of the rework; no state to change
        self.decisions.append(
            {"gate": gate, "decision": "rejected", "by": by, "reason": reason, "here": announce}
        )
        self.gates[gate] = GateState.IN_PROGRESS.value if roles else GateState.REJECTED.value
        self.done_roles[gate] = []
        for role in roles:
            self.attempts[f"{gate}/{role}"] = 1

    @event("OptionSelected")
    def _selected(self, option: str, by: str, announce: bool) -> None:
        self.selected_option = option
        self.decisions.append(
            {"gate": Gate.G4.value, "decision": f"selected {option}", "by": by, "here": announce}
        )
        self.artifacts[Gate.G4.value].append(
            {"kind": ArtifactKind.SELECTED_DESIGN.value, "name": option}
        )
        self._await_if_complete(Gate.G4.value)

    @event("ArtifactRecorded")
    def _artifact(
        self, gate: str, kind: str, name: str, blob: str | None, facts: dict[str, Any]
    ) -> None:
        kept = [a for a in self.artifacts[gate] if not (a["kind"] == kind and a["name"] == name)]
        kept.append({"kind": kind, "name": name, "blob": blob, "facts": facts})
        self.artifacts[gate] = kept
        self._await_if_complete(gate)

    @event("WorkDone")
    def _work_done(
        self, gate: str, role: str, attempt: int, at: str, manifest: dict[str, Any] | None = None
    ) -> None:
        self.attempts[f"{gate}/{role}"] = attempt
        if manifest:  # events recorded before trees were kept have none
            self.manifests[f"{gate}/{role}"] = manifest
        if role not in self.done_roles[gate]:
            self.done_roles[gate].append(role)
        for entry in self.errors:
            if entry["gate"] == gate and entry["role"] == role and entry["resolved_at"] is None:
                entry["resolved_at"] = at
        self._await_if_complete(gate)

    @event("TreeWritten")
    def _tree_written(self, gate: str, role: str, manifest: dict[str, Any]) -> None:
        self.manifests[f"{gate}/{role}"] = manifest

    @event("AttemptFailed")
    def _failed(
        self,
        gate: str,
        role: str,
        attempt: int,
        errors: list[dict[str, Any]],
        at: str,
        heal: bool,
        reason: str,
        manifest: dict[str, Any],
    ) -> None:
        for error in errors:
            self.errors.append(
                {**error, "gate": gate, "role": role, "attempt": attempt, "at": at,
                 "resolved_at": None}
            )  # fmt: skip
        self.manifests[f"{gate}/{role}"] = manifest
        if heal:
            self.attempts[f"{gate}/{role}"] = attempt + 1
        elif role != Role.USER:
            self.escalations.append(
                {"gate": gate, "role": role, "attempt": attempt, "reason": reason, "at": at,
                 "resolved_at": None, "decision": None, "by": None}
            )  # fmt: skip

    @event("BusEventApplied")
    def _applied(self, event_id: str) -> None:
        self.applied.append(event_id)
        del self.applied[:-APPLIED_MEMORY]

    @event("UsageRecorded")
    def _used(self, tokens: int, cost_usd: float) -> None:
        self.tokens += tokens
        self.cost_usd += cost_usd

    @event("AgentFailed")
    def _agent_failed(  # the recorded facts of a failure
        self,
        gate: str,
        role: str,
        attempt: int,
        reason: str,
        retry: bool,
        tries: int,
        at: str,
        base: dict[str, Any] | None = None,
    ) -> None:
        del base  # recorded for the announcement of the retry; no state to change
        self.agent_retries[f"{gate}/{role}"] = tries
        self.errors.append(
            {"tool": "agent", "message": reason, "gate": gate, "role": role, "attempt": attempt,
             "at": at, "resolved_at": None}
        )  # fmt: skip
        if not retry:
            self.escalations.append(
                {"gate": gate, "role": role, "attempt": attempt, "reason": reason, "at": at,
                 "resolved_at": None, "decision": None, "by": None}
            )  # fmt: skip

    @event("EscalationResolved")
    def _escalation_resolved(self, index: int, decision: str, by: str, at: str) -> None:
        self.escalations[index].update(resolved_at=at, decision=decision, by=by)

    def _await_if_complete(self, gate: str) -> None:
        """A gate in progress whose proof and roles are complete awaits approval (state only)."""
        if self.gates[gate] != GateState.IN_PROGRESS.value:
            return
        roles = {r.value for r in roles_for(Gate(gate), has_ui=self.has_ui)}
        complete = not missing_artifacts(Gate(gate), [a["kind"] for a in self.artifacts[gate]])
        # Every role's tree built first, so its build (and commit) comes before the approval.
        roles_done = roles <= set(self.done_roles[gate])
        if complete and roles_done:
            self.gates[gate] = GateState.AWAITING_APPROVAL.value


def _key(gate: Gate, role: Role) -> str:
    return f"{gate.value}/{role.value}"
