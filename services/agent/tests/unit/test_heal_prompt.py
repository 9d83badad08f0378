"""A heal prompt that shows what failed: the step, command and exit code, where, the code around
it, the command's output with the noise cut, and what each earlier attempt changed.

The pytest collection failure is a real pytest run over a conftest that cannot
import; the npm and uv outputs are real runs captured in `fixtures/` (see its README).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from layercake_agent.core.context import Context
from layercake_agent.core.heal import clean_output, excerpt_lines, heal_files
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
    assert "This is attempt 2 at gate G5." in task
    assert "`../etc/passwd`: '..' leaves the project tree" in task
    assert "attempt 1 changed `src/app.ts`; no build ran: build failed with 2 tsc errors" in task


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


FIXTURES = Path(__file__).with_name("fixtures")
PROJECT = ProjectCreated(project_id="notes", name="notes", intake="a notes API", owner="ada")
CONFTEST = "import layercake_no_such_module\n"
EMPTY = Context(name="", intake="", documents=(), selected_design=None, sizes={}, files={})


@pytest.fixture(scope="module")
def collection_failure(tmp_path_factory) -> tuple[int, str]:
    """A real pytest run that stops at collection: its exit code and its coloured output."""
    root = tmp_path_factory.mktemp("project")
    (root / "server" / "tests").mkdir(parents=True)
    (root / "server" / "tests" / "conftest.py").write_text(CONFTEST)
    (root / "server" / "tests" / "test_notes.py").write_text("def test_x():\n    assert True\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--color=yes", "-p", "no:cacheprovider",
         "server/tests"],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return run.returncode, run.stdout + run.stderr


def heal_of(**fields: object) -> HealRequested:
    base = Manifest(
        {"server/tests/conftest.py": entry(CONFTEST), "server/app.py": entry("app = 1\n")}
    )
    return HealRequested.follow(
        PROJECT, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=2, base=base, **fields
    )


def test_a_collection_failure_shows_the_step_command_exit_code_and_the_error(
    templates, collection_failure
):
    """No diagnostic parsed: the prompt names `test`, the command, exit 4 and the ImportError."""
    code, output = collection_failure
    assert code == 4
    heal = heal_of(failed_step=Step.TEST, command="uv run pytest -q", exit_code=code,
                   output_tail=output)  # fmt: skip
    task = build_prompt(templates, heal, EMPTY, {}).task
    assert "the step `test` failed" in task
    assert "`uv run pytest -q` exited with code 4" in task
    assert "ModuleNotFoundError: No module named 'layercake_no_such_module'" in task
    assert "none (no build ran)" not in task
    assert "\x1b[" not in task


def test_a_file_the_output_names_is_shown_though_no_diagnostic_names_it(collection_failure):
    """The conftest the traceback points at is fetched for the prompt."""
    _, output = collection_failure
    heal = heal_of(failed_step=Step.TEST, output_tail=output)
    assert heal_files(heal) == ("server/tests/conftest.py",)


def test_with_nothing_named_the_files_the_last_attempt_changed_are_shown():
    """An answer with no diagnostics and no output still leaves the model its files."""
    history = (EarlierAttempt(attempt=1, changed=("server/app.py",), outcome="no edits"),)
    assert heal_files(heal_of(history=history)) == ("server/app.py",)


def test_when_no_build_ran_the_prompt_says_so_with_the_parser_warnings(templates):
    """A refused or empty answer: no step is named, and the parser's words are shown."""
    heal = heal_of(warnings=("the last answer had no edits: no file came out",))
    task = build_prompt(templates, heal, EMPTY, {}).task
    assert "No build ran" in task
    assert "the last answer had no edits: no file came out" in task
    assert "none (no build ran)" not in task


def test_history_entries_show_the_files_changed_and_what_then_failed(templates):
    """Each earlier attempt: its files, the step, command and exit code, its top diagnostics."""
    found = Diagnostic(tool="ruff", severity=Severity.ERROR, file="server/app.py", line=3,
                       code="F401", message="`os` imported but unused")  # fmt: skip
    history = (
        EarlierAttempt(attempt=1, changed=("server/app.py", "server/db.py"),
                       failed_step=Step.LINT, command="ruff check .", exit_code=1,
                       outcome="lint failed with 1 error", diagnostics=(found,)),
        EarlierAttempt(attempt=2, outcome="the answer had no edits"),
    )  # fmt: skip
    heal = heal_of(failed_step=Step.TEST, exit_code=1, history=history).model_copy(
        update={"attempt": 3}
    )
    task = build_prompt(templates, heal, EMPTY, {}).task
    assert "attempt 1 changed `server/app.py`, `server/db.py`" in task
    assert "`lint` failed (`ruff check .`, exit code 1): lint failed with 1 error" in task
    assert "server/app.py line 3: error F401 (ruff): `os` imported but unused" in task
    assert "attempt 2 changed no file; no build ran: the answer had no edits" in task


def test_the_output_tail_is_trimmed_when_diagnostics_parsed(templates, collection_failure):
    """With diagnostics, the output is still shown, but shorter than without."""
    _, output = collection_failure
    long_output = "\n".join(f"line {n} of the log" for n in range(200)) + "\n" + output
    found = Diagnostic(tool="pytest", severity=Severity.ERROR, file="server/tests/conftest.py",
                       line=1, message="ModuleNotFoundError")  # fmt: skip
    plain = heal_of(failed_step=Step.TEST, output_tail=long_output)
    with_diagnostics = heal_of(failed_step=Step.TEST, output_tail=long_output,
                               diagnostics=(found,))  # fmt: skip
    texts = {"server/tests/conftest.py": CONFTEST}
    without = build_prompt(templates, plain, EMPTY, texts).task
    trimmed = build_prompt(templates, with_diagnostics, EMPTY, texts).task
    assert "No module named 'layercake_no_such_module'" in trimmed
    assert trimmed.count("of the log") < without.count("of the log")


def test_npm_noise_is_cut_and_the_error_lines_kept():
    """npm's `http fetch` lines and colours go; the node error and the counts stay."""
    raw = (FIXTURES / "npm-install-then-node-test.log").read_text()
    kept = clean_output(raw, max_lines=40)
    assert "http" not in kept
    assert "\x1b" not in kept
    assert "Error [ERR_MODULE_NOT_FOUND]: Cannot find module 'src/nope.js'" in kept
    assert "# fail 1" in kept


def test_uv_install_chatter_is_cut():
    """uv's Resolved/Installed lines and its package list say nothing of a failure."""
    raw = (FIXTURES / "uv-sync.log").read_text()
    kept = clean_output(raw, max_lines=40)
    assert "Resolved" not in kept
    assert "Installed" not in kept
    assert "iniconfig==" not in kept


def test_a_long_output_keeps_its_end_and_its_earlier_error_lines():
    """A bounded number of lines from the end, and the error lines cut above them."""
    raw = (
        "Traceback: ValueError: early\n" + "".join(f"ok {n}\n" for n in range(100)) + "\n\n\nend\n"
    )
    kept = clean_output(raw, max_lines=10).splitlines()
    assert kept[0] == "Traceback: ValueError: early"
    assert kept[-1] == "end"
    assert "ok 50" not in kept
    assert len(kept) <= 12
    assert kept[-3:] == ["ok 99", "", "end"]  # a blank run is one blank line
