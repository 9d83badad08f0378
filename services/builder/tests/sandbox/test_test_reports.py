"""Test counts and coverage against projects that report them themselves, on both back-ends.

Whole builds through the real BuildService on a real nats-server. A project
whose script only mentions a runner, or whose code writes the runner's
reports itself, gets no counts and no coverage, so no coverage gate can pass
on it; the runners the builder starts itself still report what they counted.
"""

from __future__ import annotations

import json
import os
import textwrap

import pytest

from layercake_contracts.values import Step

pytestmark = [
    pytest.mark.nats,
    pytest.mark.timeout(900),
    pytest.mark.skipif(os.geteuid() != 0, reason="slot users need root"),
]

TEST_STEPS = (Step.INSTALL, Step.TEST)
# Where a report may be looked for: the project's own folder, the builder's report folder.
FORGED_INTO = (".layercake/reports", "/reports")

FAKE_JS = textwrap.dedent(
    """\
    const fs = require("fs");
    const claim = {numPassedTests: 42, numFailedTests: 0, testResults: [{status: "passed",
      assertionResults: Array.from({length: 42}, (_, i) => ({status: "passed", title: `t${i}`}))}]};
    const full = {total: {lines: {total: 10, covered: 10, skipped: 0, pct: 100}}};
    for (const folder of FOLDERS) {
      try {
        fs.mkdirSync(`${folder}/coverage`, {recursive: true});
        fs.writeFileSync(`${folder}/jest.json`, JSON.stringify(claim));
        fs.writeFileSync(`${folder}/vitest.json`, JSON.stringify(claim));
        fs.writeFileSync(`${folder}/coverage/coverage-summary.json`, JSON.stringify(full));
      } catch (e) {}
    }
    """
).replace("FOLDERS", json.dumps(FORGED_INTO))

FAKE_PYTEST = textwrap.dedent(
    """\
    import os

    CASES = "".join(f'<testcase classname="tests.test_all" name="test_{n}"/>' for n in range(42))
    JUNIT = f'<testsuites><testsuite name="pytest" tests="42">{CASES}</testsuite></testsuites>'
    COVERAGE = '{"totals": {"percent_covered": 100.0}}'
    for folder in FOLDERS:
        try:
            os.makedirs(folder, exist_ok=True)
            with open(f"{folder}/junit.xml", "w") as junit:
                junit.write(JUNIT)
            with open(f"{folder}/coverage.json", "w") as coverage:
                coverage.write(COVERAGE)
        except OSError:
            pass
    os._exit(0)  # before pytest writes a report of its own, or prints a summary
    """
).replace("FOLDERS", repr(FORGED_INTO))


def node_project(scripts: dict[str, str], files: dict[str, str], **package: object) -> dict:
    manifest = {"name": "reports", "version": "1.0.0", "private": True, "scripts": scripts}
    return {
        "package.json": json.dumps({**manifest, **package}).encode(),
        **{path: text.encode() for path, text in files.items()},
    }


async def test_a_test_script_that_only_mentions_jest_yields_no_counts_and_no_coverage(builds):
    """`node fake.js # jest` writes a 42-passed Jest report and full coverage; none of it is believed."""
    files = node_project({"test": "node fake.js # jest"}, {"fake.js": FAKE_JS})

    outcome = await builds.build("fake-jest", files, TEST_STEPS)

    test = next(r for r in outcome.results if r.step is Step.TEST)
    assert test.exit_code == 0, test.output
    assert test.tests is None
    assert test.coverage_percent is None


async def test_a_python_test_module_that_forges_junit_and_coverage_is_not_believed(builds):
    """A test module writes 42 passing tests and full coverage wherever reports go, then exits 0."""
    files = {"requirements.txt": b"", "tests/test_all.py": FAKE_PYTEST.encode()}

    outcome = await builds.build("fake-pytest", files, TEST_STEPS)

    test = next(r for r in outcome.results if r.step is Step.TEST)
    assert test.exit_code == 0, test.output
    assert test.tests is None
    assert test.coverage_percent is None
    assert "report_not_believed" in {d.code for d in test.diagnostics}


async def test_node_own_test_runner_reports_its_true_counts(builds):
    """`node --test` is run by the builder with a JUnit report of its own: 2 passed, 1 failed."""
    test_file = textwrap.dedent(
        """\
        const test = require("node:test");
        const assert = require("node:assert");
        test("adds", () => assert.strictEqual(1 + 1, 2));
        test("subtracts", () => assert.strictEqual(2 - 1, 1));
        test("multiplies", () => assert.strictEqual(2 * 2, 5));
        """
    )
    files = node_project({"test": "node --test"}, {"test/math.test.js": test_file})

    outcome = await builds.build("node-test", files, TEST_STEPS)

    test = next(r for r in outcome.results if r.step is Step.TEST)
    assert not test.ok
    assert (test.tests.passed, test.tests.failed) == (2, 1), test.output
    [failure] = [d for d in test.diagnostics if d.tool == "node-test"]
    assert "multiplies" in failure.message


async def test_vitest_installed_from_npm_reports_its_true_counts(builds):
    """A project declaring Vitest gets it run by the builder: 1 passed, 1 failed."""
    test_file = textwrap.dedent(
        """\
        import { expect, test } from "vitest";
        test("adds", () => { expect(1 + 1).toBe(2); });
        test("fails", () => { expect(1 + 1).toBe(3); });
        """
    )
    files = node_project(
        {"test": "vitest run"},
        {"math.test.mjs": test_file},
        devDependencies={"vitest": "^4.0.0"},
    )

    outcome = await builds.build("vitest", files, TEST_STEPS)

    install, test = outcome.results
    assert install.ok, install.output
    assert (test.tests.passed, test.tests.failed) == (1, 1), test.output
