"""Every event the ledger issues names its cause and keeps the run's correlation (issue #18)."""

from __future__ import annotations

from layercake_contracts.events import (
    AgentRequested,
    BuildFailed,
    CommitCreated,
    GateApproved,
    GateOpened,
    HealRequested,
    ProjectCreated,
)
from layercake_contracts.values import Diagnostic, Gate, Manifest, Role, Step, StepResult
from layercake_gateway.core.causes import Seen, caused_by, causes, decided_here, named
from layercake_gateway.core.gates import GateState
from layercake_gateway.core.outbox import Recorded, announcements
from layercake_gateway.core.policy import Policy, react
from layercake_gateway.core.project import Project

ROOT = ProjectCreated(project_id="shop", name="shop", intake="i", owner="ada", has_ui=False)
TREE = Manifest.model_validate({"server/app.py": {"sha256": "a" * 64, "size": 10}})
BOOM = Diagnostic.model_validate({"tool": "pytest", "severity": "error", "message": "boom"})


def created() -> Project:
    project = react(None, ROOT, Policy())
    assert project is not None
    project.collect_events()
    return project


def announced(project: Project) -> list:
    return [
        event
        for e in project.collect_events()
        for event in announcements(Recorded.of(e, project.project_id, project.run_id()))
    ]


def test_a_heal_names_the_failed_build_behind_it_and_the_projects_run():
    """The HealRequested's cause is the BuildFailed the ledger reacted to; its run, the intake's."""
    project = created()
    project.gates[Gate.G5.value] = GateState.IN_PROGRESS.value
    failed = BuildFailed.follow(
        ROOT, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=1, manifest=TREE,
        results=(StepResult(step=Step.TEST, command=("pytest",), exit_code=1, duration_s=0.1,
                            diagnostics=(BOOM,)),),
        failed_step=Step.TEST,
    )  # fmt: skip
    react(project, failed, Policy())
    caused_by(project.pending_events, failed.event_id)
    [heal] = announced(project)
    assert isinstance(heal, HealRequested)
    assert heal.causation_id == failed.event_id
    assert heal.correlation_id == ROOT.correlation_id


def test_an_approval_made_here_opens_a_gate_that_names_it_and_asks_agents_naming_the_gate():
    """GateApproved (a person's, no cause) → GateOpened → each AgentRequested."""
    project = created()
    project.approve(Gate.G0, "ada", announce=True)
    decided_here(project.pending_events, project.id)
    approved, opened, *asked = announced(project)
    assert isinstance(approved, GateApproved)
    assert approved.causation_id is None
    assert isinstance(opened, GateOpened)
    assert opened.causation_id == approved.event_id
    assert asked
    assert all(isinstance(a, AgentRequested) for a in asked)
    assert {a.causation_id for a in asked} == {opened.event_id}
    assert {e.correlation_id for e in (approved, opened, *asked)} == {ROOT.correlation_id}


def test_a_record_announced_again_gives_the_same_ids_and_causes():
    """A replay of the outbox re-issues the very same events: the stream keeps them once."""
    project = created()
    project.approve(Gate.G0, "ada", announce=True)
    decided_here(project.pending_events, project.id)
    records = [Recorded.of(e, "shop", project.run_id()) for e in project.collect_events()]
    first = [(e.event_id, e.causation_id) for r in records for e in announcements(r)]
    again = [(e.event_id, e.causation_id) for r in records for e in announcements(r)]
    assert first == again


def test_a_project_made_here_runs_under_its_own_id():
    """Without a bus ProjectCreated, the run's correlation is the project's aggregate id."""
    project = Project(project_id="p", name="p", intake="i", owner="ada", has_ui=False,
                      heal_limit=3, announce=True)  # fmt: skip
    decided_here(project.pending_events, project.id)
    [made] = announced(project)
    assert isinstance(made, ProjectCreated)
    assert made.correlation_id == project.id
    assert made.causation_id is None


def test_every_bus_event_is_seen_even_one_that_changes_nothing():
    """A CommitCreated changes no gate, yet the ledger keeps what it was and what caused it."""
    project = created()
    commit = CommitCreated.follow(ROOT, sha="b" * 40, branch="main", files_changed=1,
                                  role=Role.BACKEND_DEVELOPER, gate=Gate.G5, trailer="t")  # fmt: skip
    react(project, commit, Policy())
    [kept] = [vars(e)["seen"] for e in project.collect_events()]
    assert kept["event_id"] == str(commit.event_id)
    assert kept["cause"] == str(ROOT.event_id)
    assert not project.has_applied(str(commit.event_id))


def test_the_chain_of_causes_walks_back_to_the_decision_and_stops_at_what_was_never_seen():
    """From a commit back to the approval; a cause the ledger never saw ends the chain."""
    line = {
        "c": Seen("c", "CommitCreated", "b", "G1", "git"),
        "b": Seen("b", "BuildSucceeded", "a", "G1", "builder"),
        "a": Seen("a", "GateApproved", None, "G0", "ada"),
        "x": Seen("x", "HealRequested", "never-seen", "G5", "gateway"),
    }
    assert [s.type for s in causes(line, "c")] == [
        "CommitCreated", "BuildSucceeded", "GateApproved",
    ]  # fmt: skip
    assert [s.event_id for s in causes(line, "x")] == ["x"]
    assert causes(line, "unknown") == []


def test_a_chain_that_loops_back_on_itself_ends():
    """Bad data (an event naming a later one) cannot make the walk run forever."""
    line = {"a": Seen("a", "X", "b", None, "s"), "b": Seen("b", "Y", "a", None, "s")}
    assert [s.event_id for s in causes(line, "a")] == ["a", "b"]


def test_an_event_is_named_by_its_id_or_its_commits_sha_but_not_by_a_short_prefix():
    """A commit's sha (7 or more of it) names its CommitCreated; fewer names nothing."""
    line = {"c": Seen("c", "CommitCreated", "b", "G1", "git", sha="abcdef0123" + "0" * 30)}
    assert named(line, "c") == ["c"]
    assert named(line, "ABCDEF0") == ["c"]
    assert named(line, "abcdef") == []
    assert named(line, "nothing-like-it") == []
    told_again = {**line, "d": Seen("d", "CommitCreated", "e", "G9", "git", sha=line["c"].sha)}
    assert named(told_again, "abcdef0") == ["c"], "one commit told twice: the first"
    other = {**line, "f": Seen("f", "CommitCreated", "e", "G9", "git", sha="abcdef0f" + "0" * 32)}
    assert sorted(named(other, "abcdef0")) == ["c", "f"], "two commits: ambiguous"
