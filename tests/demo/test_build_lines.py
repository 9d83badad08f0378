"""What the demo's running display says of a build (issue #16, item 8: a check of nothing)."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
from rich.console import Console

from layercake.demo import Demo, Shipped
from layercake_contracts.events import BuildFailed, BuildSucceeded, ProjectCreated
from layercake_contracts.values import Diagnostic, Gate, Manifest, Role, Severity, Step, StepResult

NO_TOOLCHAIN = "no toolchain found in the tree (looked for package.json); it holds code: a.py"


def demo() -> tuple[Demo, io.StringIO]:
    shown = io.StringIO()
    console = Console(file=shown, width=200, color_system=None)
    project = Shipped(name="tally", intake="a wc", has_ui=False, tests=())
    client = httpx.AsyncClient()
    return Demo(client, "tally-1", Path(), yes=True, console=console, project=project), shown


def outcome(kind: type[BuildSucceeded | BuildFailed], *results: StepResult, **more: object):
    root = ProjectCreated(project_id="tally", name="tally", intake="a wc", owner="ada")
    return kind.follow(
        root, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=1, manifest=Manifest(),
        results=results, **more,
    )  # fmt: skip


def test_a_build_that_failed_for_want_of_a_toolchain_is_shown_with_its_reason():
    """No BuildStarted came (no toolchain ran), yet the failure and its diagnostic are shown."""
    diagnostic = Diagnostic(tool="builder", severity=Severity.ERROR, message=NO_TOOLCHAIN)
    failed = StepResult(step=Step.INSTALL, command=(), exit_code=None, duration_s=0,
                        diagnostics=(diagnostic,))  # fmt: skip
    skipped = StepResult(step=Step.INSTALL, command=(), exit_code=None, duration_s=0,
                         skipped="no toolchain found")  # fmt: skip
    shown_demo, shown = demo()
    shown_demo.show(outcome(BuildFailed, skipped, failed, failed_step=Step.INSTALL))
    assert "build failed at install (install skipped + 0.0 s)" in shown.getvalue()
    assert NO_TOOLCHAIN in shown.getvalue()
    assert shown_demo.progress.failed_builds == 1


def test_a_documents_only_build_shows_nothing():
    """A pass with nothing built (no BuildStarted with toolchains) is no line of the display."""
    shown_demo, shown = demo()
    skipped = StepResult(step=Step.BUILD, command=(), exit_code=None, duration_s=0,
                         skipped="documents only")  # fmt: skip
    shown_demo.show(outcome(BuildSucceeded, skipped))
    assert shown.getvalue() == ""


def test_two_toolchains_builds_show_each_step_once_and_add_up_their_tests():
    """A live walk's G6 line read "test 2.2 s, test 5.2 s … 51 passed": the frontend's count
    alone, the backend's 70 left out, and a failing test's message cut mid-word."""
    message = "the title is valid, as the API accepts it: " + "Expected values to be equal " * 8
    boom = Diagnostic(tool="node --test", severity=Severity.ERROR, message=message)
    first = StepResult(step=Step.TEST, command=("node --test",), exit_code=1, duration_s=2.2,
                       tests={"passed": 50, "failed": 1}, diagnostics=(boom,))  # fmt: skip
    second = StepResult(step=Step.TEST, command=("pytest -q",), exit_code=0, duration_s=5.2,
                        tests={"passed": 70, "failed": 0})  # fmt: skip
    shown_demo, shown = demo()
    shown_demo.show(outcome(BuildFailed, first, second, failed_step=Step.TEST))
    text = " ".join(shown.getvalue().split())
    assert "(test 2.2 s + 5.2 s; 120 passed, 1 failed)" in text
    assert text.endswith("Expected values to be equal…"), "cut at a word"
