"""A build that could not run still ends in BuildFailed, whose diagnostic names the cause."""

from __future__ import annotations

from layercake_builder.core.outcome import Crash, crashed, derived_id, finished
from layercake_contracts.events import BuildFailed, BuildSucceeded, FilesWritten, ProjectCreated
from layercake_contracts.values import (
    FaultCause,
    FileEntry,
    Gate,
    InfrastructureFault,
    Manifest,
    Role,
    Step,
    StepResult,
)

REFUSED = InfrastructureFault(cause=FaultCause.ADVISORY, detail="npm audit: 405 Method Not Allowed")


def request() -> FilesWritten:
    root = ProjectCreated(project_id="calc", name="calc", intake="a calculator", owner="ada")
    manifest = Manifest({"a.py": FileEntry(sha256="a" * 64, size=1)})
    return FilesWritten.follow(
        root, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=2, manifest=manifest,
        changed=("a.py",),
    )  # fmt: skip


def test_a_build_stopped_by_its_tree_fails_at_its_first_step_naming_the_error():
    """The step it was to run first, no exit code, and a builder diagnostic with the error's type."""
    asked = request()
    outcome = crashed(asked, Step.INSTALL, Crash.TREE, RecursionError("maximum recursion depth"))
    assert isinstance(outcome, BuildFailed)
    assert outcome.event_id == derived_id(asked, "finished")  # a redelivery publishes the same
    assert (outcome.failed_step, outcome.attempt, outcome.causation_id) == (
        Step.INSTALL, 2, asked.event_id,
    )  # fmt: skip
    [result] = outcome.results
    assert result.exit_code is None
    assert outcome.diagnostics == (), "ours, not the project's: nothing for a heal"
    [diagnostic] = result.diagnostics
    assert (diagnostic.tool, diagnostic.code) == ("builder", "tree_unusable")
    assert diagnostic.message == (
        "the build stopped while materialising the tree: RecursionError: maximum recursion depth"
    )


def test_a_build_stopped_by_the_sandbox_says_so():
    """The sandbox's failure has its own code, so a person can tell it from the tree's."""
    outcome = crashed(request(), Step.TEST, Crash.SANDBOX, PermissionError(13, "denied"))
    [diagnostic] = outcome.results[0].diagnostics
    assert diagnostic.code == "sandbox_failed"
    assert "running the steps: PermissionError" in diagnostic.message


def test_a_crashed_build_carries_a_sandbox_fault_for_the_ledger_to_retry():
    """Tree or sandbox, a crash is ours: the BuildFailed and its one result carry a SANDBOX fault."""
    for where in Crash:
        outcome = crashed(request(), Step.INSTALL, where, OSError(28, "No space left"))
        assert isinstance(outcome, BuildFailed)
        assert outcome.fault is not None
        assert outcome.fault.cause is FaultCause.SANDBOX
        assert where.value in outcome.fault.detail
        assert outcome.results[0].fault == outcome.fault


def result(step: Step, exit_code: int, fault: InfrastructureFault | None = None) -> StepResult:
    return StepResult(
        step=step, command=(step.value,), exit_code=exit_code, duration_s=1, fault=fault
    )


def test_an_audit_that_could_not_run_leaves_the_build_passing_with_its_fault():
    """A refused audit is no failed build: BuildSucceeded, the audit's result keeps the fault."""
    results = (result(Step.INSTALL, 0), result(Step.TEST, 0), result(Step.AUDIT, 1, REFUSED))
    outcome = finished(request(), results)
    assert isinstance(outcome, BuildSucceeded)
    assert outcome.results[-1].fault == REFUSED


def test_a_failed_step_with_a_fault_fails_the_build_with_that_fault():
    """An install the registry refused is a BuildFailed whose fault the ledger retries."""
    refused = InfrastructureFault(cause=FaultCause.REGISTRY, detail="npm E403: 403 Forbidden")
    outcome = finished(request(), (result(Step.INSTALL, 1, refused),))
    assert isinstance(outcome, BuildFailed)
    assert (outcome.failed_step, outcome.fault) == (Step.INSTALL, refused)


def test_a_projects_own_failure_fails_the_build_without_a_fault():
    """A failing test beside a refused audit: BuildFailed at test, for the model, no fault."""
    results = (result(Step.TEST, 1), result(Step.AUDIT, 1, REFUSED))
    outcome = finished(request(), results)
    assert isinstance(outcome, BuildFailed)
    assert (outcome.failed_step, outcome.fault) == (Step.TEST, None)


def test_a_fault_in_any_failed_step_wins_over_the_projects_failure():
    """Lint failed and the test's runner could not start: healing lint cannot help, so: the fault."""
    missing = InfrastructureFault(cause=FaultCause.TOOLCHAIN, detail="/usr/bin/node is missing")
    outcome = finished(request(), (result(Step.LINT, 1), result(Step.TEST, 1, missing)))
    assert isinstance(outcome, BuildFailed)
    assert (outcome.failed_step, outcome.fault) == (Step.TEST, missing)
