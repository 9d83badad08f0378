"""What a heal request carries, and which failures are never healed: the ledger's heal policy."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.utils import get_topic

from layercake_contracts.events import (
    BuildFailed,
    BuildRequested,
    BuildSucceeded,
    EscalationRaised,
    ExportRequested,
    FilesRejected,
    FilesWritten,
    HealRequested,
    ProjectCreated,
    PushCompleted,
    PushFailed,
)
from layercake_contracts.values import (
    Diagnostic,
    EscalationKind,
    FaultCause,
    Gate,
    InfrastructureFault,
    Manifest,
    Role,
    Step,
    StepResult,
)
from layercake_gateway.core.gates import GateState
from layercake_gateway.core.outbox import Recorded, announcements, due_at
from layercake_gateway.core.policy import Policy, react
from layercake_gateway.core.project import GateRuleBroken, LedgerError, Project
from layercake_gateway.core.resolutions import RESOLUTIONS, Resolution

ROOT = ProjectCreated(project_id="shop", name="shop", intake="i", owner="ada", has_ui=True)
BACKEND = Role.BACKEND_DEVELOPER
TREE = Manifest.model_validate({"server/app.py": {"sha256": "a" * 64, "size": 10}})
BOOM = Diagnostic.model_validate({"tool": "pytest", "severity": "error", "file": "server/app.py",
                                  "line": 3, "message": "assert 404 == 200"})  # fmt: skip


def at(gate: Gate) -> Project:
    """A project whose gates before `gate` are approved, `gate` in progress."""
    project = react(None, ROOT, Policy())
    assert project is not None
    for g in Gate:
        if g is gate:
            project.gates[g.value] = GateState.IN_PROGRESS.value
            return project
        project.gates[g.value] = GateState.APPROVED.value
    return project


def announced(project: Project) -> list:
    """The bus events the project's new aggregate events announce, in order."""
    return [event for recorded in recorded_events(project) for event in announcements(recorded)]


def recorded_events(project: Project) -> list[Recorded]:
    return [Recorded.of(e, project.project_id, project.run_id()) for e in project.collect_events()]


def failed_build(attempt: int, result: StepResult, **extra: object) -> BuildFailed:
    return BuildFailed.follow(ROOT, role=BACKEND, gate=Gate.G5, attempt=attempt, manifest=TREE,
                              results=(result,), failed_step=result.step, **extra)  # fmt: skip


def collection_error(tmp_path) -> subprocess.CompletedProcess[str]:
    """Real pytest, stopped at collection by a conftest whose import fails (exit 4)."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "conftest.py").write_text("import httpx2_is_not_installed\n")
    (tmp_path / "tests" / "test_app.py").write_text("def test_one():\n    assert True\n")
    return subprocess.run(  # our own interpreter, a fixed command
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_a_build_failed_at_test_with_no_diagnostics_asks_a_heal_with_the_step_command_and_tail(
    tmp_path,
):
    """pytest exit 4 at collection, nothing parsed: the heal names `test`, the command, exit 4 and the error."""
    run = collection_error(tmp_path)
    assert run.returncode == 4, run.stdout + run.stderr
    result = StepResult(step=Step.TEST, command=("uv sync", "pytest -q"), exit_code=run.returncode,
                        duration_s=1.0, output="x" * 20_000 + run.stdout + run.stderr)  # fmt: skip
    project = react(at(Gate.G5), failed_build(1, result), Policy())
    [heal] = announced(project)
    assert isinstance(heal, HealRequested)
    assert (heal.failed_step, heal.command, heal.exit_code) == (Step.TEST, "pytest -q", 4)
    assert "ModuleNotFoundError: No module named 'httpx2_is_not_installed'" in heal.output_tail
    assert len(heal.output_tail) <= 6_000, "the tail is capped"
    assert heal.base == TREE
    [earlier] = heal.history
    assert (earlier.attempt, earlier.failed_step, earlier.command, earlier.exit_code) == (
        1, Step.TEST, "pytest -q", 4,
    )  # fmt: skip
    assert "test failed (exit 4)" in earlier.outcome


def test_a_heal_carries_the_failed_steps_diagnostics_not_an_unavailable_audits_notes():
    """A live walk's heal listed pip-audit's "not audited" note beside mypy's errors: the heal
    carries what failed, and the audit that could not run is no part of it."""
    lint = StepResult(step=Step.LINT, command=("mypy .",), exit_code=1, duration_s=1.0,
                      output="1 error", diagnostics=(BOOM,))  # fmt: skip
    note = Diagnostic.model_validate({"tool": "pip-audit", "severity": "info",
                                      "code": "not-audited", "message": "14 package(s) not audited"})  # fmt: skip
    audit = StepResult(step=Step.AUDIT, command=("pip-audit",), exit_code=1, duration_s=1.0,
                       diagnostics=(note,),
                       fault=InfrastructureFault(cause=FaultCause.ADVISORY, detail="no lookups"))  # fmt: skip
    event = BuildFailed.follow(ROOT, role=BACKEND, gate=Gate.G5, attempt=1, manifest=TREE,
                               results=(lint, audit), failed_step=Step.LINT)  # fmt: skip
    [heal] = announced(react(at(Gate.G5), event, Policy()))
    assert isinstance(heal, HealRequested)
    assert [d.message for d in heal.diagnostics] == [BOOM.message]


def test_with_two_toolchains_the_heal_names_the_test_command_that_failed_not_the_last_to_run():
    """A live walk's G6 heal said "the step `test` failed: `…pytest` exited with code 0", showing
    the backend's passing output: the frontend's `node --test` had failed, and ran first."""
    frontend = StepResult(step=Step.TEST, command=("node --test",), exit_code=1, duration_s=1.0,
                          output="not ok 3 - counts a title in characters")  # fmt: skip
    backend = StepResult(step=Step.TEST, command=("pytest -q",), exit_code=0, duration_s=1.0,
                         output="70 passed")  # fmt: skip
    event = BuildFailed.follow(ROOT, role=BACKEND, gate=Gate.G5, attempt=1, manifest=TREE,
                               results=(frontend, backend), failed_step=Step.TEST)  # fmt: skip
    [heal] = announced(react(at(Gate.G5), event, Policy()))
    assert isinstance(heal, HealRequested)
    assert (heal.command, heal.exit_code) == ("node --test", 1)
    assert "not ok 3" in heal.output_tail
    assert "70 passed" not in heal.output_tail


def test_a_files_rejected_after_a_heal_keeps_the_base_and_the_diagnostics_for_the_next_heal():
    """Attempt 2's answer gave no file: heal 3 keeps attempt 1's tree, diagnostics and step, and says why."""
    project = at(Gate.G5)
    written = FilesWritten.follow(ROOT, role=BACKEND, gate=Gate.G5, attempt=1, manifest=TREE,
                                  changed=("server/app.py",), warnings=("a fence left open",))  # fmt: skip
    result = StepResult(step=Step.TEST, command=("pytest -q",), exit_code=1, duration_s=1.0,
                        output="1 failed", diagnostics=(BOOM,))  # fmt: skip
    project = react(project, written, Policy())
    project = react(project, failed_build(1, result), Policy())
    [first] = [e for e in announced(project) if isinstance(e, HealRequested)]
    assert first.warnings == ("a fence left open",)
    refused = FilesRejected.follow(ROOT, role=BACKEND, gate=Gate.G5, attempt=2,
                                   warnings=("no file came out of the answer",))  # fmt: skip
    project = react(project, refused, Policy())
    [heal] = announced(project)
    assert isinstance(heal, HealRequested)
    assert heal.attempt == 3
    assert heal.base == TREE, "not {}: the tree the last heal was given"
    assert [d.message for d in heal.diagnostics] == ["assert 404 == 200"]
    assert (heal.failed_step, heal.command, heal.exit_code, heal.output_tail) == (
        Step.TEST, "pytest -q", 1, "1 failed",
    )  # fmt: skip
    assert "no file came out of the answer" in heal.warnings
    one, two = heal.history
    assert (one.attempt, one.changed, one.failed_step) == (1, ("server/app.py",), Step.TEST)
    assert [d.message for d in one.diagnostics] == ["assert 404 == 200"]
    assert two.attempt == 2
    assert two.outcome == "the answer had no edits: no file came out of the answer"
    assert project.attempt_of(Gate.G5, BACKEND) == 3, "it still counts as an attempt"


def test_a_registry_fault_is_retried_after_a_wait_never_healed_then_escalated_as_infrastructure():
    """A build that could not reach the registry is requested again (same tree and attempt), then escalates."""
    fault = InfrastructureFault(cause=FaultCause.REGISTRY, detail="npm ERR! 405 Method Not Allowed")
    result = StepResult(step=Step.INSTALL, command=("npm ci",), exit_code=1, duration_s=1.0,
                        fault=fault)  # fmt: skip
    project = at(Gate.G5)
    policy = Policy(build_retries=2)
    for tries in (1, 2):
        failed = failed_build(1, result, fault=fault)
        project = react(project, failed, policy)
        [recorded] = [r for r in recorded_events(project) if announcements(r)]
        [again] = announcements(recorded)
        assert isinstance(again, BuildRequested)
        assert (again.role, again.gate, again.attempt, again.manifest) == (
            BACKEND, Gate.G5, 1, TREE,
        )  # fmt: skip
        waited = due_at(recorded)
        assert waited is not None
        assert waited - failed.occurred_at == timedelta(seconds=tries)
    assert project.attempt_of(Gate.G5, BACKEND) == 0, "a retry is no heal attempt (none made)"
    assert project.errors[-1]["fault"] == "registry"
    project = react(project, failed_build(1, result, fault=fault), policy)
    [escalation] = announced(project)
    assert isinstance(escalation, EscalationRaised)
    assert escalation.kind is EscalationKind.INFRASTRUCTURE
    assert "registry" in escalation.reason
    assert "405 Method Not Allowed" in escalation.reason
    assert project.escalations[-1]["kind"] == "infrastructure"


def test_a_person_retrying_an_infrastructure_escalation_requests_the_build_again():
    """Resolved with "retry": a BuildRequested of the same tree; other decisions build nothing."""
    fault = InfrastructureFault(cause=FaultCause.NETWORK, detail="getaddrinfo ENOTFOUND")
    result = StepResult(step=Step.INSTALL, command=("uv sync",), exit_code=2, duration_s=1.0,
                        fault=fault)  # fmt: skip
    project = react(at(Gate.G5), failed_build(1, result, fault=fault), Policy(build_retries=0))
    announced(project)
    project.resolve_escalation(0, "retry: the proxy is back", by="ada", at="t2")
    [again] = announced(project)
    assert isinstance(again, BuildRequested)
    assert (again.role, again.attempt, again.manifest) == (BACKEND, 1, TREE)


def test_an_audit_that_could_not_run_passes_g5_and_blocks_g7_until_accepted():
    """An advisory fault in G5's audit: G5 passes; G7 shows "audit unavailable: …" until a person accepts it."""
    fault = InfrastructureFault(
        cause=FaultCause.ADVISORY, detail="npm audit: 405 Method Not Allowed"
    )
    results = (
        StepResult(step=Step.TEST, command=("pytest",), exit_code=0, duration_s=1.0),
        StepResult(step=Step.AUDIT, command=("npm audit",), exit_code=1, duration_s=1.0,
                   fault=fault),
    )  # fmt: skip
    project = at(Gate.G5)
    for role in (BACKEND, Role.FRONTEND_DEVELOPER):
        built = BuildSucceeded.follow(ROOT, role=role, gate=Gate.G5, attempt=1, manifest=TREE,
                                      results=results)  # fmt: skip
        project = react(project, built, Policy())
    assert project.state_of(Gate.G5) is GateState.AWAITING_APPROVAL
    assert not [e for e in announced(project) if isinstance(e, HealRequested | EscalationRaised)]
    project.approve(Gate.G5, by="ada")
    project.gates[Gate.G6.value] = GateState.APPROVED.value
    project.gates[Gate.G7.value] = GateState.IN_PROGRESS.value
    project.record_artifact(Gate.G7, "security_review", "docs/security-review.md", None, {})
    project.record_artifact(Gate.G7, "audit", "security_engineer", None, {})
    project.record_work_done(Gate.G7, Role.SECURITY_ENGINEER, 1, "t")
    assert project.missing(Gate.G7) == (
        "accepted finding: audit unavailable: npm audit: 405 Method Not Allowed",
    ), "one finding, though two builds saw it"
    assert project.state_of(Gate.G7) is GateState.IN_PROGRESS
    project.accept_findings(by="ada", reason="the advisory service refuses us; audited by hand")
    assert project.missing(Gate.G7) == ()
    assert project.state_of(Gate.G7) is GateState.AWAITING_APPROVAL
    assert project.findings[0]["accepted_by"] == "ada"
    g7 = BuildSucceeded.follow(ROOT, role=Role.SECURITY_ENGINEER, gate=Gate.G7, attempt=2,
                               manifest=TREE, results=results)  # fmt: skip
    project = react(project, g7, Policy())
    assert project.missing(Gate.G7) == (), "a finding accepted is not reopened by the next build"
    project.approve(Gate.G7, by="ada")
    g8 = BuildSucceeded.follow(ROOT, role=Role.DEVOPS_ENGINEER, gate=Gate.G8, attempt=1,
                               manifest=TREE, results=results)  # fmt: skip
    project = react(project, g8, Policy())
    assert project.missing(Gate.G7) == (), "G8's build reopened G7's accepted finding"
    assert len(project.findings) == 1


def test_each_escalation_says_its_kind():
    """An agent that cannot go on escalates as `agent`; heal rounds used up, as `heal_limit`."""
    project = Project(project_id="p", name="p", intake="i", owner="ada", has_ui=False,
                      heal_limit=1)  # fmt: skip
    project.gates[Gate.G5.value] = GateState.IN_PROGRESS.value
    project.record_agent_failure(Gate.G5, BACKEND, 1, "401 bad key", retryable=False, at="t0")
    project.record_failure(Gate.G5, BACKEND, 1, [], "t1")
    raised = [e for e in announced(project) if isinstance(e, EscalationRaised)]
    assert [e.kind for e in raised] == [EscalationKind.AGENT, EscalationKind.HEAL_LIMIT]
    assert [e["kind"] for e in project.escalations] == ["agent", "heal_limit"]


def test_old_recorded_attempt_failures_still_announce_a_heal():
    """An AttemptFailed recorded before heals carried build facts still becomes a HealRequested."""
    old = Recorded(
        name="AttemptFailed", project_id="p", aggregate_id=Project.create_id("p"), version=9,
        state={"gate": "G5", "role": "backend_developer", "attempt": 1, "at": "t", "heal": True,
               "reason": "attempt 1 of 3 failed", "manifest": {},
               "errors": [{"tool": "pytest", "message": "boom"}], "timestamp": datetime.now()},  # noqa: DTZ005
        correlation_id=Project.create_id("p"),
    )  # fmt: skip
    [heal] = announcements(old)
    assert isinstance(heal, HealRequested)
    assert [d.message for d in heal.diagnostics] == ["boom"]
    assert heal.history[0].outcome == "1 diagnostic(s)"


def test_a_snapshot_taken_before_heals_kept_attempts_is_upcast_when_read():
    """A v1 snapshot (no answers, history, build retries, findings, escalation kinds) reads as v2."""
    project = Project(project_id="p", name="p", intake="i", owner="ada", has_ui=False,
                      heal_limit=3)  # fmt: skip
    project.gates[Gate.G5.value] = GateState.IN_PROGRESS.value
    project.record_agent_failure(Gate.G5, BACKEND, 1, "401 bad key", retryable=False, at="t0")
    state = dict(Snapshot.take(project).state)
    for added in (
        "answers",
        "last_builds",
        "history",
        "build_retries",
        "findings",
        "class_version",
    ):
        state.pop(added, None)
    for escalation in state["escalations"]:
        del escalation["kind"]
    old = Snapshot(originator_id=project.id, originator_version=project.version,
                   timestamp=Snapshot.create_timestamp(), topic=get_topic(Project), state=state)  # fmt: skip
    restored = old.mutate(None)
    assert isinstance(restored, Project)
    assert restored.missing(Gate.G7) == ("security_review", "audit")
    assert [e["kind"] for e in restored.escalations] == ["agent"]
    restored.record_failure(Gate.G5, BACKEND, 1, [], "t1")
    assert restored.history["G5/backend_developer"][0]["attempt"] == 1


def test_a_build_that_passed_starts_the_next_faults_retries_from_one():
    """Retries count one run of faults: after a passing build, a new fault is retry 1 again."""
    fault = InfrastructureFault(cause=FaultCause.TIMEOUT, detail="uv sync: download timed out")
    result = StepResult(step=Step.INSTALL, command=("uv sync",), exit_code=2, duration_s=1.0,
                        fault=fault)  # fmt: skip
    project = react(at(Gate.G5), failed_build(1, result, fault=fault), Policy(build_retries=1))
    passed = BuildSucceeded.follow(ROOT, role=BACKEND, gate=Gate.G5, attempt=1, manifest=TREE,
                                   results=())  # fmt: skip
    project = react(project, passed, Policy(build_retries=1))
    project = react(project, failed_build(1, result, fault=fault), Policy(build_retries=1))
    assert project.errors[-1]["message"].startswith("build retry 1 of 1")
    assert project.escalations == []


def escalated_after_heals(limit: int = 2) -> Project:
    """G5's backend failed `limit` attempts: escalated as `heal_limit`, announcements read."""
    project = at(Gate.G5)
    project.heal_limit = limit
    for attempt in range(1, limit + 1):
        result = StepResult(step=Step.TEST, command=("pytest",), exit_code=1, duration_s=1.0,
                            diagnostics=(BOOM,))  # fmt: skip
        project = react(project, failed_build(attempt, result), Policy(heal_limit=limit))
    project.heal_limit = limit
    assert [e["kind"] for e in project.escalations] == ["heal_limit"]
    announced(project)
    return project


def test_retrying_a_heal_limit_escalation_heals_again_with_a_fresh_budget():
    """ "retry": a HealRequested for the next attempt, carrying the last failure; then 2 more heals."""
    project = escalated_after_heals()
    project.resolve_escalation(0, "try once more", by="ada", at="t2", action=Resolution.RETRY)
    [heal] = announced(project)
    assert isinstance(heal, HealRequested)
    assert (heal.gate, heal.role, heal.attempt) == (Gate.G5, BACKEND, 3)
    assert [d.message for d in heal.diagnostics] == ["assert 404 == 200"]
    decision = project.record_failure(Gate.G5, BACKEND, 3, [], "t3")
    assert (decision.heal, decision.next_attempt) == (True, 4)
    assert "since attempt 3" not in decision.reason
    assert not project.record_failure(Gate.G5, BACKEND, 4, [], "t4").heal


def test_a_decision_on_a_heal_limit_escalation_is_the_roles_rework_reason():
    """A decision in words: the role is asked again (next attempt), told the decision."""
    project = escalated_after_heals()
    project.resolve_escalation(0, "drop the cache layer", by="ada", at="t2")
    [again] = announced(project)
    assert again.type == "AgentRequested"
    assert (again.gate, again.role, again.attempt) == (Gate.G5, BACKEND, 3)
    assert again.instructions == "Decided by ada: drop the cache layer"
    assert again.base == TREE
    assert project.escalations[0]["action"] == "decide"


def test_skipping_an_escalation_marks_the_role_done_and_the_gate_awaits_approval_if_proven():
    """ "skip": nothing runs; the role is done, its errors resolved, G5 awaits with its proof."""
    project = escalated_after_heals()
    project.record_work_done(Gate.G5, Role.FRONTEND_DEVELOPER, 1, "t1")  # the project has a UI
    project.record_artifact(Gate.G5, "build", "by hand", None, {})
    assert project.state_of(Gate.G5) is GateState.IN_PROGRESS
    assert project.resolve_escalation(0, "skip", by="ada", at="t2") is Resolution.SKIP
    assert announced(project) == []
    assert project.state_of(Gate.G5) is GateState.AWAITING_APPROVAL
    assert all(e["resolved_at"] == "t2" for e in project.errors)


def test_retrying_an_agent_escalation_asks_the_agent_again_with_fresh_retries():
    """An agent that could not go on, retried: the same attempt asked again, retries from 0."""
    project = at(Gate.G5)
    project.record_agent_failure(Gate.G5, BACKEND, 1, "no recording", retryable=False, at="t0")
    announced(project)
    project.resolve_escalation(0, "retry", by="ada", at="t1")
    [again] = announced(project)
    assert again.type == "AgentRequested"
    assert (again.gate, again.role, again.attempt) == (Gate.G5, BACKEND, 1)
    assert again.instructions == "Asked again by ada: retry"
    assert project.agent_retries == {}
    with pytest.raises(LedgerError, match="no open escalation number 0"):
        project.resolve_escalation(0, "retry", by="ada", at="t2")


def test_a_decision_on_an_agent_escalation_is_recorded_and_runs_nothing():
    """Only a heal-limit escalation's decision is sent to the role; an agent's is kept."""
    project = at(Gate.G5)
    project.record_agent_failure(Gate.G5, BACKEND, 1, "401 bad key", retryable=False, at="t0")
    announced(project)
    project.resolve_escalation(0, "the key is renewed tomorrow", by="ada", at="t1")
    assert announced(project) == []
    assert project.escalations[0]["decision"] == "the key is renewed tomorrow"


def test_every_kind_of_escalation_says_what_each_resolution_does():
    """`layercake escalations` shows these: none is left unexplained."""
    assert set(RESOLUTIONS) == set(EscalationKind)
    assert all(set(told) == set(Resolution) for told in RESOLUTIONS.values())


def at_g9(export: bool = True) -> Project:
    """A project whose gates up to G8 are approved; G9 awaits its release target."""
    project = at(Gate.G9)
    project.gates[Gate.G9.value] = GateState.AWAITING_APPROVAL.value
    project.attempts["G8/devops_engineer"] = 2
    if export:
        assert project.ask_export("v1", "main", by="ada") is False
    announced(project)
    return project


def test_an_export_asked_at_g9_is_its_proof_and_nothing_is_pushed_before_the_approval():
    """The target is recorded (G9 may be approved); no ExportRequested goes out yet."""
    project = at_g9(export=False)
    assert project.missing(Gate.G9) == ("release",)
    project.ask_export("v1", "main", by="ada")
    assert announced(project) == []
    assert project.missing(Gate.G9) == ()
    [release] = project.artifacts[Gate.G9.value]
    assert release["facts"] == {"remote_url": "v1", "branch": "main", "by": "ada", "pushed": False}


def test_approving_g9_announces_the_approval_then_the_push_of_the_recorded_target():
    """GateApproved first (git tags the release), then ExportRequested to the target."""
    project = at_g9()
    project.approve(Gate.G9, by="ada", announce=True)
    approved, export = announced(project)
    assert (approved.type, approved.gate) == ("GateApproved", Gate.G9)
    assert (export.type, export.remote_url, export.branch) == ("ExportRequested", "v1", "main")


def test_an_export_asked_before_g9_opens_is_refused():
    """Before G9 there is no release: a 409 names the gate and what is expected."""
    project = at(Gate.G5)
    with pytest.raises(GateRuleBroken, match="G9 is pending"):
        project.ask_export("v1", "main", by="ada")


def test_an_export_asked_after_g9_is_approved_is_pushed_at_once():
    """A second remote after the release: ExportRequested follows the request."""
    project = at_g9()
    project.approve(Gate.G9, by="ada")
    announced(project)
    assert project.ask_export("https://forge.example/ada/shop.git", "main", by="ada") is True
    [export] = announced(project)
    assert export.remote_url == "https://forge.example/ada/shop.git"


def test_a_completed_push_is_recorded_with_the_release_and_a_failed_one_escalates():
    """PushCompleted: the release's sha; PushFailed: an escalation of kind push, with the reason."""
    project = at_g9()
    project.approve(Gate.G9, by="ada")
    export = ExportRequested.follow(ROOT, remote_url="v1")
    failed = PushFailed.follow(export, remote_url="v1", branch="main", reason="remote hung up")
    project = react(project, failed, Policy())
    [escalation] = [e for e in announced(project) if isinstance(e, EscalationRaised)]
    assert escalation.kind is EscalationKind.PUSH
    assert escalation.reason == "the push to v1 failed: remote hung up"
    assert project.errors[-1]["tool"] == "git"
    project.resolve_escalation(0, "retry", by="ada", at="t5")
    [again] = announced(project)
    assert (again.type, again.remote_url) == ("ExportRequested", "v1")
    pushed = PushCompleted.follow(export, remote_url="v1", branch="main", sha="c" * 40)
    project = react(project, pushed, Policy())
    [release] = project.artifacts[Gate.G9.value]
    assert (release["facts"]["sha"], release["facts"]["pushed"]) == ("c" * 40, True)
    assert project.errors[-1]["resolved_at"] is not None


def test_rejecting_g9_sends_g8_back_with_the_reason_and_opens_g9_again_after_g8():
    """The devops engineer works again (the next attempt, told why); G9 waits, then reopens."""
    project = at_g9()
    rework_roles = project.reject(Gate.G9, by="ada", reason="no health check", announce=True)
    assert rework_roles == (Role.DEVOPS_ENGINEER,)
    rejected, rework = announced(project)
    assert rejected.type == "GateRejected"
    assert (rework.type, rework.gate, rework.role, rework.attempt) == (
        "AgentRequested", Gate.G8, Role.DEVOPS_ENGINEER, 3)  # fmt: skip
    assert rework.instructions == "G9 rejected by ada: no health check"
    assert project.state_of(Gate.G9) is GateState.PENDING
    assert project.state_of(Gate.G8) is GateState.IN_PROGRESS
    project.record_work_done(Gate.G8, Role.DEVOPS_ENGINEER, 3, "t6")
    project.record_artifact(Gate.G8, "deployment", "devops_engineer", None, {})
    assert project.approve(Gate.G8, by="ada") is Gate.G9
    assert project.state_of(Gate.G9) is GateState.AWAITING_APPROVAL
    assert project.missing(Gate.G9) == ("release",), "the release is asked anew"


def test_rejecting_g0_waits_for_a_revised_intake_which_g0_then_awaits_approval_with():
    """G0 rejected: awaiting_revision; the revision is announced, G0 awaits approval again."""
    project = react(None, ROOT, Policy())
    project.reject(Gate.G0, by="ada", reason="say who uses it")
    assert project.state_of(Gate.G0) is GateState.AWAITING_REVISION
    with pytest.raises(GateRuleBroken, match="awaiting_approval"):
        project.approve(Gate.G0, by="ada")
    with pytest.raises(LedgerError, match="white space"):
        project.revise_intake(" \n\t", by="ada")
    assert project.revise_intake("a shop for bakers", by="ada") == 2
    assert project.state_of(Gate.G0) is GateState.AWAITING_APPROVAL
    assert [a["name"] for a in project.artifacts[Gate.G0.value]] == ["intake", "intake 2"]
    [revised] = [e for e in announced(project) if e.type == "IntakeRevised"]
    assert (revised.intake, revised.by, revised.revision) == ("a shop for bakers", "ada", 2)
    assert project.approve(Gate.G0, by="ada") is Gate.G1
    with pytest.raises(GateRuleBroken, match="G0 is approved"):
        project.revise_intake("too late", by="ada")


def test_attempts_keep_counting_across_a_rejection_and_the_heal_budget_starts_over():
    """Rework after attempt 2 is attempt 3; it may fail twice more before escalating (limit 3)."""
    project = at(Gate.G5)
    project.gates[Gate.G5.value] = GateState.AWAITING_APPROVAL.value
    project.attempts.update({"G5/backend_developer": 2, "G5/frontend_developer": 1})
    project.reject(Gate.G5, by="ada", reason="no pagination")
    requested = {e.role: e.attempt for e in announced(project) if e.type == "AgentRequested"}
    assert requested == {BACKEND: 3, Role.FRONTEND_DEVELOPER: 2}
    assert project.record_failure(Gate.G5, BACKEND, 3, [], "t1").heal
    assert project.record_failure(Gate.G5, BACKEND, 4, [], "t2").heal
    last = project.record_failure(Gate.G5, BACKEND, 5, [], "t3")
    assert not last.heal
    assert last.reason == "3 attempts failed since attempt 3; the heal limit is 3"
