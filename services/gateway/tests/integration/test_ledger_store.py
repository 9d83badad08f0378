"""The ledger on both stores: exactly once per message, and one winner per decision."""

from __future__ import annotations

import threading

import pytest

from layercake_contracts.events import (
    ArtifactRecorded,
    BuildFailed,
    BuildSucceeded,
    GateApproved,
    ProjectCreated,
)
from layercake_contracts.values import Diagnostic, Gate, Manifest, Role, Severity, Step, StepResult
from layercake_gateway.adapters.ledger import SNAPSHOT_INTERVAL, Ledger, UnknownProject
from layercake_gateway.core.gates import GateState
from layercake_gateway.core.policy import Policy
from layercake_gateway.core.project import GateRuleBroken

TIMESTAMPS = {"_created_on", "_modified_on"}


def flow() -> list:
    """A recorded flow: intake to G3 approved, then a failing and a passing build at G5."""
    root = ProjectCreated(project_id="calc", name="calc", intake="a calculator", owner="ada")
    result = StepResult(
        step=Step.TEST, command=("pytest",), exit_code=1, duration_s=1.0,
        diagnostics=(Diagnostic(tool="pytest", severity=Severity.ERROR, file="calc.py", line=2,
                                message="assert -1 == 5"),),
    )  # fmt: skip
    events = [root, GateApproved.follow(root, gate=Gate.G0, by="ada")]
    for gate, kinds in ((Gate.G1, ["intake_review"]), (Gate.G2, ["prd"]),
                        (Gate.G3, ["openapi", "data_schema"])):  # fmt: skip
        events += [ArtifactRecorded.follow(root, gate=gate, kind=k, name=k) for k in kinds]
        events.append(GateApproved.follow(root, gate=gate, by="ada"))
    common = {"role": Role.BACKEND_DEVELOPER, "gate": Gate.G5, "manifest": Manifest()}
    events.append(
        BuildFailed.follow(root, **common, attempt=1, results=(result,), failed_step=Step.TEST)
    )
    events.append(BuildSucceeded.follow(root, **common, attempt=2, results=()))
    return events


def state(ledger: Ledger) -> dict:
    project = ledger.get("calc")
    return {k: v for k, v in project.__dict__.items() if k not in TIMESTAMPS}


def test_every_message_delivered_twice_gives_the_same_state_as_once(store_url, tmp_path):
    """Each position recorded twice (also out of order) changes nothing the second time."""
    once = Ledger(f"sqlite:///{tmp_path / 'once.db'}", Policy())
    twice = Ledger(store_url, Policy())
    events = flow()
    for position, event in enumerate(events, start=1):
        assert once.record(event, position)
    for position, event in enumerate(events, start=1):
        assert twice.record(event, position)
        assert not twice.record(event, position)
        if position > 1:
            assert not twice.record(events[position - 2], position - 1)
    assert state(twice) == state(once)
    assert twice.get("calc").version == once.get("calc").version
    project = twice.get("calc")
    assert project.state_of(Gate.G3) is GateState.APPROVED
    assert [e["resolved_at"] is not None for e in project.errors] == [True]


def test_a_project_read_back_in_a_new_process_equals_the_live_one(store_url):
    """A second ledger on the same store rebuilds the same state from the events."""
    live = Ledger(store_url, Policy())
    for position, event in enumerate(flow(), start=1):
        live.record(event, position)
    assert state(Ledger(store_url, Policy())) == state(live)


def test_two_approvals_of_one_gate_at_the_same_moment_one_wins(store_url):
    """Both read the same state; the first write wins, the second reads again and is refused."""
    ledger = Ledger(store_url, Policy())
    ledger.record(flow()[0], 1)
    both_read = threading.Barrier(2)
    outcomes: list[str] = []
    # Two gateway processes, as two replicas would be (made one after the other:
    # creating the tables at the same moment is a race of its own).
    replicas = {"ada": Ledger(store_url, Policy()), "bob": Ledger(store_url, Policy())}

    def approve(by: str) -> None:
        tries = []

        def decision(project):
            tries.append(project.version)
            if len(tries) == 1:
                both_read.wait(timeout=10)
            project.approve(Gate.G0, by=by)

        try:
            replicas[by].decide("calc", decision)
            outcomes.append("approved")
        except GateRuleBroken:
            outcomes.append(f"refused after reading again ({len(tries)} reads)")

    threads = [threading.Thread(target=approve, args=(who,)) for who in ("ada", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(outcomes) == ["approved", "refused after reading again (2 reads)"]
    project = ledger.get("calc")
    assert project.state_of(Gate.G0) is GateState.APPROVED
    assert len([d for d in project.decisions if d["decision"] == "approved"]) == 1


def test_an_unknown_project_is_named(store_url):
    """Reading a project that was never created says which."""
    with pytest.raises(UnknownProject, match="ghost"):
        Ledger(store_url, Policy()).get("ghost")


def test_snapshots_are_taken_as_a_project_grows_and_read_back_the_same(store_url):
    """Each bus event stores two (its effect and its id): snapshots still come every interval."""
    live = Ledger(store_url, Policy())
    root = ProjectCreated(project_id="calc", name="calc", intake="a calculator", owner="ada")
    live.record(root, 1)
    for n in range(2, 3 * SNAPSHOT_INTERVAL // 2):
        note = ArtifactRecorded.follow(root, gate=Gate.G1, kind="note", name=f"n{n}")
        assert live.record(note, n)
    version = live.get("calc").version
    snapshots = list(live.app.snapshots.get(live.get("calc").id))  # type: ignore[union-attr]
    assert version > 2 * SNAPSHOT_INTERVAL
    crossed = [s.originator_version // SNAPSHOT_INTERVAL for s in snapshots]
    assert crossed == list(range(1, version // SNAPSHOT_INTERVAL + 1)), "one per interval"
    assert state(Ledger(store_url, Policy())) == state(live)
