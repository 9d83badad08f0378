"""Where a project's events are stored: under the topic each was first stored under, for good.

eventsourcing stores an event under the topic of its class (`module:Class.Event`) and
finds the class again by it on every replay: a topic that moves strands the projects
already stored. A fresh process must read them back.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

from layercake_contracts.values import EscalationKind, Gate, Role
from layercake_gateway.adapters.ledger import Ledger
from layercake_gateway.core.audit import project_document
from layercake_gateway.core.causes import Seen
from layercake_gateway.core.policy import Policy
from layercake_gateway.core.project import Project

LAYERCAKE = str(Path(sys.executable).parent / "layercake")
PM = Role.PRODUCT_MANAGER
_PROJECT = "layercake_gateway.core.project:Project."
_RELEASE = "layercake_gateway.core.release:IntakeAndRelease."
# Each event's topic as stored since it was first recorded.
TOPICS = {
    **{name: _PROJECT + name for name in (
        "Started", "GateApproved", "GateOpened", "GateRejected", "ArtifactRecorded",
        "FindingRecorded", "WorkDone", "TreeWritten", "AttemptFailed", "BuildFaulted",
        "BusEventApplied", "UsageRecorded", "AgentFailed", "EscalationResolved",
    )},
    "IntakeRevised": _RELEASE + "IntakeRevised",
}  # fmt: skip
ERROR = {"tool": "pytest", "file": "calc.py", "message": "assert -1 == 5"}
FAULT = {"cause": "timeout", "detail": "uv sync: download timed out"}
SEEN = Seen(event_id="e-1", type="BuildFailed", cause=None, gate="G1", who="builder")
DECISIONS = (
    lambda p: p.revise_intake("a calculator, said again", "ada"),
    lambda p: p.approve(Gate.G0, "ada"),
    lambda p: p.record_tree(Gate.G1, PM, {}),
    lambda p: p.record_artifact(Gate.G1, "intake_review", "review", None, {}),
    lambda p: p.record_work_done(Gate.G1, PM, 1, "t1"),
    lambda p: p.reject(Gate.G1, "ada", "say more"),
    *[lambda p, n=n: p.record_failure(Gate.G1, PM, n, [ERROR], f"t{n}") for n in (2, 3, 4)],
    lambda p: p.record_build_fault(Gate.G1, PM, 4, FAULT, {}, "t5", retries=0),
    lambda p: p.record_agent_failure(Gate.G1, PM, 4, "401", retryable=False, at="t6"),
    lambda p: p.resolve_escalation(0, "retry", "ada", "t7"),
    lambda p: p.record_usage(120, 0.25),
    lambda p: p.record_finding(Gate.G7, "audit unavailable: offline", {}),
    lambda p: p.mark_seen(SEEN, changed=True),
)


def test_every_event_of_a_project_is_stored_under_its_first_topic_and_read_back_elsewhere(
    tmp_path,
):
    """Each event's stored topic is the one it always had; `layercake replay` rebuilds the state."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger(url, Policy())
    ledger.create(Project(project_id="calc", name="calc", intake="a calculator", owner="ada",
                          has_ui=False, heal_limit=3))  # fmt: skip
    for decision in DECISIONS:
        ledger.decide("calc", decision)
    live = ledger.get("calc")
    kinds = [e["kind"] for e in live.escalations]
    assert kinds == [EscalationKind.HEAL_LIMIT, EscalationKind.INFRASTRUCTURE, EscalationKind.AGENT]
    with sqlite3.connect(urlparse(url).path) as store:
        stored = [t for (t,) in store.execute("SELECT topic FROM stored_events ORDER BY rowid")]
    stored = [t for t in stored if t.startswith("layercake_gateway.core.")]  # the deny list aside
    assert stored, "no event of the project was stored"
    assert sorted(set(stored)) == sorted(TOPICS.values())
    env = {**os.environ, "LAYERCAKE_LEDGER_URL": url}
    replayed = subprocess.run(  # noqa: S603
        [LAYERCAKE, "replay", "calc", "--at", str(live.version), "--json"], env=env,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(replayed.stdout) == json.loads(json.dumps(project_document(live)))
