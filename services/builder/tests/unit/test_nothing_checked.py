"""A check of nothing says so (issue #16, item 8): a step with nothing to run is "skipped" with
its reason, and a build that checked nothing it was asked to fails, naming why."""

from __future__ import annotations

from layercake_builder.core.outcome import assessed, finished
from layercake_builder.core.plan import plan_build
from layercake_contracts.events import BuildFailed, BuildSucceeded, FilesWritten, ProjectCreated
from layercake_contracts.values import FileEntry, Gate, Manifest, Role, Step, StepResult

LOOKED_FOR = "looked for package.json, pyproject.toml, requirements.txt"


def request(gate: Gate = Gate.G5) -> FilesWritten:
    root = ProjectCreated(project_id="calc", name="calc", intake="a calculator", owner="ada")
    manifest = Manifest({"a.py": FileEntry(sha256="a" * 64, size=1)})
    return FilesWritten.follow(root, role=Role.BACKEND_DEVELOPER, gate=gate, attempt=1,
                               manifest=manifest)  # fmt: skip


def ran(step: Step) -> StepResult:
    return StepResult(step=step, command=(step.value,), exit_code=0, duration_s=1)


def test_a_python_project_without_a_linter_has_its_lint_step_skipped_with_the_reason():
    """No ruff or mypy configured: the plan runs no lint and says it skips it, and why."""
    files = {"requirements.txt": "", "calc.py": "", "test_calc.py": ""}
    plan = plan_build(list(files), files, (Step.LINT,))
    assert plan.of(Step.LINT) == ()
    [skipped] = plan.skipped
    assert (skipped.step, skipped.toolchain) == (Step.LINT, "python")
    assert skipped.reason.startswith("no linter configured")


def test_a_node_project_without_a_test_script_has_its_test_step_skipped_per_toolchain():
    """`web/` has no test script, `server/` has tests: only `node:web`'s test is skipped."""
    files = {
        "web/package.json": '{"name": "web"}',
        "server/requirements.txt": "",
        "server/test_a.py": "",
    }
    plan = plan_build(list(files), files, (Step.TEST,))
    assert [(s.step, s.toolchain, s.reason) for s in plan.skipped] == [
        (Step.TEST, "node:web", "no test script in package.json")
    ]


def test_a_skipped_step_is_reported_as_skipped_and_does_not_fail_the_build():
    """Lint skipped beside a test that ran: BuildSucceeded, its lint result skipped, not failed."""
    files = {"requirements.txt": "", "calc.py": "", "test_calc.py": ""}
    plan = plan_build(list(files), files, (Step.LINT, Step.TEST))
    results = assessed(plan, (ran(Step.INSTALL), ran(Step.TEST)), (Step.LINT, Step.TEST), "x")
    outcome = finished(request(), results)
    assert isinstance(outcome, BuildSucceeded)
    assert [(r.step, r.skipped is not None) for r in outcome.results] == [
        (Step.INSTALL, False),
        (Step.LINT, True),
        (Step.TEST, False),
    ]
    lint = outcome.results[1]
    assert (lint.exit_code, lint.command, lint.ok) == (None, (), True)


def test_a_build_where_every_asked_step_was_skipped_fails_saying_nothing_was_checked():
    """`--steps lint` on a project without a linter: the install ran, but nothing asked for did."""
    files = {"requirements.txt": "", "calc.py": ""}
    plan = plan_build(list(files), files, (Step.LINT,))
    results = assessed(plan, (ran(Step.INSTALL),), (Step.LINT,), "the tree")
    outcome = finished(request(), results)
    assert isinstance(outcome, BuildFailed)
    assert (outcome.failed_step, outcome.fault) == (Step.LINT, None)
    [diagnostic] = outcome.diagnostics
    assert diagnostic.code == "nothing_checked"
    assert diagnostic.message.startswith(
        "nothing was checked: every step asked for was skipped (lint: no linter configured"
    )


def test_a_tree_of_code_with_no_toolchain_fails_saying_no_toolchain_was_found():
    """Python files but no manifest: BuildFailed for the model to heal, naming what it looked for."""
    files = {"calc.py": "", "test_calc.py": "", "docs/prd.md": ""}
    plan = plan_build(list(files), files)
    assert (plan.toolchains, plan.steps) == ((), ())
    outcome = finished(request(), assessed(plan, (), tuple(Step), "the tree"))
    assert isinstance(outcome, BuildFailed)
    assert outcome.fault is None, "the project's to mend: it needs a manifest"
    [diagnostic] = outcome.diagnostics
    assert diagnostic.code == "no_toolchain"
    assert diagnostic.message == (
        f"no toolchain found in the tree ({LOOKED_FOR}); it holds code: calc.py, test_calc.py"
    )


def test_a_tree_of_documents_only_passes_with_every_step_skipped_as_nothing_to_build():
    """G1's PRD: no code, no toolchain; a pass that says each step was skipped, and why."""
    files = {"docs/prd.md": "", "design/option-a.html": "", "docs/openapi.yaml": ""}
    plan = plan_build(list(files), files)
    outcome = finished(request(Gate.G2), assessed(plan, (), tuple(Step), "the tree"))
    assert isinstance(outcome, BuildSucceeded)
    assert [r.step for r in outcome.results] == list(Step)
    assert {r.skipped for r in outcome.results} == {
        f"no toolchain found ({LOOKED_FOR}): documents only, nothing to build"
    }


def test_a_folder_with_no_toolchain_given_to_the_cli_fails_even_with_documents_only():
    """A person asked to build it: documents only is no excuse there (`documents_pass=False`)."""
    files = {"notes.md": ""}
    plan = plan_build(list(files), files)
    results = assessed(plan, (), tuple(Step), "/home/ada/notes", documents_pass=False)
    failed = [r for r in results if not r.ok]
    [diagnostic] = failed[0].diagnostics
    assert diagnostic.message == f"no toolchain found in /home/ada/notes ({LOOKED_FOR})"


def test_with_several_toolchains_the_reasons_nothing_was_checked_name_each_toolchain():
    """A backend and a frontend, neither linting: the message says whose lint was skipped."""
    files = {"web/package.json": '{"name": "web"}', "server/requirements.txt": ""}
    plan = plan_build(list(files), files, (Step.LINT,))
    results = assessed(plan, (ran(Step.INSTALL),), (Step.LINT,), "the tree")
    [diagnostic] = finished(request(), results).diagnostics
    assert diagnostic.message == (
        "nothing was checked: every step asked for was skipped (lint of node:web: no lint script "
        "in package.json; lint of python:server: no linter configured (ruff or mypy: [tool.ruff] "
        "or [tool.mypy] in pyproject.toml, ruff.toml, mypy.ini))"
    )


def test_a_toolchains_skipped_step_comes_before_anothers_that_ran_so_the_last_is_the_run():
    """web's lint failed, server has no linter: the lint results end with web's, which a heal reads."""
    files = {"web/package.json": '{"name": "web", "scripts": {"lint": "eslint ."}}',
             "server/requirements.txt": ""}  # fmt: skip
    plan = plan_build(list(files), files, (Step.LINT,))
    failed = StepResult(step=Step.LINT, command=("npm run lint",), exit_code=1, duration_s=1)
    results = assessed(plan, (ran(Step.INSTALL), ran(Step.INSTALL), failed), (Step.LINT,), "x")
    assert [r.step for r in results][-2:] == [Step.LINT, Step.LINT]
    assert results[-1] == failed
    assert results[-2].skipped == (
        "python:server: no linter configured (ruff or mypy: [tool.ruff] or [tool.mypy] in "
        "pyproject.toml, ruff.toml, mypy.ini)"
    )
    outcome = finished(request(), results)
    assert isinstance(outcome, BuildFailed)
    assert outcome.failed_step is Step.LINT
