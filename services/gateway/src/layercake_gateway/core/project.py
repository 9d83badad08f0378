"""The `Project` aggregate: one project's gates, artifacts, attempts, errors and escalations.

Core: no I/O. Each public method decides (checks rules, computes) and then
calls one `@event` method, whose body only changes state, because it runs
again on every replay. The ledger's own decisions (open a gate, request a
heal, escalate) are events of this aggregate too; the relay turns them into
bus events from the store's notification log. It is written in parts, a module
each: the heal policy (`heals.py`), escalations, findings, G0's revisions and
G9's release (`release.py`), prompts; their events keep the topics they were
first stored under (`topics.py`).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import event

from layercake_contracts.values import EscalationKind, Gate, Role
from layercake_gateway.core.attempts import changed_paths
from layercake_gateway.core.errors import GateRuleBroken, LedgerError, MissingArtifacts
from layercake_gateway.core.escalations import Escalations
from layercake_gateway.core.findings import Findings
from layercake_gateway.core.gates import (
    GATE_ORDER,
    REWORKS,
    ArtifactKind,
    GateState,
    missing_artifacts,
    next_gate,
    role_key,
    roles_for,
)
from layercake_gateway.core.heals import HealDecision, Heals
from layercake_gateway.core.prompts import AwaitsAnswers
from layercake_gateway.core.release import IntakeAndRelease

if TYPE_CHECKING:
    from layercake_gateway.core.causes import Seen

# The errors are the ledger's, raised here first: importers find them here too, and the
# heal policy's decision.
__all__ = ["GateRuleBroken", "HealDecision", "LedgerError", "MissingArtifacts", "Project"]
DEFAULT_HEAL_LIMIT = 3
# How many bus event ids a project remembers: duplicates come close together.
APPLIED_MEMORY = 1000
PROJECT_NAMESPACE = uuid.UUID("6a1f0c2e-8d3b-4f5a-9e7c-2b4d6f8a0c1e")


class Project(Heals, Escalations, Findings, IntakeAndRelease, AwaitsAnswers):
    """One project, as its events say it is."""

    # The version of the state a snapshot holds; older snapshots are upcast when read.
    class_version = 4

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Before heals kept attempts: no answers, builds, history, retries, findings, kinds."""
        for name in ("answers", "last_builds", "history", "build_retries"):
            state.setdefault(name, {})
        state.setdefault("findings", [])
        for escalation in state["escalations"]:
            agent = escalation["reason"].startswith("the agent cannot go on")
            kind = EscalationKind.AGENT if agent else EscalationKind.HEAL_LIMIT
            escalation.setdefault("kind", kind.value)

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """Before attempts kept counting across rounds: every round began at attempt 1."""
        state.setdefault("first_attempts", {})
        state.setdefault("release", None)

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        """Before a project kept its run's correlation: the aggregate id was the run's."""
        state.setdefault("correlation_id", None)

    @staticmethod
    def create_id(project_id: str) -> uuid.UUID:
        """The aggregate id of a project, derived from its bus id (one per project)."""
        return uuid.uuid5(PROJECT_NAMESPACE, project_id)

    @event("Started")
    def __init__(  # noqa: PLR0913, PLR0917  # a project's whole intake
        self,
        project_id: str,
        name: str,
        intake: str,
        owner: str,
        has_ui: bool,
        heal_limit: int,
        announce: bool = False,
        correlation_id: str | None = None,  # None: made here, or recorded before runs were kept
        seen: dict[str, Any] | None = None,  # the bus ProjectCreated (see `mark_seen`)
    ) -> None:
        del seen  # kept in the store for `why`; no state to change
        self.created_here = announce  # made through the API: the outbox announces it
        # The run's: every event the ledger issues carries the ProjectCreated's correlation.
        self.correlation_id = correlation_id
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
        # The attempt each role's current round began with (its heal budget counts from
        # there); the numbers themselves keep counting across rounds.
        self.first_attempts: dict[str, int] = {}
        # Where the release goes (G9's proof): {"remote_url", "branch", "by"}.
        self.release: dict[str, str] | None = None
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
        # What a heal needs of earlier attempts (see core/attempts.py), per gate and role:
        # the last answer's facts, the last failed build's, and every attempt's entry.
        self.answers: dict[str, dict[str, Any]] = {}
        self.last_builds: dict[str, dict[str, Any]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}
        # Builds asked again after an infrastructure fault, per gate and role.
        self.build_retries: dict[str, int] = {}
        # What blocks a gate until a person accepts it ("audit unavailable: …").
        self.findings: list[dict[str, Any]] = []

    # -- reading ----------------------------------------------------------------

    def state_of(self, gate: Gate) -> GateState:
        """The state of one gate."""
        return GateState(self.gates[gate.value])

    def missing(self, gate: Gate) -> tuple[str, ...]:
        """The proof `gate` still lacks, and the findings a person has yet to accept."""
        return missing_artifacts(
            gate, [a["kind"] for a in self.artifacts[gate.value]], self._open_findings(gate.value)
        )

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
        return self.manifests.get(role_key(gate, role)) or self.bases.get(gate.value, {})

    def run_id(self) -> uuid.UUID:
        """The run's correlation id: the ProjectCreated's, or the aggregate's when made here."""
        return uuid.UUID(self.correlation_id) if self.correlation_id else self.id

    def has_applied(self, event_id: str) -> bool:
        """Whether the bus event `event_id` already changed this project."""
        return event_id in self.applied

    def mark_seen(self, seen: Seen, *, changed: bool) -> None:
        """Keep what the bus event `seen` was (for `why`); remember it if it changed the project."""
        self._applied(seen.event_id, asdict(seen), changed)

    def attempt_of(self, gate: Gate, role: Role) -> int:
        """The latest attempt of `role` at `gate` (0 before the first)."""
        return self.attempts.get(role_key(gate, role), 0)

    # -- decisions --------------------------------------------------------------

    def approve(self, gate: Gate, by: str, *, announce: bool = False) -> Gate | None:
        """Approve `gate` and open the next; returns the gate opened, if any."""
        state = self.state_of(gate)
        if state not in {GateState.AWAITING_APPROVAL, GateState.IN_PROGRESS}:
            raise GateRuleBroken(gate, state, "awaiting_approval")
        missing = self.missing(gate)
        if missing:
            raise MissingArtifacts(gate, missing)
        self._approved(gate.value, by, announce, self.release if gate is Gate.G9 else None)
        following = next_gate(gate)
        if following is not None:
            roles = [r.value for r in roles_for(following, has_ui=self.has_ui)]
            self._opened(following.value, roles, self.codebase())
        return following

    def reject(
        self, gate: Gate, by: str, reason: str, *, announce: bool = False
    ) -> tuple[Role, ...]:
        """Send the gate's agents back to work with `reason`; returns who reworks.

        A gate with no agents of its own sends back the gate it `REWORKS` (G9: G8,
        whose approval opens G9 again); G0 awaits a revised intake (`revise_intake`).
        Attempt numbers go on counting: the rework is the next attempt.
        """
        state = self.state_of(gate)
        if state is not GateState.AWAITING_APPROVAL:
            raise GateRuleBroken(gate, state, "awaiting_approval")
        rework = REWORKS.get(gate, gate)
        roles = roles_for(rework, has_ui=self.has_ui)
        bases = {r.value: self.base_for(rework, r) for r in roles}
        attempts = {r.value: self.attempt_of(rework, r) + 1 for r in roles}
        if not roles:
            after = GateState.AWAITING_REVISION
        else:
            after = GateState.IN_PROGRESS if rework is gate else GateState.PENDING
        self._rejected(gate.value, by, reason, [r.value for r in roles], announce, bases,
                       rework.value, attempts, after.value)  # fmt: skip
        return roles

    def select_option(self, option: str, by: str, *, announce: bool = False) -> None:
        """Choose one of the G4 design options."""
        state = self.state_of(Gate.G4)
        if state not in {GateState.AWAITING_APPROVAL, GateState.IN_PROGRESS}:
            raise GateRuleBroken(Gate.G4, state, "in_progress or awaiting_approval")
        names = {a["name"] for a in self.artifacts[Gate.G4.value] if a["kind"] == "design_option"}
        if option not in names:
            raise GateRuleBroken(Gate.G4, state, f"one of the options {sorted(names)}")
        chosen = [a["name"] for a in self.artifacts[Gate.G4.value]
                  if a["kind"] == ArtifactKind.SELECTED_DESIGN.value]  # fmt: skip
        if chosen and chosen[-1] == option:
            return  # chosen already: the ledger's own announcement, read back off the bus
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

    def record_tree(
        self,
        gate: Gate,
        role: Role,
        manifest: dict[str, Any],
        answer: dict[str, Any] | None = None,
    ) -> None:
        """A role wrote files: its tree at `gate` is now `manifest` (built or not).

        `answer` (core/attempts.py's `answer_facts`) is what the parser said of it; with
        no changed paths named, they are the diff from where the role started.
        """
        if answer is not None and not answer["changed"]:
            answer = {**answer, "changed": changed_paths(self.base_for(gate, role), manifest)}
        self._tree_written(gate.value, role.value, manifest, answer)

    def record_usage(self, tokens: int, cost_usd: float) -> None:
        """Add one model call's tokens and cost to the project's totals."""
        self._used(tokens, cost_usd)

    # -- state changes (these bodies run again on replay) -----------------------

    # `announce`: a decision made here (the API) is published; one read off the bus is not.
    # Decisions keep it as "here", so an audit shows where each was made.
    @event("GateApproved")
    def _approved(
        self, gate: str, by: str, announce: bool, export: dict[str, str] | None = None
    ) -> None:
        del export  # recorded for the push it asks (G9's release target); no state to change
        self.gates[gate] = GateState.APPROVED.value
        self.decisions.append({"gate": gate, "decision": "approved", "by": by, "here": announce})

    @event("GateOpened")
    def _opened(self, gate: str, roles: list[str], base: dict[str, Any] | None = None) -> None:
        self.bases[gate] = base or {}
        self.gates[gate] = (
            GateState.IN_PROGRESS.value if roles else GateState.AWAITING_APPROVAL.value
        )
        for role in roles:
            self._start_over(f"{gate}/{role}", 1)

    @event("GateRejected")
    def _rejected(  # noqa: PLR0913, PLR0917  # the recorded facts of a rejection
        self,
        gate: str,
        by: str,
        reason: str,
        roles: list[str],
        announce: bool,
        bases: dict[str, dict[str, Any]] | None = None,
        rework: str | None = None,  # None: recorded when a gate reworked only itself
        attempts: dict[str, int] | None = None,  # None: recorded when reworks began at 1
        state: str | None = None,  # None: recorded when a gate of no agents stayed rejected
    ) -> None:
        del bases  # recorded for the announcement of the rework; no state to change
        self.decisions.append(
            {"gate": gate, "decision": "rejected", "by": by, "reason": reason, "here": announce}
        )
        if state is None:
            state = GateState.IN_PROGRESS.value if roles else GateState.REJECTED.value
        self.gates[gate] = state
        rework = rework or gate
        if rework != gate:  # the gate opens again after the rework: its proof is asked anew
            self.gates[rework] = GateState.IN_PROGRESS.value
            self.artifacts[gate] = []
            if gate == Gate.G9.value:
                self.release = None
        self.done_roles[rework] = []
        for role in roles:
            self._start_over(f"{rework}/{role}", (attempts or {}).get(role, 1))

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
        self._keep_artifact(gate, kind, name, blob, facts)

    @event("WorkDone")
    def _work_done(
        self, gate: str, role: str, attempt: int, at: str, manifest: dict[str, Any] | None = None
    ) -> None:
        self.attempts[f"{gate}/{role}"] = attempt
        self.build_retries.pop(f"{gate}/{role}", None)
        if manifest:  # events recorded before trees were kept have none
            self.manifests[f"{gate}/{role}"] = manifest
        if role not in self.done_roles[gate]:
            self.done_roles[gate].append(role)
        self._resolve_errors(gate, role, at)
        self._await_if_complete(gate)

    @event("TreeWritten")
    def _tree_written(
        self, gate: str, role: str, manifest: dict[str, Any], answer: dict[str, Any] | None = None
    ) -> None:
        self.manifests[f"{gate}/{role}"] = manifest
        if answer is not None:  # events recorded before answers were kept have none
            self.answers[f"{gate}/{role}"] = answer

    # Every bus event is kept (`seen`, read by `why` from the store, not held here); the
    # ones that changed the project are remembered. Recorded before: only those, unseen.
    @event("BusEventApplied")
    def _applied(
        self, event_id: str, seen: dict[str, Any] | None = None, changed: bool = True
    ) -> None:
        del seen
        if changed:
            self.applied.append(event_id)
            del self.applied[:-APPLIED_MEMORY]

    @event("UsageRecorded")
    def _used(self, tokens: int, cost_usd: float) -> None:
        self.tokens += tokens
        self.cost_usd += cost_usd

    # -- helpers of the state changes (plain methods: no event of their own) ------

    def _keep_artifact(
        self, gate: str, kind: str, name: str, blob: str | None, facts: dict[str, Any]
    ) -> None:
        kept = [a for a in self.artifacts[gate] if not (a["kind"] == kind and a["name"] == name)]
        kept.append({"kind": kind, "name": name, "blob": blob, "facts": facts})
        self.artifacts[gate] = kept
        self._await_if_complete(gate)

    def _resolve_errors(self, gate: str, role: str, at: str) -> None:
        for entry in self.errors:
            if entry["gate"] == gate and entry["role"] == role and entry["resolved_at"] is None:
                entry["resolved_at"] = at

    def _start_over(self, key: str, attempt: int) -> None:
        """A role starts a round (opened, or rework) at `attempt`, with no history."""
        self.attempts[key] = attempt
        self.first_attempts[key] = attempt
        for kept in (self.answers, self.last_builds, self.history, self.build_retries):
            kept.pop(key, None)

    def _await_if_complete(self, gate: str) -> None:
        """A gate in progress whose proof and roles are complete awaits approval (state only)."""
        if self.gates[gate] != GateState.IN_PROGRESS.value:
            return
        roles = {r.value for r in roles_for(Gate(gate), has_ui=self.has_ui)}
        complete = not self.missing(Gate(gate))
        # Every role's tree built first, so its build (and commit) comes before the approval.
        roles_done = roles <= set(self.done_roles[gate])
        if complete and roles_done:
            self.gates[gate] = GateState.AWAITING_APPROVAL.value
