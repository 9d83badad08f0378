"""A build that could not run still ends in BuildFailed, whose diagnostic names the cause."""

from __future__ import annotations

from layercake_builder.core.outcome import Crash, crashed, derived_id
from layercake_contracts.events import BuildFailed, FilesWritten, ProjectCreated
from layercake_contracts.values import FileEntry, Gate, Manifest, Role, Step


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
    [diagnostic] = outcome.diagnostics
    assert (diagnostic.tool, diagnostic.code) == ("builder", "tree_unusable")
    assert diagnostic.message == (
        "the build stopped while materialising the tree: RecursionError: maximum recursion depth"
    )


def test_a_build_stopped_by_the_sandbox_says_so():
    """The sandbox's failure has its own code, so a person can tell it from the tree's."""
    outcome = crashed(request(), Step.TEST, Crash.SANDBOX, PermissionError(13, "denied"))
    [diagnostic] = outcome.diagnostics
    assert diagnostic.code == "sandbox_failed"
    assert "running the steps: PermissionError" in diagnostic.message
