"""The two gates with no agents of their own: G0's intake revised, G9's release pushed.

Core: no I/O. A part of the `Project` aggregate (as `AwaitsAnswers` is). A
rejected G0 awaits a revised intake, which G0 then awaits approval with (the
earlier ones stay among its artifacts). An export asked while G9 is open is the
release target, G9's proof: nothing is pushed before G9 is approved, and then
the ledger asks for the push (`core/outbox.py`); an export after G9's approval
is pushed at once. The git service's PushCompleted is kept with the release; a
PushFailed is an escalation of kind `push`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event

from layercake_contracts.values import EscalationKind, Gate, Role
from layercake_gateway.core.errors import GateRuleBroken, LedgerError
from layercake_gateway.core.gates import ArtifactKind, GateState
from layercake_gateway.core.topics import also_stored_as


class IntakeAndRelease(Aggregate):
    """G0's revisions and G9's release, over the state `Project` keeps."""

    # What `Project` keeps and does, for the type checker only: at runtime an annotation
    # here would make the library treat this part as an aggregate of its own.
    if TYPE_CHECKING:
        gates: dict[str, str]
        artifacts: dict[str, list[dict[str, Any]]]
        errors: list[dict[str, Any]]
        decisions: list[dict[str, Any]]
        intake: str
        release: dict[str, str] | None

        def state_of(self, gate: Gate) -> GateState:
            """The state of one gate."""

        def attempt_of(self, gate: Gate, role: Role) -> int:
            """The latest attempt of `role` at `gate`."""

        def _keep_artifact(
            self, gate: str, kind: str, name: str, blob: str | None, facts: dict[str, Any]
        ) -> None: ...
        def _escalate(
            self, gate: str, role: str, attempt: int, reason: str, at: str, kind: EscalationKind
        ) -> None: ...

    def revise_intake(self, intake: str, by: str) -> int:
        """A person revises the intake before G0 is approved; returns the revision's number.

        G0 then awaits approval again, with the new intake as its proof; the earlier
        ones stay among its artifacts.
        """
        state = self.state_of(Gate.G0)
        if state not in {GateState.AWAITING_REVISION, GateState.AWAITING_APPROVAL}:
            raise GateRuleBroken(Gate.G0, state, "awaiting_revision or awaiting_approval")
        if not intake.strip():
            raise LedgerError("the intake is empty (only white space)")
        intakes = [a for a in self.artifacts[Gate.G0.value] if a["kind"] == ArtifactKind.INTAKE]
        revision = 1 + len(intakes)
        self._intake_revised(intake, by, revision)
        return revision

    def ask_export(self, remote_url: str, branch: str, by: str) -> bool:
        """Record where the release goes; True if it is pushed now, False if at G9's approval.

        While G9 is open the target is G9's proof, and nothing is pushed before a person
        approves G9 (then the ledger asks for the push). After the approval it is pushed
        at once; before G9 opens there is no release to push.
        """
        state = self.state_of(Gate.G9)
        if state not in {GateState.AWAITING_APPROVAL, GateState.IN_PROGRESS, GateState.APPROVED}:
            raise GateRuleBroken(Gate.G9, state, "G9 open or approved (the release is G9's)")
        push = state is GateState.APPROVED
        self._export_asked(remote_url, branch, by, push)
        return push

    def record_push(self, remote_url: str, branch: str, sha: str, at: str) -> None:
        """The release reached its remote (the git service's PushCompleted)."""
        self._pushed(remote_url, branch, sha, at)

    def record_push_failure(self, remote_url: str, branch: str, reason: str, at: str) -> None:
        """The push did not happen: escalated, with the git service's reason."""
        attempt = max(1, self.attempt_of(Gate.G8, Role.DEVOPS_ENGINEER))
        self._push_failed(remote_url, branch, f"the push to {remote_url} failed: {reason}", at,
                          attempt)  # fmt: skip

    # -- state changes (these bodies run again on replay) -----------------------

    @event("IntakeRevised")
    def _intake_revised(self, intake: str, by: str, revision: int) -> None:
        self.intake = intake
        self.gates[Gate.G0.value] = GateState.AWAITING_APPROVAL.value
        decision = f"revised the intake ({revision})"
        self.decisions.append({"gate": Gate.G0.value, "decision": decision, "by": by,
                               "here": True})  # fmt: skip
        self._keep_artifact(Gate.G0.value, ArtifactKind.INTAKE.value, f"intake {revision}", None,
                            {"revision": revision, "by": by, "chars": len(intake)})  # fmt: skip

    @event("ExportAsked")
    def _export_asked(self, remote_url: str, branch: str, by: str, push: bool) -> None:
        del push  # recorded for the push it asks now (G9 approved); no state to change
        self.release = {"remote_url": remote_url, "branch": branch, "by": by}
        if self.gates[Gate.G9.value] != GateState.APPROVED.value:
            facts = {"remote_url": remote_url, "branch": branch, "by": by, "pushed": False}
            self._keep_artifact(Gate.G9.value, ArtifactKind.RELEASE.value, "release", None, facts)

    @event("ReleasePushed")
    def _pushed(self, remote_url: str, branch: str, sha: str, at: str) -> None:
        facts = {"remote_url": remote_url, "branch": branch, "sha": sha, "pushed": True, "at": at}
        self._keep_artifact(Gate.G9.value, ArtifactKind.RELEASE.value, "release", None, facts)
        for entry in self.errors:
            if entry.get("tool") == "git" and entry["resolved_at"] is None:
                entry["resolved_at"] = at

    @event("ReleasePushFailed")
    def _push_failed(  # the recorded facts of a push that did not happen
        self, remote_url: str, branch: str, reason: str, at: str, attempt: int
    ) -> None:
        role, gate = Role.DEVOPS_ENGINEER.value, Gate.G9.value
        self.errors.append(
            {"tool": "git", "message": reason, "remote_url": remote_url, "branch": branch,
             "gate": gate, "role": role, "attempt": attempt, "at": at, "resolved_at": None}
        )  # fmt: skip
        self._escalate(gate, role, attempt, reason, at, EscalationKind.PUSH)


# Recorded by `Project` itself before this part was split off (under its topics, then).
also_stored_as(
    IntakeAndRelease, "IntakeRevised", "ExportAsked", "ReleasePushed", "ReleasePushFailed"
)
