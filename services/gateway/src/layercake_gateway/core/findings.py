"""Findings: what blocks a gate until a person accepts it ("audit unavailable: …", high ones).

Core: no I/O. A part of the `Project` aggregate (as `IntakeAndRelease` is). A
finding is recorded once while it is open; G7 lacks each open one (`missing`)
until a person accepts them, with a reason, which is kept as G7's audit. The
events keep the topics they were first stored under (`core/topics.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event

from layercake_contracts.values import Gate
from layercake_gateway.core.errors import GateRuleBroken, LedgerError
from layercake_gateway.core.gates import ArtifactKind, GateState
from layercake_gateway.core.topics import keep_topics, stored_as


@keep_topics
class Findings(Aggregate):
    """A project's findings, and who accepted them, over the state `Project` keeps."""

    # What `Project` keeps and does, for the type checker only: at runtime an annotation
    # here would make the library treat this part as an aggregate of its own.
    if TYPE_CHECKING:
        findings: list[dict[str, Any]]

        def state_of(self, gate: Gate) -> GateState:
            """The state of one gate."""

        def _keep_artifact(
            self, gate: str, kind: str, name: str, blob: str | None, facts: dict[str, Any]
        ) -> None: ...

    def record_finding(self, gate: Gate, finding: str, facts: dict[str, Any]) -> None:
        """Something a person must accept before `gate` is approved.

        Once: a finding already recorded at `gate` (open or accepted) is not recorded
        again, and nothing is recorded for a gate already approved (a later gate's build
        that meets the same fault would otherwise reopen a decision made).
        """
        if self.state_of(gate) is GateState.APPROVED:
            return
        if finding not in (f["finding"] for f in self.findings if f["gate"] == gate.value):
            self._found(gate.value, finding, facts)

    def accept_findings(self, by: str, reason: str) -> None:
        """A person accepts G7's high or critical findings, with a reason: the audit passes."""
        state = self.state_of(Gate.G7)
        if state not in {GateState.IN_PROGRESS, GateState.AWAITING_APPROVAL}:
            raise GateRuleBroken(Gate.G7, state, "in_progress or awaiting_approval")
        if not reason.strip():
            raise LedgerError("accepting findings needs a reason")
        self._findings_accepted(Gate.G7.value, by, reason)

    # -- state changes (these bodies run again on replay) -----------------------

    @event("FindingRecorded", topic=stored_as("FindingRecorded"))
    def _found(self, gate: str, finding: str, facts: dict[str, Any]) -> None:
        self.findings.append(
            {**facts, "gate": gate, "finding": finding, "accepted_by": None, "reason": None}
        )

    @event("FindingsAccepted", topic=stored_as("FindingsAccepted"))
    def _findings_accepted(self, gate: str, by: str, reason: str) -> None:
        for finding in self.findings:
            if finding["gate"] == gate and finding["accepted_by"] is None:
                finding.update(accepted_by=by, reason=reason)
        facts = {"accepted_by": by, "reason": reason}
        self._keep_artifact(gate, ArtifactKind.AUDIT.value, "accepted findings", None, facts)

    # -- helpers of the state changes (plain methods: no event of their own) ------

    def _open_findings(self, gate: str) -> list[str]:
        return [f["finding"] for f in self.findings if f["gate"] == gate and not f["accepted_by"]]
