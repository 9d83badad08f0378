"""Every diagnostics parser, fed what the real tool printed on a small broken project.

Each test writes a project into a temporary folder, runs the tool (Node tools
from one shared `npm install`, Python tools from this environment) and checks
the parser's values: file, line, code, message, counts. No tool output is typed
by hand; where an advisory database is out of reach, a local stand-in answers
the tool and the tool still writes its own report; uv resolves against a local
index that has nothing. One run is a fixture file (a package this machine
would have to download), whose first line says how it was made. The failures
real runs hit (issue #19) are here too: pytest stopping at a conftest or at
collection, Vite and esbuild builds, Vitest without its report, npm's and uv's
errors, and the fallback for output no parser reads.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import zipfile
from pathlib import Path

import pytest

from layercake_builder.core.diagnostics.bundler import parse_bundler
from layercake_builder.core.diagnostics.common import MAX_DIAGNOSTICS
from layercake_builder.core.diagnostics.coverage import (
    parse_coverage_json,
    parse_coverage_summary,
)
from layercake_builder.core.diagnostics.eslint import parse_eslint
from layercake_builder.core.diagnostics.fallback import CODE, unexplained_failure
from layercake_builder.core.diagnostics.jest import parse_jest, parse_vitest
from layercake_builder.core.diagnostics.junit import parse_pytest_junit
from layercake_builder.core.diagnostics.node import parse_node_errors
from layercake_builder.core.diagnostics.npm import parse_npm_audit, parse_npm_errors
from layercake_builder.core.diagnostics.pip_audit import parse_pip_audit
from layercake_builder.core.diagnostics.pytest_output import parse_pytest_output
from layercake_builder.core.diagnostics.python import parse_python_tracebacks
from layercake_builder.core.diagnostics.python_lint import parse_mypy, parse_ruff
from layercake_builder.core.diagnostics.typescript import parse_tsc
from layercake_builder.core.diagnostics.uv import parse_uv_errors
from layercake_builder.core.diagnostics.vitest_console import parse_vitest_console
from layercake_builder.core.reports import interpret
from layercake_contracts.values import Diagnostic, Severity, TestCounts


def write(project: Path, files: dict[str, str]) -> str:
    """Write `files` (dedented) into `project`; its path, the root the parsers get."""
    for name, text in files.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return str(project)


def run(
    project: Path | str, *argv: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  # the test's own argv
        argv, cwd=project, capture_output=True, text=True, timeout=120, check=False, env=env
    )


def only(diagnostics: tuple[Diagnostic, ...], **wanted: object) -> Diagnostic:
    """The one diagnostic whose fields have the wanted values."""
    found = [d for d in diagnostics if all(getattr(d, k) == v for k, v in wanted.items())]
    assert len(found) == 1, diagnostics
    return found[0]


# --- tsc ---------------------------------------------------------------------------------------

TS_PROJECT = {
    "tsconfig.json": '{"compilerOptions": {"strict": true, "module": "commonjs"}, "include": ["src"]}',
    "src/index.ts": """\
        // the import below names a module that does not exist
        const n: number = 1;
        import { missing } from './nope';
        function f(x: { a: number }) { return x.a; }
        f({ b: 2 } as unknown as { b: number });
        console.log(n, missing);
    """,
}


def test_tsc_reports_a_missing_module_at_its_import_with_code_ts2307(tmp_path, node_toolbox):
    root = write(tmp_path, TS_PROJECT)
    output = run(root, node_toolbox.bin("tsc"), "--noEmit", "--pretty", "false", "-p", ".").stdout

    missing = only(parse_tsc(output, root), code="TS2307")
    assert (missing.tool, missing.severity) == ("tsc", Severity.ERROR)
    assert (missing.file, missing.line, missing.column) == ("src/index.ts", 3, 25)
    assert missing.message.startswith("Cannot find module './nope'")


def test_tsc_keeps_the_explaining_lines_of_a_message_with_it(tmp_path, node_toolbox):
    root = write(tmp_path, TS_PROJECT)
    output = run(root, node_toolbox.bin("tsc"), "--noEmit", "--pretty", "false", "-p", ".").stdout

    argument = only(parse_tsc(output, root), code="TS2345")
    assert (argument.file, argument.line, argument.column) == ("src/index.ts", 5, 3)
    first, explanation = argument.message.split("\n")
    assert first.startswith("Argument of type '{ b: number; }' is not assignable")
    assert explanation.startswith("Property 'a' is missing")


def test_tsc_pretty_output_reads_the_same_as_plain_output(tmp_path, node_toolbox):
    root = write(tmp_path, TS_PROJECT)
    tsc = (node_toolbox.bin("tsc"), "--noEmit", "-p", ".")
    pretty = run(root, *tsc, "--pretty", "true").stdout
    plain = run(root, *tsc, "--pretty", "false").stdout

    assert "\x1b[" in pretty
    assert parse_tsc(pretty, root) == parse_tsc(plain, root)
    assert len(parse_tsc(plain, root)) == 2


def test_tsc_error_about_the_configuration_has_a_code_but_no_file(tmp_path, node_toolbox):
    root = write(tmp_path, {"tsconfig.json": '{"include": ["src"]}'})
    output = run(root, node_toolbox.bin("tsc"), "--noEmit", "--pretty", "false", "-p", ".").stdout

    (problem,) = parse_tsc(output, root)
    assert (problem.code, problem.file, problem.line) == ("TS18003", None, None)
    assert "No inputs were found in config file 'tsconfig.json'" in problem.message


# --- eslint ------------------------------------------------------------------------------------


def test_eslint_json_gives_each_message_its_rule_severity_and_place(tmp_path, node_toolbox):
    root = write(
        tmp_path,
        {
            "eslint.config.js": """\
                module.exports = [{
                  files: ["**/*.js"],
                  rules: { "no-unused-vars": "error", "no-console": "warn" },
                }];
            """,
            "src/app.js": 'const unused = 1;\nconsole.log("hi");\n',
            "src/broken.js": "const x = ;\n",
        },
    )
    report = run(root, node_toolbox.bin("eslint"), "-f", "json", ".").stdout

    diagnostics = parse_eslint(report, root)
    unused = only(diagnostics, code="no-unused-vars")
    assert (unused.tool, unused.severity) == ("eslint", Severity.ERROR)
    assert (unused.file, unused.line, unused.column) == ("src/app.js", 1, 7)
    assert unused.message == "'unused' is assigned a value but never used."
    console = only(diagnostics, code="no-console")
    assert (console.severity, console.file, console.line) == (Severity.WARNING, "src/app.js", 2)
    parsing = only(diagnostics, file="src/broken.js")
    assert (parsing.code, parsing.severity, parsing.line) == (None, Severity.ERROR, 1)
    assert parsing.message.startswith("Parsing error: Unexpected token")
    assert parse_eslint(report[: len(report) // 2], root) == ()


# --- jest and vitest ---------------------------------------------------------------------------

# The same tests for Jest and Vitest; each file adds its own imports above them.
SUM_TESTS = """\
describe('sum', () => {
  test('adds two numbers', () => {
    expect(sum(1, 2)).toBe(3);
  });
  test('adds zero', () => {
    expect(sum(0, 0)).toBe(0);
  });
  test.skip('later', () => {});
  test('survives null', () => {
    const o = null;
    o.boom();
  });
});
"""
JEST_PROJECT = {
    "package.json": '{"name": "p", "private": true}',
    "src/sum.js": """\
        function sum(a, b) {
          return a - b;
        }

        function unused() {
          return 0;
        }

        module.exports = { sum, unused };
    """,
    "src/sum.test.js": "const { sum } = require('./sum');\n\n" + SUM_TESTS,
    "src/broken.test.js": "const gone = require('./gone');\ntest('never runs', () => {});\n",
}


@pytest.fixture(scope="module")
def jest_run(tmp_path_factory, node_toolbox):
    """One `jest --json --coverage` over JEST_PROJECT: the project root and its two reports."""
    project = tmp_path_factory.mktemp("jest")
    root = write(project, JEST_PROJECT)
    jest = node_toolbox.bin("jest")
    run(root, jest, "--json", "--outputFile=report.json", "--watchman=false", "--coverage",
        "--coverageReporters=json-summary")  # fmt: skip
    summary = (project / "coverage" / "coverage-summary.json").read_text()
    return root, (project / "report.json").read_text(), summary


def test_jest_report_counts_passed_failed_and_skipped_tests(jest_run):
    root, report, _ = jest_run

    # Two failed tests, and one test file that failed to run.
    assert parse_jest(report, root).counts == TestCounts(passed=1, failed=3, skipped=1)


def test_jest_failure_names_the_test_at_its_line_in_the_test_file(jest_run):
    root, report, _ = jest_run

    diagnostics = parse_jest(report, root).diagnostics
    adds = only(diagnostics, line=5)
    assert (adds.tool, adds.severity, adds.file, adds.column) == (
        "jest", Severity.ERROR, "src/sum.test.js", 23
    )  # fmt: skip
    assert adds.message.startswith("sum adds two numbers: ")
    assert "Expected: 3\nReceived: -1" in adds.message
    assert " at " not in adds.message
    null = only(diagnostics, code="TypeError")
    assert (null.file, null.line, null.column) == ("src/sum.test.js", 13, 7)
    assert (
        null.message
        == "sum survives null: TypeError: Cannot read properties of null (reading 'boom')"
    )


def test_jest_test_file_that_cannot_import_is_a_failure_at_its_require(jest_run):
    root, report, _ = jest_run

    broken = only(parse_jest(report, root).diagnostics, file="src/broken.test.js")
    assert (broken.line, broken.column) == (1, 14)
    assert "Cannot find module './gone' from 'src/broken.test.js'" in broken.message


def test_jest_coverage_summary_gives_the_share_of_lines_covered(jest_run):
    _, report, summary = jest_run

    assert parse_coverage_summary(summary) == 66.66  # 2 of the 3 lines of sum.js ran
    assert parse_coverage_summary(report) is None
    assert parse_jest(report[: len(report) // 2], "/").counts == TestCounts()


def test_vitest_report_counts_tests_and_places_each_failure(tmp_path, node_toolbox):
    root = write(
        tmp_path,
        {
            "package.json": '{"name": "p", "private": true, "type": "module"}',
            "src/sum.js": "export function sum(a, b) {\n  return a - b;\n}\n",
            "src/sum.test.js": (
                "import { describe, expect, test } from 'vitest';\n"
                "import { sum } from './sum.js';\n\n" + SUM_TESTS
            ),
            "src/broken.test.js": "import './gone.js';\n",
        },
    )
    node_toolbox.link_into(tmp_path)
    run(root, node_toolbox.bin("vitest"), "run", "--reporter=json", "--outputFile=report.json")

    parsed = parse_vitest((tmp_path / "report.json").read_text(), root)
    assert parsed.counts == TestCounts(passed=1, failed=3, skipped=1)
    adds = only(parsed.diagnostics, code="AssertionError")
    assert (adds.tool, adds.file, adds.line, adds.column) == ("vitest", "src/sum.test.js", 6, 23)
    assert adds.message == (
        "sum adds two numbers: AssertionError: expected -1 to be 3 // Object.is equality"
    )
    null = only(parsed.diagnostics, code="TypeError")
    assert (null.line, null.column) == (14, 7)
    assert null.message.startswith("sum survives null: TypeError: Cannot read properties of null")
    broken = only(parsed.diagnostics, file="src/broken.test.js")
    assert "Cannot find module './gone.js' imported from src/broken.test.js" in broken.message


# --- npm ---------------------------------------------------------------------------------------

VULNERABLE_PACKAGE = {
    "package.json": """\
        {"name": "p", "version": "1.0.0", "private": true,
         "dependencies": {"lodash": "4.17.4", "minimist": "0.0.8"}}
    """,
}
# What the stand-in advisory database answers; npm computes its report from it.
ADVISORIES = {
    "lodash": [
        {"id": 1, "url": "https://github.com/advisories/GHSA-jf85-cpcp-j695",
         "title": "Prototype Pollution in lodash", "severity": "critical",
         "vulnerable_versions": "<4.17.12", "cwe": ["CWE-1321"], "cvss": {"score": 9.1}},
    ],
    "minimist": [
        {"id": 2, "url": "https://github.com/advisories/GHSA-vh95-rmgr-6w4m",
         "title": "Prototype Pollution in minimist", "severity": "moderate",
         "vulnerable_versions": "<0.2.1", "cwe": ["CWE-1321"], "cvss": {"score": 5.6}},
    ],
}  # fmt: skip


@pytest.fixture
def locked_vulnerable_project(tmp_path, node_toolbox) -> str:
    root = write(tmp_path, VULNERABLE_PACKAGE)
    locked = run(root, "npm", "install", "--package-lock-only", "--no-audit", "--no-fund")
    assert locked.returncode == 0, locked.stderr
    return root


def test_npm_audit_names_each_vulnerable_package_with_its_advisory(
    locked_vulnerable_project, node_toolbox, stand_in_service
):
    root = locked_vulnerable_project
    registry = stand_in_service(ADVISORIES, upstream=node_toolbox.registry)
    report = run(root, "npm", "audit", "--json", "--registry", registry).stdout

    lodash, minimist = parse_npm_audit(report, root)
    assert (lodash.tool, lodash.file, lodash.severity) == (
        "npm-audit",
        "package.json",
        Severity.ERROR,
    )
    assert lodash.code == "https://github.com/advisories/GHSA-jf85-cpcp-j695"
    assert lodash.message.startswith("lodash <4.17.12: Prototype Pollution in lodash. Fix: lodash@")
    assert (minimist.severity, minimist.code) == (
        Severity.WARNING, "https://github.com/advisories/GHSA-vh95-rmgr-6w4m"
    )  # fmt: skip
    assert minimist.message.endswith("(a semver-major change).")


def test_npm_audit_against_the_registry_reports_the_old_lodash(
    locked_vulnerable_project, node_toolbox
):
    root = locked_vulnerable_project
    report = run(root, "npm", "audit", "--json").stdout
    diagnostics = parse_npm_audit(report, root)
    if '"vulnerabilities"' not in report:
        pytest.skip(
            "the npm registry reachable from here does not answer audits (it allows only GET); "
            f"the parser read: {[d.message for d in diagnostics]}"
        )

    lodash = next(d for d in diagnostics if d.message.startswith("lodash "))
    assert (lodash.severity, lodash.file) == (Severity.ERROR, "package.json")
    assert "Prototype Pollution" in lodash.message


def test_npm_audit_that_cannot_run_is_a_warning_not_a_pass(tmp_path, node_toolbox):
    root = write(tmp_path, VULNERABLE_PACKAGE)  # no lock file
    report = run(root, "npm", "audit", "--json").stdout

    (warning,) = parse_npm_audit(report, root)
    assert (warning.severity, warning.code, warning.file) == (
        Severity.WARNING,
        "ENOLOCK",
        "package.json",
    )
    assert warning.message == "npm audit could not run: This command requires an existing lockfile."


def test_npm_install_of_a_package_missing_from_the_registry_is_e404_naming_it(
    tmp_path, node_toolbox
):
    root = write(
        tmp_path,
        {
            "package.json": '{"name": "p", "private": true, "dependencies": {"layercake-no-such-package-zz9": "^1.0.0"}}'
        },
    )
    installed = run(root, "npm", "install", "--no-audit", "--no-fund")

    (missing,) = parse_npm_errors(installed.stderr, root)
    assert (missing.tool, missing.code, missing.file) == ("npm", "E404", "package.json")
    assert missing.message.startswith(
        "package layercake-no-such-package-zz9@^1.0.0 is not in the registry"
    )
    assert parse_npm_errors(installed.stdout, root) == ()


def test_npm_install_with_conflicting_peer_dependencies_is_eresolve_naming_both(
    tmp_path, node_toolbox
):
    root = write(
        tmp_path,
        {
            "package.json": '{"name": "p", "version": "1.0.0", "private": true, "dependencies": {"react": "17.0.2", "react-dom": "18.2.0"}}'
        },
    )
    installed = run(root, "npm", "install", "--package-lock-only", "--no-audit", "--no-fund")

    (conflict,) = parse_npm_errors(installed.stderr, root)
    assert (conflict.code, conflict.severity, conflict.file) == (
        "ERESOLVE",
        Severity.ERROR,
        "package.json",
    )
    assert conflict.message.splitlines() == [
        "ERESOLVE unable to resolve dependency tree",
        "While resolving: p@1.0.0",
        "Found: react@17.0.2",
        'Could not resolve dependency: peer react@"^18.2.0" from react-dom@18.2.0',
    ]


# --- node --------------------------------------------------------------------------------------


def test_uncaught_node_error_is_placed_at_the_innermost_frame_of_the_project(tmp_path):
    root = write(
        tmp_path,
        {
            "src/index.js": """\
                const { callTwice } = require('helper');
                const util = require('./util');
                callTwice(() => util.run());
            """,
            "src/util.js": "function run() {\n  const x = undefined;\n  x();\n}\nmodule.exports = { run };\n",
            # An installed package between the crash and the project's code: not the project's.
            "node_modules/helper/index.js": "exports.callTwice = (f) => { f(); f(); };\n",
        },
    )
    crashed = run(root, "node", "src/index.js")

    (error,) = parse_node_errors(crashed.stderr, root)
    assert (error.tool, error.severity, error.code) == ("node", Severity.ERROR, "TypeError")
    assert (error.file, error.line, error.column) == ("src/util.js", 3, 3)
    assert error.message == "TypeError: x is not a function"


def test_node_missing_module_is_placed_at_the_require_past_node_internals(tmp_path):
    root = write(tmp_path, {"src/index.js": "const x = 1;\nrequire('express');\n"})
    crashed = run(root, "node", "src/index.js")

    (error,) = parse_node_errors(crashed.stderr, root)
    assert (error.file, error.line, error.column, error.code) == ("src/index.js", 2, 1, "Error")
    assert error.message.startswith(
        "Error: Cannot find module 'express'\nRequire stack:\n- src/index.js"
    )


def test_node_syntax_error_is_placed_at_the_line_node_points_to(tmp_path):
    root = write(tmp_path, {"src/index.js": "const a = 1;\nconst b = ;\nconsole.log(a, b);\n"})
    crashed = run(root, "node", "src/index.js")

    (error,) = parse_node_errors(crashed.stderr, root)
    assert (error.file, error.line, error.code) == ("src/index.js", 2, "SyntaxError")
    assert error.message == "SyntaxError: Unexpected token ';'"


def test_node_es_module_importing_a_missing_one_names_the_importer(tmp_path):
    root = write(tmp_path, {"src/main.mjs": "import { a } from './nope.js';\nconsole.log(a);\n"})
    crashed = run(root, "node", "src/main.mjs")

    (error,) = parse_node_errors(crashed.stderr, root)
    assert (error.file, error.line, error.code) == ("src/main.mjs", None, "Error")
    assert error.message == (
        "Error [ERR_MODULE_NOT_FOUND]: Cannot find module 'src/nope.js' imported from src/main.mjs"
    )


# --- python tracebacks -------------------------------------------------------------------------

PYTHON_APP = {
    "app/__init__.py": "",
    "app/__main__.py": "from app import util\n\n\ndef main():\n    util.run()\n\n\nmain()\n",
}


def test_python_crash_is_placed_at_the_innermost_frame_of_the_project(tmp_path):
    root = write(
        tmp_path,
        {
            **PYTHON_APP,
            "app/util.py": "import vendored\n\n\ndef run():\n    vendored.parse('{bad')\n",
            # Installed code between the crash and the project's: a venv inside the project.
            ".venv/lib/site-packages/vendored.py": "import json\n\n\ndef parse(text):\n    return json.loads(text)\n",
        },
    )
    env_path = str(tmp_path / ".venv" / "lib" / "site-packages")
    crashed = run(root, sys.executable, "-m", "app", env={**os.environ, "PYTHONPATH": env_path})

    (crash,) = parse_python_tracebacks(crashed.stderr, root)
    assert (crash.tool, crash.severity, crash.code) == ("python", Severity.ERROR, "JSONDecodeError")
    assert (crash.file, crash.line) == ("app/util.py", 5)
    assert crash.message.startswith("json.decoder.JSONDecodeError: Expecting property name")


def test_python_import_error_names_the_missing_module(tmp_path):
    root = write(tmp_path, {**PYTHON_APP, "app/util.py": "import os\nimport missing_dep\n"})
    crashed = run(root, sys.executable, "-m", "app")

    (crash,) = parse_python_tracebacks(crashed.stderr, root)
    assert (crash.file, crash.line, crash.code) == ("app/util.py", 2, "ModuleNotFoundError")
    assert crash.message == "ModuleNotFoundError: No module named 'missing_dep'"


def test_compileall_syntax_error_is_placed_at_its_line(tmp_path):
    root = write(tmp_path, {**PYTHON_APP, "app/util.py": "x = 1\ndef run(:\n    pass\n"})
    compiled = run(root, sys.executable, "-m", "compileall", "-q", ".")

    (error,) = parse_python_tracebacks(compiled.stdout + compiled.stderr, root)
    assert (error.file, error.line, error.code) == ("app/util.py", 2, "SyntaxError")
    assert error.message == "SyntaxError: invalid syntax"


# --- pytest ------------------------------------------------------------------------------------

PYTEST_PROJECT = {
    "pytest.ini": "[pytest]\n",
    "app/__init__.py": "",
    "app/calc.py": """\
        def add(a, b):
            return a - b


        def check(x):
            assert x > 0, "x must be positive"
            return x
    """,
    "tests/test_calc.py": """\
        import pytest

        from app.calc import add, check


        def test_add():
            assert add(2, 1) == 3


        def test_zero():
            assert add(0, 0) == 0


        @pytest.mark.skip(reason="later")
        def test_later():
            pass


        def test_check():
            check(-1)


        class TestGroup:
            def test_lists(self):
                assert [1, 2] == [1, 3]


        @pytest.fixture
        def broken():
            raise RuntimeError("fixture exploded")


        def test_uses_broken(broken):
            pass
    """,
}


def pytest_run(project: Path, *extra: str) -> str:
    """Run pytest in `project`; the JUnit XML it wrote."""
    run(project, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "--junitxml=junit.xml", *extra)  # fmt: skip
    return (project / "junit.xml").read_text()


@pytest.fixture(scope="module")
def pytest_reports(tmp_path_factory):
    """One pytest run with coverage over PYTEST_PROJECT: its root, JUnit XML and coverage JSON."""
    project = tmp_path_factory.mktemp("pytest")
    root = write(project, PYTEST_PROJECT)
    junit = pytest_run(project, "--cov=app", "--cov-report=json:coverage.json")
    return root, junit, (project / "coverage.json").read_text()


def test_pytest_junit_counts_errors_as_failures_and_places_each_assertion(pytest_reports):
    root, junit, _ = pytest_reports

    report = parse_pytest_junit(junit, root)
    assert report.counts == TestCounts(passed=1, failed=4, skipped=1)
    add = only(
        report.diagnostics,
        message="tests.test_calc::test_add: assert 1 == 3\n+  where 1 = add(2, 1)",
    )
    assert (add.tool, add.severity, add.file, add.line, add.code) == (
        "pytest", Severity.ERROR, "tests/test_calc.py", 7, "AssertionError"
    )  # fmt: skip
    lists = only(report.diagnostics, line=25)
    assert lists.message.startswith(
        "tests.test_calc.TestGroup::test_lists: assert [1, 2] == [1, 3]"
    )
    fixture = only(report.diagnostics, code="RuntimeError")
    assert (fixture.file, fixture.line) == ("tests/test_calc.py", 30)
    assert fixture.message == "tests.test_calc::test_uses_broken: RuntimeError: fixture exploded"


def test_pytest_failure_inside_the_code_under_test_is_placed_there(pytest_reports):
    root, junit, _ = pytest_reports

    check = only(parse_pytest_junit(junit, root).diagnostics, file="app/calc.py")
    assert (check.line, check.code) == (6, "AssertionError")
    assert check.message == "tests.test_calc::test_check: AssertionError: x must be positive"


def test_pytest_cut_off_junit_report_keeps_the_tests_before_the_cut(pytest_reports):
    root, junit, _ = pytest_reports

    cut = junit[: junit.index('name="test_check"')]
    assert parse_pytest_junit(cut, root).counts == TestCounts(passed=1, failed=1, skipped=1)


def test_pytest_cov_json_report_gives_the_total_percentage(pytest_reports):
    _, _, coverage = pytest_reports

    # calc.py: 5 statements; all but check's `return x` ran.
    assert parse_coverage_json(coverage) == 80.0
    assert parse_coverage_json(coverage[:-10]) is None


def test_pytest_collection_error_is_a_failure_naming_the_missing_module(tmp_path):
    root = write(
        tmp_path, {"pytest.ini": "[pytest]\n", "tests/test_x.py": "import os\nimport nowhere\n"}
    )
    report = parse_pytest_junit(pytest_run(tmp_path), root)
    assert report.counts == TestCounts(failed=1)
    (error,) = report.diagnostics
    assert (error.file, error.line, error.code) == ("tests/test_x.py", 2, "ModuleNotFoundError")
    assert error.message == "tests.test_x: ModuleNotFoundError: No module named 'nowhere'"


# --- ruff and mypy -----------------------------------------------------------------------------


def ruff(project: str, *rules: str) -> str:
    return run(project, sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated",
               "--output-format", "json", "--select", ",".join(rules), ".").stdout  # fmt: skip


def test_ruff_json_gives_each_violation_its_code_and_place(tmp_path):
    root = write(
        tmp_path,
        {
            "app/main.py": "import os\n\n\ndef f():\n    return undefined_name\n",
            "app/bad.py": "def f(:\n",
        },
    )
    diagnostics = parse_ruff(ruff(root, "F"), root)

    unused = only(diagnostics, code="F401")
    assert (unused.tool, unused.severity, unused.file, unused.line, unused.column) == (
        "ruff", Severity.ERROR, "app/main.py", 1, 8
    )  # fmt: skip
    assert unused.message == "`os` imported but unused"
    undefined = only(diagnostics, code="F821")
    assert (undefined.line, undefined.column) == (5, 12)
    syntax = [d for d in diagnostics if d.file == "app/bad.py"]
    assert (syntax[0].line, syntax[0].code) == (1, "invalid-syntax")


def test_ruff_report_with_more_findings_than_the_cap_keeps_the_first(tmp_path):
    lines = "".join(f"import module_{n}\n" for n in range(MAX_DIAGNOSTICS + 100))
    root = write(tmp_path, {"many.py": lines})
    diagnostics = parse_ruff(ruff(root, "F401"), root)

    assert len(diagnostics) == MAX_DIAGNOSTICS
    assert [d.line for d in diagnostics[:3]] == [1, 2, 3]


MYPY_PROJECT = {
    "app/__init__.py": "",
    "app/main.py": """\
        def f(x: int) -> str:
            return x


        def g() -> None:
            y: int = "s"
            reveal_type(y)
    """,
}


def mypy(project: str, *flags: str) -> str:
    return run(
        project, sys.executable, "-m", "mypy", "--no-incremental", "--strict", *flags, "app"
    ).stdout


def test_mypy_errors_have_code_line_and_column_and_notes_are_information(tmp_path):
    root = write(tmp_path, MYPY_PROJECT)
    diagnostics = parse_mypy(mypy(root, "--show-column-numbers"), root)

    returned = only(diagnostics, code="return-value")
    assert (returned.tool, returned.severity, returned.file, returned.line, returned.column) == (
        "mypy", Severity.ERROR, "app/main.py", 2, 12
    )  # fmt: skip
    assert returned.message == 'Incompatible return value type (got "int", expected "str")'
    assigned = only(diagnostics, code="assignment")
    assert (assigned.line, assigned.column) == (6, 14)
    note = only(diagnostics, severity=Severity.INFO)
    assert (note.line, note.column, note.code, note.message) == (
        7,
        17,
        None,
        'Revealed type is "int"',
    )


def test_mypy_without_columns_gives_lines_only(tmp_path):
    root = write(tmp_path, MYPY_PROJECT)
    diagnostics = parse_mypy(mypy(root), root)

    assert [(d.line, d.column, d.code) for d in diagnostics] == [
        (2, None, "return-value"), (6, None, "assignment"), (7, None, None)
    ]  # fmt: skip


# --- pip-audit ---------------------------------------------------------------------------------

# What the stand-in vulnerability database answers; pip-audit writes its report from it.
OSV_ANSWER = {
    "vulns": [
        {
            "id": "PYSEC-2018-28",
            "aliases": ["CVE-2018-18074", "GHSA-x84v-xcm2-53pg"],
            "summary": "Requests sends Authorization headers on redirects to http URLs",
            "affected": [
                {
                    "package": {"name": "requests", "ecosystem": "PyPI"},
                    "ranges": [
                        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.20.0"}]}
                    ],
                }
            ],
        }
    ]
}


def pip_audit(project: Path, *service: str) -> str:
    return run(project, sys.executable, "-m", "pip_audit", "-r", "requirements.txt", "--no-deps",
               "--disable-pip", "-f", "json", "--progress-spinner", "off",
               "--cache-dir", str(project / "cache"), *service).stdout  # fmt: skip


def test_pip_audit_reports_each_vulnerability_with_its_fix(tmp_path, stand_in_service):
    root = write(tmp_path, {"requirements.txt": "requests==2.19.0\n"})
    osv = stand_in_service(OSV_ANSWER)
    report = pip_audit(tmp_path, "-s", "osv", "--osv-url", f"{osv}v1/query")

    (vulnerability,) = parse_pip_audit(report, root)
    assert (vulnerability.tool, vulnerability.severity, vulnerability.code) == (
        "pip-audit", Severity.ERROR, "PYSEC-2018-28"
    )  # fmt: skip
    assert vulnerability.message == (
        "requests 2.19.0 has PYSEC-2018-28 (CVE-2018-18074, GHSA-x84v-xcm2-53pg); fixed in 2.20.0. "
        "Requests sends Authorization headers on redirects to http URLs"
    )


def test_pip_audit_against_pypi_reports_the_old_requests(tmp_path):
    root = write(tmp_path, {"requirements.txt": "requests==2.19.0\n"})
    report = pip_audit(tmp_path, "-s", "pypi")
    diagnostics = parse_pip_audit(report, root)
    if all(d.severity is Severity.INFO for d in diagnostics):
        pytest.skip(
            "PyPI's per-release JSON, which pip-audit's PyPI service reads, is not reachable "
            f"from here; the parser read: {[d.message for d in diagnostics]}"
        )

    assert all(d.message.startswith("requests 2.19.0 has ") for d in diagnostics)
    assert "PYSEC-2018-28" in {d.code for d in diagnostics}


def test_pip_audit_packages_it_could_not_check_are_one_note(tmp_path):
    root = write(tmp_path, {"requirements.txt": "layercake-no-such-package-zz9==1.0\n"})
    report = pip_audit(tmp_path, "-s", "pypi")

    (note,) = parse_pip_audit(report, root)
    assert (note.severity, note.code) == (Severity.INFO, "not-audited")
    assert note.message.startswith("1 package(s) not audited: ")
    assert "layercake-no-such-package-zz9 (1.0)" in note.message


# === what real runs hit (issue #19) ===========================================================

FIXTURES = Path(__file__).parent / "fixtures"
CAPTURED_IN = "/tmp/diag/ws/server"  # noqa: S108  # the folder the fixture's pytest ran in


def pytest_stopped(project: Path) -> subprocess.CompletedProcess[str]:
    return run(project, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "--junitxml=junit.xml")  # fmt: skip


# --- pytest stopped before its tests ------------------------------------------------------------

CONFTEST_PROJECT = {
    "pytest.ini": "[pytest]\n",
    "app/__init__.py": "",
    "app/helpers.py": "import os\n\nimport httpx_not_installed\n",
    "tests/conftest.py": "import os\nfrom app.helpers import client\n",
    "tests/test_a.py": "def test_a():\n    pass\n",
}


def test_pytest_conftest_import_error_exit_4_is_placed_at_the_projects_innermost_frame(tmp_path):
    root = write(tmp_path, CONFTEST_PROJECT)
    stopped = pytest_stopped(tmp_path)
    assert stopped.returncode == 4
    assert not (tmp_path / "junit.xml").exists()

    (error,) = parse_pytest_output(stopped.stdout + stopped.stderr, root)
    assert (error.tool, error.severity, error.code) == (
        "pytest",
        Severity.ERROR,
        "ModuleNotFoundError",
    )
    assert (error.file, error.line) == ("app/helpers.py", 3)
    assert error.message == (
        "ImportError while loading conftest 'tests/conftest.py': "
        "ModuleNotFoundError: No module named 'httpx_not_installed'"
    )


def test_pytest_conftest_that_starlette_refuses_without_httpx_names_the_package():
    text = (FIXTURES / "pytest_conftest_starlette_without_httpx.txt").read_text()
    output = text.split("\n", 1)[1]

    (error,) = parse_pytest_output(output, CAPTURED_IN)
    assert (error.file, error.line, error.code) == ("tests/conftest.py", 2, "RuntimeError")
    assert error.message.splitlines() == [
        (
            "ImportError while loading conftest 'tests/conftest.py': RuntimeError: The "
            "starlette.testclient module requires the httpx2 package to be installed."
        ),
        "You can install this with:",
        "$ pip install httpx2",
    ]


def test_pytest_conftest_syntax_error_is_placed_at_the_line_python_names(tmp_path):
    root = write(tmp_path, {**CONFTEST_PROJECT, "tests/conftest.py": "x = 1\ndef f(:\n    pass\n"})
    stopped = pytest_stopped(tmp_path)

    (error,) = parse_pytest_output(stopped.stdout + stopped.stderr, root)
    assert (error.file, error.line, error.code) == ("tests/conftest.py", 2, "SyntaxError")
    assert error.message.endswith(": SyntaxError: invalid syntax")


def test_pytest_collection_errors_exit_2_read_the_same_from_console_and_junit(tmp_path):
    root = write(
        tmp_path,
        {
            **CONFTEST_PROJECT,
            "tests/conftest.py": "",
            "tests/api/conftest.py": "from app.helpers import x\n",
            "tests/api/test_b.py": "def test_b():\n    pass\n",
            "tests/test_c.py": "import nowhere_else\n",
        },
    )
    stopped = pytest_stopped(tmp_path)
    assert stopped.returncode == 2

    printed = parse_pytest_output(stopped.stdout, root)
    assert [(d.file, d.line, d.code) for d in printed] == [
        ("app/helpers.py", 3, "ModuleNotFoundError"),
        ("tests/test_c.py", 1, "ModuleNotFoundError"),
    ]
    assert printed[0].message == (
        "ERROR collecting tests/api: ModuleNotFoundError: No module named 'httpx_not_installed'"
    )
    report = parse_pytest_junit((tmp_path / "junit.xml").read_text(), root)
    assert report.counts == TestCounts(failed=2)
    assert [(d.file, d.line, d.code) for d in report.diagnostics] == [
        (d.file, d.line, d.code) for d in printed
    ]


def test_pytest_usage_error_is_one_diagnostic(tmp_path):
    root = write(tmp_path, {"pytest.ini": "[pytest]\n"})
    stopped = run(tmp_path, sys.executable, "-m", "pytest", "-q", "no_such_folder")
    assert stopped.returncode == 4

    (error,) = parse_pytest_output(stopped.stdout + stopped.stderr, root)
    assert (error.code, error.message) == (
        "UsageError",
        "file or directory not found: no_such_folder",
    )


def test_python_import_through_an_installed_package_is_placed_in_the_project(tmp_path):
    root = write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/main.py": "import os\nfrom vendored import client\n",
            ".venv/lib/site-packages/vendored.py": (
                "raise RuntimeError('vendored requires the httpx package')\n"
            ),
        },
    )
    env = {"PYTHONPATH": str(tmp_path / ".venv/lib/site-packages"), "PATH": "/usr/bin:/bin"}
    crashed = run(root, sys.executable, "-c", "import app.main", env=env)

    (error,) = parse_python_tracebacks(crashed.stderr, root)
    assert (error.file, error.line, error.code) == ("app/main.py", 2, "RuntimeError")
    assert error.message == "RuntimeError: vendored requires the httpx package"


# --- Vite, esbuild, Vitest ----------------------------------------------------------------------

HTML = '<!doctype html><script type="module" src="/src/main.js"></script>\n'


@pytest.fixture(scope="module")
def vite6(tmp_path_factory) -> Path:
    """Vite 6 (Rollup and esbuild underneath) and esbuild, installed with a real `npm install`."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed on this machine")
    folder = tmp_path_factory.mktemp("vite6")
    (folder / "package.json").write_text('{"name": "v", "private": true, "type": "module"}\n')
    installed = run(folder, "npm", "install", "--no-audit", "--no-fund", "vite@6", "esbuild@0.25")
    assert installed.returncode == 0, installed.stderr[-4000:]
    return folder


def vite_build(tools: Path, project: Path, files: dict[str, str]) -> str:
    root = write(project, {"index.html": HTML, **files})
    built = run(root, str(tools / "node_modules" / ".bin" / "vite"), "build")
    assert built.returncode == 1
    return built.stdout + built.stderr


def test_esbuild_errors_are_placed_at_file_line_and_column(tmp_path, vite6):
    root = write(
        tmp_path,
        {
            "src/bad.js": "const a = 1;\nconst b = ;\n",
            "src/gone.js": 'import x from "./nope.js";\n',
        },
    )
    esbuild = str(vite6 / "node_modules" / ".bin" / "esbuild")
    bad = run(root, esbuild, "src/bad.js", "--bundle", "--outfile=out.js")
    gone = run(root, esbuild, "src/gone.js", "--bundle", "--outfile=out.js")

    (syntax,) = parse_bundler(bad.stderr, root)
    assert (syntax.tool, syntax.file, syntax.line, syntax.column) == (
        "esbuild",
        "src/bad.js",
        2,
        10,
    )
    assert syntax.message == 'Unexpected ";"'
    (unresolved,) = parse_bundler(gone.stderr, root)
    assert (unresolved.file, unresolved.line, unresolved.message) == (
        "src/gone.js", 1, 'Could not resolve "./nope.js"'
    )  # fmt: skip


def test_vite_transform_failed_is_placed_and_named_after_the_plugin(tmp_path, vite6):
    output = vite_build(vite6, tmp_path, {
        "src/main.js": 'import { f } from "./util.ts";\nconsole.log(f());\n',
        "src/util.ts": "export function f(): number {\n  return (1 +;\n}\n",
    })  # fmt: skip

    (error,) = parse_bundler(output, str(tmp_path))
    assert (error.tool, error.code, error.file, error.line, error.column) == (
        "vite", "vite:esbuild", "src/util.ts", 2, 13
    )  # fmt: skip
    assert error.message == 'Unexpected ";"'


@pytest.mark.parametrize(
    ("main", "spec"),
    [('import { x } from "./gone.js";\n', "./gone.js"), ('import axios from "axios";\n', "axios")],
    ids=["a relative file", "a package"],
)
def test_vite_on_rollup_import_it_cannot_resolve_names_it_and_the_importer(
    tmp_path, vite6, main, spec
):
    output = vite_build(vite6, tmp_path, {"src/main.js": main})

    (error,) = parse_bundler(output, str(tmp_path))
    assert (error.code, error.file, error.message) == (
        "UNRESOLVED_IMPORT", "src/main.js", f'Could not resolve "{spec}"'
    )  # fmt: skip


def test_vite_on_rolldown_errors_are_placed_at_their_frame(tmp_path, node_toolbox):
    unresolved = vite_build(node_toolbox.folder, tmp_path / "a", {
        "src/main.js": 'import { x } from "./gone.js";\n',
    })  # fmt: skip
    syntax = vite_build(node_toolbox.folder, tmp_path / "b", {
        "src/main.js": 'import { f } from "./util.ts";\n',
        "src/util.ts": "export function f(): number {\n  return (1 +;\n}\n",
    })  # fmt: skip

    (missing,) = parse_bundler(unresolved, str(tmp_path / "a"))
    # `npm run build` is read by "node-build"; Rolldown prints paths relative to the project.
    assert interpret("node-build", unresolved, None, None).diagnostics == (missing,)
    assert (missing.code, missing.file, missing.line, missing.column) == (
        "UNRESOLVED_IMPORT", "src/main.js", 1, 19
    )  # fmt: skip
    assert missing.message == "Could not resolve './gone.js' in src/main.js"
    (error,) = parse_bundler(syntax, str(tmp_path / "b"))
    assert (error.file, error.line, error.column) == ("src/util.ts", 2, 14)
    assert error.message == "Unexpected token"


def test_vitest_console_names_each_failed_test_and_file_that_would_not_load(tmp_path, node_toolbox):
    root = write(tmp_path, {
        "package.json": '{"name": "p", "private": true, "type": "module"}',
        "src/sum.js": "export function sum(a, b) {\n  return a - b;\n}\n",
        "src/sum.test.js": (
            "import { describe, expect, test } from 'vitest';\nimport { sum } from './sum.js';\n\n"
            "describe('sum', () => {\n  test('adds two numbers', () => {\n"
            "    expect(sum(1, 2)).toBe(3);\n  });\n  test('keeps zero', () => {\n"
            "    expect(sum(0, 0)).toBe(0);\n  });\n});\n"
        ),
        "src/broken.test.js": "import './gone.js';\n",
    })  # fmt: skip
    node_toolbox.link_into(tmp_path)
    ran = run(root, node_toolbox.bin("vitest"), "run")
    assert ran.returncode == 1

    found = parse_vitest_console(ran.stdout + ran.stderr, root)
    adds = only(found, code="AssertionError")
    assert (adds.tool, adds.file, adds.line, adds.column) == ("vitest", "src/sum.test.js", 6, 23)
    assert adds.message == (
        "sum > adds two numbers: AssertionError: expected -1 to be 3 // Object.is equality"
    )
    broken = only(found, file="src/broken.test.js")
    assert (broken.code, broken.line) == ("Error", 1)
    assert "Cannot find module './gone.js' imported from src/broken.test.js" in broken.message
    assert len(found) == 2


# --- npm ----------------------------------------------------------------------------------------


def npm_fails(project: Path, package_json: str | None, *argv: str) -> tuple[str, str]:
    if package_json is not None:
        write(project, {"package.json": package_json})
    done = run(project, "npm", *argv)
    assert done.returncode != 0
    return str(project), done.stdout + done.stderr


def test_npm_version_that_does_not_exist_is_etarget_naming_it(tmp_path, node_toolbox):
    root, output = npm_fails(
        tmp_path, '{"name": "p", "private": true, "dependencies": {"react": "^99.0.0"}}',
        "install", "--no-audit", "--no-fund",
    )  # fmt: skip

    (error,) = parse_npm_errors(output, root)
    assert (error.code, error.file) == ("ETARGET", "package.json")
    assert error.message.splitlines()[0] == "No matching version found for react@^99.0.0."


def test_npm_broken_package_json_is_ejsonparse_with_the_position(tmp_path, node_toolbox):
    broken = '{\n  "name": "p",\n  "private": true,\n  "scripts": {"test": "node --test"},\n}\n'
    root, output = npm_fails(tmp_path, broken, "install", "--no-audit", "--no-fund")

    (error,) = parse_npm_errors(output, root)
    assert (error.code, error.file) == ("EJSONPARSE", "package.json")
    assert error.message.splitlines()[0].startswith(
        "Invalid package.json: JSONParseError: Expected double-quoted property name in JSON at"
        " position 74"
    )


def test_npm_without_a_package_json_is_enoent_naming_the_file(tmp_path, node_toolbox):
    root, output = npm_fails(tmp_path, None, "test")

    (error,) = parse_npm_errors(output, root)
    assert (error.code, error.file) == ("ENOENT", "package.json")
    assert error.message.startswith("Could not read package.json: Error: ENOENT")


def test_npm_script_whose_command_is_not_installed_is_enoent_naming_the_command(
    tmp_path, node_toolbox
):
    script = '{"name": "p", "private": true, "scripts": {"build": "vite build"}}'
    root, output = npm_fails(tmp_path, script, "run", "build")

    (error,) = parse_npm_errors(output, root)
    assert (error.code, error.file) == ("ENOENT", "package.json")
    assert error.message == "the script's command `vite` was not found: sh: 1: vite: not found"


# --- uv -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def empty_index(tmp_path_factory):
    """A local package index with no packages: every project page is a 404."""
    folder = tmp_path_factory.mktemp("index")
    (folder / "simple").mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    server.shutdown()


def uv_install(project: Path, index: str | Path, pyproject: str) -> str:
    """`uv pip install -e .` of `pyproject` from `index` (a URL, or a folder of wheels); its output."""
    if shutil.which("uv") is None:
        pytest.skip("uv is not installed on this machine")
    write(project, {"pyproject.toml": pyproject})
    venv = run(project, "uv", "venv", "-q", "--python", sys.executable, ".venv")
    assert venv.returncode == 0, venv.stderr
    where = (
        ("--no-index", "--find-links", str(index))
        if isinstance(index, Path)
        else ("--index-url", index)
    )
    done = run(project, "uv", "pip", "install", "--python", ".venv/bin/python",
               *where, "--no-cache", "-e", ".")  # fmt: skip
    assert done.returncode != 0
    return done.stdout + done.stderr


def project_needing(requirement: str) -> str:
    return f'[project]\nname = "server"\nversion = "0.1.0"\ndependencies = ["{requirement}"]\n'


def test_uv_requirement_missing_from_the_index_is_no_solution_naming_it(tmp_path, empty_index):
    output = uv_install(tmp_path, empty_index, project_needing("httpx-not-here>=1"))

    (error,) = parse_uv_errors(output, str(tmp_path))
    assert interpret("uv", output, None, None).diagnostics == (error,)  # the plan's name for it
    assert (error.tool, error.code) == ("uv", "no-solution")
    assert error.message.startswith(
        "No solution found when resolving dependencies: `httpx-not-here` cannot be met\n"
        "Because httpx-not-here was not found in the package registry"
    )


def test_uv_version_that_does_not_exist_is_no_solution_naming_the_pin(tmp_path):
    links = tmp_path / "links"
    links.mkdir()
    with zipfile.ZipFile(links / "tinypkg-1.0.0-py3-none-any.whl", "w") as wheel:  # version 1 only
        wheel.writestr("tinypkg/__init__.py", "")
        info = "tinypkg-1.0.0.dist-info"
        wheel.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0.0\n")
        wheel.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        wheel.writestr(f"{info}/RECORD", "")
    output = uv_install(tmp_path / "p", links, project_needing("tinypkg==9.0.0"))

    (error,) = parse_uv_errors(output, str(tmp_path / "p"))
    assert error.code == "no-solution"
    assert error.message.startswith(
        "No solution found when resolving dependencies: `tinypkg==9.0.0` cannot be met\n"
        "Because there is no version of tinypkg==9.0.0"
    )


def test_uv_pyproject_that_does_not_parse_is_placed_at_the_line_and_column(tmp_path, empty_index):
    output = uv_install(tmp_path, empty_index, project_needing("x").replace('"]', '",'))

    found = parse_uv_errors(output, str(tmp_path))
    toml = only(found, code="toml-parse-error")
    assert (toml.file, toml.line, toml.column) == ("pyproject.toml", 4, 21)
    assert toml.message.endswith(
        "TOML parse error at line 4, column 21: unclosed array, expected `]`"
    )


# --- the fallback -------------------------------------------------------------------------------


def test_output_no_parser_reads_is_named_by_its_last_error_line(tmp_path):
    done = run(tmp_path, "/bin/sh", "-c", "echo building; ls /no/such/place; echo done; exit 3")

    found = unexplained_failure("make", done.stdout + done.stderr, done.returncode, str(tmp_path))
    assert (found.code, found.severity) == (CODE, Severity.ERROR)
    assert found.message == (
        "`make` exited 3: ls: cannot access '/no/such/place': No such file or directory"
    )
