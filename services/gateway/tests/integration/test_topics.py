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
import uuid
from pathlib import Path
from urllib.parse import urlparse

from layercake_contracts.events import AnswerAwaited, AnswerGiven
from layercake_contracts.values import EscalationKind, Gate, Role
from layercake_gateway.adapters.ledger import Ledger
from layercake_gateway.core.audit import project_document
from layercake_gateway.core.causes import Seen
from layercake_gateway.core.gates import REQUIREMENTS
from layercake_gateway.core.policy import Policy
from layercake_gateway.core.project import Project

LAYERCAKE = str(Path(sys.executable).parent / "layercake")
PM = Role.PRODUCT_MANAGER
_PROJECT = "layercake_gateway.core.project:Project."
_RELEASE = "layercake_gateway.core.release:IntakeAndRelease."
_PROMPTS = "layercake_gateway.core.prompts:AwaitsAnswers."
# Each event's topic as stored since it was first recorded.
TOPICS = {
    **{name: _PROJECT + name for name in (
        "Started", "GateApproved", "GateOpened", "GateRejected", "OptionSelected",
        "ArtifactRecorded", "FindingRecorded", "FindingsAccepted", "WorkDone", "TreeWritten",
        "AttemptFailed", "BuildFaulted", "BusEventApplied", "UsageRecorded", "AgentFailed",
        "EscalationResolved",
    )},
    **{name: _RELEASE + name
       for name in ("IntakeRevised", "ExportAsked", "ReleasePushed", "ReleasePushFailed")},
    **{name: _PROMPTS + name for name in ("PromptAwaited", "PromptAnswered")},
}  # fmt: skip
ERROR = {"tool": "pytest", "file": "calc.py", "message": "assert -1 == 5"}
FAULT = {"cause": "timeout", "detail": "uv sync: download timed out"}
SEEN = Seen(event_id="e-1", type="BuildFailed", cause=None, gate="G1", who="builder")
AWAITED = AnswerAwaited(project_id="calc", request_id=uuid.uuid4(), number=1, role=PM,
                        gate=Gate.G1, attempt=4, prompt="a" * 64, size=10)  # fmt: skip
GIVEN = AnswerGiven(project_id="calc", request_id=AWAITED.request_id, number=1, answer="b" * 64,
                    size=5, by="ada")  # fmt: skip
FIRST = (
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
    lambda p: p.mark_seen(SEEN, changed=True),
    lambda p: p.record_prompt(AWAITED),
    lambda p: p.record_prompt(GIVEN),
)
LAST = (
    lambda p: p.ask_export("v1", "main", "ada"),
    lambda p: p.record_push("v1", "main", "c" * 40, "t8"),
    lambda p: p.record_push_failure("v1", "main", "the remote is away", "t9"),
)


def proof(gate: Gate) -> list:
    """The decisions that give `gate` its proof (G4: three options, one chosen; G7: a finding
    accepted), then approve it."""
    kinds = [r.kind.value for r in REQUIREMENTS[gate] for _ in range(r.count)]
    chosen = [lambda p: p.select_option("design_option 2", "ada")] if gate is Gate.G4 else []
    accepted = [
        lambda p: p.record_finding(Gate.G7, "audit unavailable: offline", {}),
        lambda p: p.accept_findings("ada", "audited by hand"),
    ] if gate is Gate.G7 else []  # fmt: skip
    recorded = [lambda p, k=k, n=n: p.record_artifact(gate, k, f"{k} {n}", None, {})
                for n, k in enumerate(kinds)]  # fmt: skip
    return [*recorded, *chosen, *accepted, lambda p: p.approve(gate, "ada")]


DECISIONS = (*FIRST, *[d for g in Gate if g not in {Gate.G0, Gate.G9} for d in proof(g)], *LAST)


def record_all(url: str) -> Project:
    """Store a project through every decision above; the project as it is then."""
    ledger = Ledger(url, Policy())
    ledger.create(Project(project_id="calc", name="calc", intake="a calculator", owner="ada",
                          has_ui=False, heal_limit=3))  # fmt: skip
    for decision in DECISIONS:
        ledger.decide("calc", decision)
    return ledger.get("calc")


def replayed(url: str, version: int) -> dict:
    """The state at `version` as `layercake replay` rebuilds it, in a process of its own."""
    env = {**os.environ, "LAYERCAKE_LEDGER_URL": url}
    done = subprocess.run(  # noqa: S603
        [LAYERCAKE, "replay", "calc", "--at", str(version), "--json"], env=env,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def test_every_event_of_a_project_is_stored_under_its_first_topic_and_read_back_elsewhere(
    tmp_path,
):
    """Each event's stored topic is the one it always had; `layercake replay` rebuilds the state."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    live = record_all(url)
    kinds = [e["kind"] for e in live.escalations]
    assert kinds == [EscalationKind.HEAL_LIMIT, EscalationKind.INFRASTRUCTURE,
                     EscalationKind.AGENT, EscalationKind.PUSH]  # fmt: skip
    assert live.gates[Gate.G8.value] == "approved"
    with sqlite3.connect(urlparse(url).path) as store:
        stored = [t for (t,) in store.execute("SELECT topic FROM stored_events ORDER BY rowid")]
    stored = [t for t in stored if t.startswith("layercake_gateway.core.")]  # the deny list aside
    assert stored, "no event of the project was stored"
    assert sorted(set(stored)) == sorted(TOPICS.values())
    assert replayed(url, live.version) == json.loads(json.dumps(project_document(live)))


def test_release_events_stored_before_they_moved_out_of_project_are_read_back(tmp_path):
    """G0's revisions and G9's release were `Project`'s own events once: those topics still load."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    live = record_all(url)
    with sqlite3.connect(urlparse(url).path) as store:
        moved = store.execute(
            "UPDATE stored_events SET topic = replace(topic, ?, ?) WHERE topic LIKE ?",
            (_RELEASE, _PROJECT, _RELEASE + "%"),
        ).rowcount
    assert moved == 4
    assert replayed(url, live.version) == json.loads(json.dumps(project_document(live)))
