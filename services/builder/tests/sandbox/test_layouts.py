"""Real project layouts, built for real (issue #19): uv and npm install from PyPI and npm through
the egress proxy, pytest, eslint and `node --test` run in the sandbox.

Seen live: a backend's test dependency in a `test`/`dev` extra was never installed, and a
frontend's `eslint .` linted the backend's `.venv/.../coverage_html.js`.
"""

from __future__ import annotations

import json
import os

import pytest

from layercake_builder.errors import FolderRejected
from layercake_contracts.events import BuildFailed, BuildSucceeded
from layercake_contracts.values import Step

from .conftest import PATH

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="slot users need root")

STEPS = (Step.INSTALL, Step.BUILD, Step.LINT, Step.TEST)
# The project's own flat config: no globals, so a browser script (coverage's) breaks no-undef.
ESLINT_CONFIG = 'export default [{ rules: { "no-undef": "error" } }];\n'
NODE_TEST = (
    'import { test } from "node:test";\nimport assert from "node:assert";\n'
    'import { double } from "../src/double.mjs";\n\n'
    'test("doubles", () => { assert.strictEqual(double(2), 4); });\n'
)
PY_TEST = "import six\n\nfrom app import greet\n\n\ndef test_greets():\n    assert greet() == six.u('hi')\n"


def package(name: str) -> str:
    return json.dumps(
        {
            "name": name,
            "version": "1.0.0",
            "private": True,
            "scripts": {"lint": "eslint .", "test": "node --test"},
            "devDependencies": {"eslint": "^9"},
        }
    )


def pyproject(tests_need: str) -> str:
    """A setuptools project whose tests need `six`, declared only where `tests_need` says."""
    return (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "server"\nversion = "0.1.0"\ndependencies = []\n'
        f"{tests_need}\n[tool.setuptools]\npy-modules = ['app']\n"
    )


def python_files(folder: str, tests_need: str) -> dict[str, str]:
    return {
        f"{folder}pyproject.toml": pyproject(tests_need),
        f"{folder}app.py": "def greet():\n    return 'hi'\n",
        f"{folder}tests/test_app.py": PY_TEST,
    }


def node_files(folder: str) -> dict[str, str]:
    return {
        f"{folder}package.json": package("web"),
        f"{folder}eslint.config.mjs": ESLINT_CONFIG,
        f"{folder}src/double.mjs": "export const double = (n) => n * 2;\n",
        f"{folder}test/double.test.mjs": NODE_TEST,
    }


def encoded(files: dict[str, str]) -> dict[str, bytes]:
    return {path: text.encode() for path, text in files.items()}


def by_toolchain(outcome: BuildSucceeded | BuildFailed, step: Step) -> list:
    """The results of `step` that ran (a toolchain with nothing to run for it has a skipped one)."""
    return [r for r in outcome.results if r.step is step and not r.skipped]


async def test_a_backend_and_a_frontend_in_folders_each_build_where_their_manifest_is(builds):
    """`server/` (tests need a `test` extra) and `web/` (eslint, `node --test`) both build; the
    web's lint error is named `web/src/app.mjs`, and neither lints the other's files."""
    files = {
        **python_files("server/", '[project.optional-dependencies]\ntest = ["six"]'),
        # A script of the server's that no-undef would fail, were web's eslint to reach it.
        "server/static/page.js": "document.title = missing;\n",
        **node_files("web/"),
        "web/src/app.mjs": "export const total = notDefined + 1;\n",
    }
    outcome = await builds.build("layout-folders", encoded(files), STEPS)

    assert isinstance(outcome, BuildFailed), "web's lint error fails the build"
    installs = by_toolchain(outcome, Step.INSTALL)
    assert [r.ok for r in installs] == [True, True], [r.output for r in installs]
    tests = by_toolchain(outcome, Step.TEST)
    assert [(r.ok, r.tests and r.tests.passed) for r in tests] == [(True, 1), (True, 1)], [
        r.output for r in tests
    ]
    (lint,) = by_toolchain(outcome, Step.LINT)
    assert {(d.file, d.code) for d in lint.diagnostics if d.file} == {
        ("web/src/app.mjs", "no-undef")
    }, lint.output
    skipped = {(r.step, r.skipped.split(" (")[0]) for r in outcome.results if r.skipped}
    assert skipped == {
        (Step.BUILD, "node:web: no build script and no TypeScript"),
        (Step.LINT, "python:server: no linter configured"),
    }


async def test_a_python_project_whose_tests_need_a_dependency_group_passes(builds):
    """The test dependency is only in PEP 735 `[dependency-groups] test`; uv installs it, and
    the next build of the same manifests reuses the venv in the cache."""
    files = python_files("", '[dependency-groups]\ntest = ["six"]')
    outcome = await builds.build("layout-group", encoded(files), (Step.INSTALL, Step.TEST))

    again = await builds.build("layout-group", encoded(files), (Step.INSTALL, Step.TEST))

    for built in (outcome, again):
        assert isinstance(built, BuildSucceeded), [r.output for r in built.results]
        (test,) = by_toolchain(built, Step.TEST)
        assert test.tests is not None
        assert test.tests.passed == 1
    (install,) = by_toolchain(again, Step.INSTALL)
    assert install.cached, "the venv in the cache is reused under the same install key"


async def test_both_manifests_at_the_root_eslint_sees_no_file_of_the_venv(builds):
    """A pyproject beside package.json: the venv (coverage ships `coverage_html.js`) is not in
    the tree, so the root's `eslint .` passes with no finding; pytest's `.coverage` is not
    left there either."""
    files = {**python_files("", '[project.optional-dependencies]\ndev = ["six"]'), **node_files("")}
    outcome = await builds.build("layout-root", encoded(files), STEPS)

    assert isinstance(outcome, BuildSucceeded), [r.output for r in outcome.results]
    (lint,) = by_toolchain(outcome, Step.LINT)
    assert lint.diagnostics == (), lint.output
    assert [r.tests and r.tests.passed for r in by_toolchain(outcome, Step.TEST)] == [1, 1]


async def test_a_step_of_a_folders_toolchain_starts_in_that_folder(jail):
    """`folder="web"`: the command's working directory is /workspace/web, on each back-end."""
    (jail.project / "web").mkdir()
    async with jail.sandbox.slot(jail.project, jail.cache) as slot:
        done = await jail.sandbox.run(
            ("/bin/pwd",), slot=slot, project=jail.project, cache=jail.cache,
            network=False, timeout_s=30, path=PATH, folder="web",
        )  # fmt: skip
    assert (done.exit_code, done.output.strip()) == (0, "/workspace/web")


@pytest.mark.parametrize("folder", ["..", "../outside", "/etc"])
async def test_a_step_is_never_started_outside_its_project(jail, folder):
    """A folder leading out of the project is refused before anything runs, naming why."""
    async with jail.sandbox.slot(jail.project, jail.cache) as slot:
        with pytest.raises(FolderRejected, match="cannot run in the project's folder"):
            await jail.sandbox.run(
                ("/bin/true",), slot=slot, project=jail.project, cache=jail.cache,
                network=False, timeout_s=30, path=PATH, folder=folder,
            )  # fmt: skip
