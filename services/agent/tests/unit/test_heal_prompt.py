"""A heal prompt built from a real BuildFailed: what failed, where, and the code around it."""

from __future__ import annotations

import pytest

from layercake_agent.core.context import Context
from layercake_agent.core.heal import excerpt_lines, heal_files
from layercake_agent.core.prompt import build_prompt
from layercake_contracts.events import BuildFailed, HealRequested, ProjectCreated
from layercake_contracts.values import (
    Diagnostic,
    EarlierAttempt,
    Gate,
    Manifest,
    Role,
    Severity,
    Step,
    StepResult,
)

APP = "".join(f"const line{n} = {n};\n" for n in range(1, 31))
TEST = (
    "import { add } from '../src/app';\n\ntest('adds', () => {\n  expect(add(2, 3)).toBe(5);\n});\n"
)
TEXTS = {"src/app.ts": APP, "tests/app.test.ts": TEST}
DIAGNOSTICS = (
    Diagnostic(tool="tsc", severity=Severity.ERROR, file="src/app.ts", line=20, column=7,
               code="TS2322", message="Type 'string' is not assignable to type 'number'."),
    Diagnostic(tool="tsc", severity=Severity.ERROR, file="src/app.ts", line=5,
               code="TS2304", message="Cannot find name 'total'."),
    Diagnostic(tool="eslint", severity=Severity.WARNING, file="tests/app.test.ts", line=4,
               code="no-magic-numbers", message="No magic number: 5."),
    Diagnostic(tool="tsc", severity=Severity.ERROR, message="Found 2 errors in 1 file."),
)  # fmt: skip


def entry(text: str) -> dict[str, object]:
    return {"sha256": "0" * 64, "size": len(text)}


@pytest.fixture
def heal() -> HealRequested:
    project = ProjectCreated(project_id="calc", name="calc", intake="a calculator", owner="ada")
    failed = BuildFailed.follow(
        project, role=Role.FRONTEND_DEVELOPER, gate=Gate.G5, attempt=1,
        manifest=Manifest({path: entry(text) for path, text in TEXTS.items()}),
        results=(
            StepResult(step=Step.INSTALL, command=("npm", "ci"), exit_code=0, duration_s=3.0),
            StepResult(step=Step.BUILD, command=("npx", "tsc"), exit_code=2, duration_s=1.5,
                       diagnostics=(DIAGNOSTICS[0], DIAGNOSTICS[1], DIAGNOSTICS[3])),
            StepResult(step=Step.LINT, command=("npx", "eslint", "."), exit_code=1,
                       duration_s=0.8, diagnostics=(DIAGNOSTICS[2],)),
        ),
        failed_step=Step.BUILD,
    )  # fmt: skip
    return HealRequested.follow(
        failed, role=failed.role, gate=failed.gate, attempt=failed.attempt + 1,
        base=failed.manifest, failed_step=failed.failed_step, diagnostics=failed.diagnostics,
        rejected=({"path": "../etc/passwd", "reason": "'..' leaves the project tree"},),
        history=(EarlierAttempt(attempt=1, changed=("src/app.ts",), outcome="build failed with 2 tsc errors"),),
    )  # fmt: skip


def prompt_task(templates, heal: HealRequested) -> str:
    context = Context(name="", intake="", documents=(), selected_design=None, sizes={}, files={})
    return build_prompt(templates, heal, context, TEXTS).task


def test_each_diagnostic_appears_with_its_file_line_and_message(templates, heal):
    """Every diagnostic of the failed build is named: file, line and message."""
    task = prompt_task(templates, heal)
    for diagnostic in DIAGNOSTICS:
        assert diagnostic.message in task
        if diagnostic.file is not None:
            assert f"### {diagnostic.file}" in task
            assert f"line {diagnostic.line}" in task


def test_the_code_around_each_diagnostic_is_shown_with_line_numbers(templates, heal):
    """Three lines either side of each diagnostic, numbered, the diagnostic's line marked."""
    task = prompt_task(templates, heal)
    for line in (5, 20):
        assert f">{line:>5} | const line{line} = {line};" in task
        for near in (line - 3, line - 1, line + 1, line + 3):
            assert f" {near:>5} | const line{near} = {near};" in task
        assert f"const line{line + 4} = " not in task
    assert ">    4 |   expect(add(2, 3)).toBe(5);" in task
    assert "    1 | import { add } from '../src/app';" in task


def test_diagnostics_are_grouped_by_file_in_line_order(templates, heal):
    """One section per file; within it, line 5 comes before line 20 though tsc said 20 first."""
    task = prompt_task(templates, heal)
    assert task.count("### src/app.ts") == 1
    assert task.index("line 5:") < task.index("line 20, column 7:") < task.index("### tests/")
    assert "Not tied to a file" in task


def test_the_heal_prompt_asks_for_search_replace_edits_and_names_what_failed(templates, heal):
    """It asks for SEARCH/REPLACE edits, names the failed step, refused paths and history."""
    task = prompt_task(templates, heal)
    assert "SEARCH/REPLACE" in task
    assert "<<<<<<< SEARCH" in task
    assert ">>>>>>> REPLACE" in task
    assert "not with whole files" in task
    assert "the step `build` failed" in task
    assert "This is attempt 2." in task
    assert "`../etc/passwd`: '..' leaves the project tree" in task
    assert "attempt 1: build failed with 2 tsc errors" in task


def test_heal_files_are_the_diagnosed_files_of_the_tree_in_order(heal):
    """The shell fetches exactly the files the diagnostics name, once each."""
    assert heal_files(heal) == ("src/app.ts", "tests/app.test.ts")


def test_excerpts_merge_nearby_lines_and_mark_gaps():
    """Windows that touch become one run; separate runs are split by an ellipsis."""
    text = "".join(f"{n}\n" for n in range(1, 21))
    assert excerpt_lines(text, [2, 5, 18], radius=1).splitlines() == [
        "     1 | 1", ">    2 | 2", "     3 | 3",
        "     4 | 4", ">    5 | 5", "     6 | 6",
        "   ...",
        "    17 | 17", ">   18 | 18", "    19 | 19",
    ]  # fmt: skip
