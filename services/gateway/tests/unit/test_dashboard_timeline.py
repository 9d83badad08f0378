"""The gate timeline a project page shows (`dashboard/timeline.py`): pure, a project in, rows out."""

from __future__ import annotations

from datetime import UTC, datetime

from layercake_contracts.values import Gate
from layercake_gateway.adapters.ledger import Decided
from layercake_gateway.core.gates import FINDING
from layercake_gateway.core.project import Project
from layercake_gateway.dashboard.timeline import Decision, decisions, timeline

AT = datetime(2026, 12, 2, 6, 0, 1, tzinfo=UTC)


def _project() -> Project:
    return Project(project_id="calc-1", name="calc", intake="Adds.", owner="ada", has_ui=False,
                   heal_limit=3, announce=True)  # fmt: skip


def test_each_stored_decision_is_said_with_its_gate_who_and_when():
    """Approvals, rejections with their reason, a choice (G4, its echo off the bus left out),
    findings accepted, a release named (G9) and an escalation's resolution (its escalation's
    gate) read as sentences."""
    stored = [
        Decided("GateApproved", AT, {"gate": "G0", "by": "ada"}),
        Decided("GateRejected", AT, {"gate": "G3", "by": "bob", "reason": "no <schema>"}),
        Decided("OptionSelected", AT, {"option": "option-b", "by": "ada", "announce": True}),
        Decided("OptionSelected", AT, {"option": "option-b", "by": "ada", "announce": False}),
        Decided("FindingsAccepted", AT, {"gate": "G7", "by": "ada", "reason": "offline"}),
        Decided("ExportAsked", AT, {"remote_url": "v1", "by": "ada"}),
        Decided(
            "EscalationResolved", AT, {"index": 0, "by": "ada", "decision": "go", "action": "retry"}
        ),
    ]
    said = decisions(stored, [{"gate": "G5"}])
    at = "2026-12-02 06:00:01 UTC"
    assert said == [
        Decision("G0", "approved", "ada", at),
        Decision("G3", "rejected", "bob", at, "no <schema>"),
        Decision("G4", "chose option-b", "ada", at),
        Decision("G7", "accepted the findings", "ada", at, "offline"),
        Decision("G9", "named the release v1", "ada", at),
        Decision("G5", "resolved escalation 0 (retry)", "ada", at, "go"),
    ]


def test_the_first_gate_not_approved_is_current_and_findings_are_apart_from_proof():
    """After G0's approval G1 is current; a finding for G7 is listed as one to accept, not as
    missing proof, and each gate keeps only its own decisions."""
    project = _project()
    project.approve(Gate.G0, "ada")
    project.record_finding(Gate.G7, "audit unavailable: offline", {})
    said = [Decision("G0", "approved", "ada", "t")]
    rows = timeline(project, said)
    assert [r.gate for r in rows] == [g.value for g in Gate]
    assert [r.gate for r in rows if r.current] == ["G1"]
    assert rows[0].decisions == tuple(said)
    assert rows[1].decisions == ()
    assert rows[7].findings == ("audit unavailable: offline",)
    assert not any(m.startswith(FINDING) for m in rows[7].missing)
    assert rows[0].awaits_you is False
