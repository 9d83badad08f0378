"""Real project layouts (issue #19): each toolchain builds where its manifest is, installs what
the project declares for its tests, and keeps what it installs out of every tree a tool scans."""

from __future__ import annotations

import json

from layercake_builder.core.confinement import REPORT_FOLDER
from layercake_builder.core.plan import Plan, cache_key, manifest_paths, plan_build
from layercake_builder.core.reports import interpret
from layercake_contracts.values import Step

PACKAGE = json.dumps({"name": "web", "scripts": {"lint": "eslint .", "test": "node --test"}})
SERVER = '[project]\nname = "server"\nversion = "0.1.0"\n'


def argv_of(plan: Plan, step: Step, toolchain: str) -> list[tuple[str, ...]]:
    return [c.argv for p in plan.of(step) if p.toolchain == toolchain for c in p.commands]


def install_line(pyproject: str, *others: str) -> tuple[str, ...]:
    files = {"pyproject.toml": pyproject, **dict.fromkeys(others, "")}
    return argv_of(plan_build(list(files), files), Step.INSTALL, "python")[-1]


def test_a_backend_and_a_frontend_in_folders_are_two_toolchains_named_by_their_folder():
    """`server/pyproject.toml` and `web/package.json` give `python:server` and `node:web`."""
    files = {
        "server/pyproject.toml": SERVER,
        "server/tests/test_a.py": "",
        "web/package.json": PACKAGE,
    }
    plan = plan_build(list(files), files)
    assert plan.toolchains == ("node:web", "python:server")
    assert {(p.step, p.folder) for p in plan.of(Step.TEST)} == {
        (Step.TEST, "web"),
        (Step.TEST, "server"),
    }


def test_manifests_at_the_root_keep_todays_toolchain_names():
    """Both manifests at the root: `node` and `python`, run at the root."""
    files = {"pyproject.toml": SERVER, "package.json": PACKAGE}
    plan = plan_build(list(files), files)
    assert plan.toolchains == ("node", "python")
    assert {p.folder for p in plan.steps} == {""}


def test_a_manifest_in_installed_vendored_or_dot_folders_is_no_toolchain():
    """node_modules, .venv, vendor and a nested member of a toolchain's own folder add none."""
    paths = [
        "web/package.json",
        "web/node_modules/left-pad/package.json",
        "web/packages/ui/package.json",  # an npm workspace member: the root's install covers it
        ".venv/lib/python3.12/site-packages/x/pyproject.toml",
        "vendor/lib/pyproject.toml",
        "apps/api/requirements.txt",
    ]
    plan = plan_build(paths, {"web/package.json": PACKAGE})
    assert plan.toolchains == ("node:web", "python:apps/api")
    assert manifest_paths(paths) == (
        "apps/api/requirements.txt",
        "web/package.json",
        "web/packages/ui/package.json",
    )


def test_the_test_extras_that_exist_are_installed_with_the_project():
    """`dev` and `test` extras are installed with `-e .`; an extra of another name is not."""
    pyproject = (
        SERVER + '[project.optional-dependencies]\ntest = ["httpx"]\ndev = ["ruff"]\ndocs = []\n'
    )
    line = install_line(pyproject)
    assert line[line.index("-e") + 1] == ".[dev,test]"


def test_pep_735_test_groups_are_installed_with_uv_pip_install_group():
    """`[dependency-groups]` dev and tests become `--group dev --group tests`."""
    line = install_line(
        SERVER + '[dependency-groups]\ndev = ["httpx"]\ntests = ["six"]\nlint = []\n'
    )
    groups = [line[i + 1] for i, word in enumerate(line) if word == "--group"]
    assert groups == ["dev", "tests"]


def test_requirements_files_for_tests_are_installed_beside_the_project():
    """requirements.txt and requirements-dev.txt both install, with the project itself."""
    line = install_line(SERVER, "requirements.txt", "requirements-dev.txt")
    assert " ".join(line).count("-r ") == 2
    assert line[line.index("-e") : line.index("-e") + 2] == ("-e", ".")


def test_a_pyproject_without_a_project_table_installs_no_project():
    """A pyproject that only configures tools (ruff) is not installed as a package."""
    line = install_line("[tool.ruff]\nline-length = 100\n", "requirements.txt")
    assert "-e" not in line
    assert "ruff" in line


def test_npm_installs_dev_dependencies_whatever_the_project_configures():
    """`--include=dev` wins over an `.npmrc` with `omit=dev` or NODE_ENV=production."""
    files = {"package.json": PACKAGE, ".npmrc": "omit=dev\n"}
    (install,) = argv_of(plan_build(list(files), files), Step.INSTALL, "node")
    assert "--include=dev" in install


def test_the_python_venv_is_in_the_cache_not_in_any_tree_a_tool_scans():
    """Every Python command names a venv under /cache; none names `.venv` in the tree."""
    files = {"pyproject.toml": SERVER + "[tool.ruff]\n[tool.mypy]\n", "tests/test_a.py": ""}
    plan = plan_build(list(files), files)
    words = [w for p in plan.steps for c in p.commands for w in c.argv]
    assert "/cache/venvs/.venv" in words
    assert not any(w.startswith(".venv") for w in words), words
    assert {i for p in plan.of(Step.INSTALL) for i in p.installs} == {"/cache/venvs/.venv"}


def test_each_folders_venv_is_its_own():
    """`server/` and `worker/` get two venvs, and each PATH starts with its own."""
    files = {"server/pyproject.toml": SERVER, "worker/requirements.txt": ""}
    plan = plan_build(list(files), files)
    assert [p.bins for p in plan.of(Step.INSTALL)] == [
        ("/cache/venvs/server/.venv/bin",),
        ("/cache/venvs/worker/.venv/bin",),
    ]


def test_coverage_data_and_linter_caches_stay_out_of_the_tree():
    """pytest's `.coverage` goes to the report folder; ruff keeps no cache, mypy none either."""
    files = {"pyproject.toml": SERVER + "[tool.ruff]\n[tool.mypy]\n", "tests/test_a.py": ""}
    plan = plan_build(list(files), files)
    (test,) = (c for p in plan.of(Step.TEST) for c in p.commands)
    assert dict(test.env) == {"COVERAGE_FILE": f"{REPORT_FOLDER}/.coverage"}
    ruff, mypy = (c.argv for p in plan.of(Step.LINT) for c in p.commands)
    assert "--no-cache" in ruff
    assert mypy[mypy.index("--cache-dir") + 1] == "/dev/null"


def test_a_change_to_a_manifest_in_a_folder_changes_the_install_key():
    """`web/package.json` keys the install as a root package.json does."""
    before = {"web/package.json": PACKAGE}
    after = {"web/package.json": PACKAGE.replace("web", "web2")}
    assert cache_key(before, {}) != cache_key(after, {})


def test_a_path_a_tool_in_web_reports_is_named_from_the_project_root():
    """eslint's absolute `/workspace/web/src/app.js`, read from web's folder, is `src/app.js`."""
    report = json.dumps(
        [
            {
                "filePath": "/workspace/web/src/app.js",
                "messages": [
                    {"ruleId": "no-undef", "severity": 2, "message": "x", "line": 1, "column": 1}
                ],
            }
        ]
    )
    parsed = interpret("eslint", "", report, None, "/workspace/web")
    assert [d.file for d in parsed.diagnostics] == ["src/app.js"]
