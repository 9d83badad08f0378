"""Which test runner the plan starts, and when the reports it wrote are believed (pure core)."""

from __future__ import annotations

import json

from layercake_builder.core.plan import NODE_BIN, plan_build
from layercake_builder.core.reports import UNBELIEVED, interpret, printed_passes
from layercake_contracts.values import Step

JEST_REPORT = json.dumps(
    {"testResults": [{"status": "passed", "assertionResults": [{"status": "passed"}] * 3}]}
)
FULL_COVERAGE = json.dumps({"total": {"lines": {"pct": 100}}})


def node_test_command(script: str, **dependencies: str):
    package = {"scripts": {"test": script}, "devDependencies": dependencies}
    plan = plan_build(["package.json"], {"package.json": json.dumps(package)}, (Step.TEST,))
    [test] = plan.of(Step.TEST)
    [command] = test.commands
    return command


def test_a_script_that_only_mentions_jest_is_run_as_npm_test_without_counts():
    command = node_test_command("node fake.js # jest")

    assert command.argv == ("npm", "test")
    assert (command.report, command.coverage) == (None, None)


def test_a_script_calling_jest_without_declaring_it_gets_no_counts():
    command = node_test_command("jest --coverage")

    assert command.argv == ("npm", "test")
    assert command.report is None


def test_a_declared_jest_is_started_by_the_builder_with_reports_in_its_own_folder():
    command = node_test_command("jest --silent && node evil.js", jest="^30")

    assert command.argv[0] == "node_modules/.bin/jest"
    assert "--outputFile=/reports/jest.json" in command.argv
    assert "--coverageDirectory=/reports/coverage" in command.argv
    assert not any("evil" in part for part in command.argv)
    assert (command.report, command.coverage) == ("jest.json", "coverage/coverage-summary.json")


def test_node_test_runs_the_system_node_with_a_junit_report_of_its_own():
    command = node_test_command("node --test test/")

    assert command.argv[:2] == (NODE_BIN, "--test")
    assert "--test-reporter-destination=/reports/junit.xml" in command.argv
    assert command.argv[-1] == "test/"
    assert command.report == "junit.xml"


def test_node_test_with_its_own_reporter_flags_is_run_as_npm_test():
    command = node_test_command("node --test --test-reporter=./forge.js")

    assert command.argv == ("npm", "test")


def test_node_test_with_a_glob_lets_the_shell_expand_it_and_keeps_the_report():
    """Node 20 takes no patterns: sh expands the glob (as under `npm test`), never runs it."""
    command = node_test_command('node --test "test/**/*.test.js"')

    assert command.argv[:2] == ("/bin/sh", "-c")
    assert command.argv[2].startswith(f"exec {NODE_BIN} --test ")
    assert "--test-reporter-destination=/reports/junit.xml" in command.argv[2]
    assert command.argv[3:] == ("sh", "test/**/*.test.js")
    assert command.report == "junit.xml"


def test_node_test_flags_of_the_project_are_kept_and_counted():
    command = node_test_command("node --test --test-concurrency=1 --require ./setup.js test/")

    assert command.argv[0] == NODE_BIN
    assert command.argv[-4:] == ("--test-concurrency=1", "--require", "./setup.js", "test/")
    assert command.report == "junit.xml"


def test_node_test_with_shell_syntax_in_its_arguments_is_run_as_npm_test():
    for script in ("node --test && node evil.js", "node --test $(cat list)", "node --test 'a"):
        assert node_test_command(script).argv == ("npm", "test"), script


def test_pytest_reports_land_in_the_report_folder_not_the_project():
    plan = plan_build(["requirements.txt", "test_a.py"], {}, (Step.TEST,))
    [test] = plan.of(Step.TEST)
    [command] = test.commands

    assert "--junitxml=/reports/junit.xml" in command.argv
    assert "--cov-report=json:/reports/coverage.json" in command.argv
    assert not any(".layercake" in part for part in command.argv)


def test_a_report_whose_passes_the_runner_never_printed_is_not_believed():
    parsed = interpret("jest", "nothing ran here\n", JEST_REPORT, FULL_COVERAGE)

    assert parsed.tests is None
    assert parsed.coverage is None
    assert [d.code for d in parsed.diagnostics] == [UNBELIEVED]


def test_a_report_matching_the_runner_summary_is_believed_with_its_coverage():
    output = "PASS a.test.js\nTests:       3 passed, 3 total\n"

    parsed = interpret("jest", output, JEST_REPORT, FULL_COVERAGE)

    assert (parsed.tests.passed, parsed.coverage) == (3, 100.0)


def test_each_runner_summary_line_gives_its_passes():
    assert printed_passes("pytest", "..F\n1 failed, 2 passed in 0.12s\n") == 2
    assert printed_passes("pytest", "F\n1 failed in 0.05s\n") == 0
    assert printed_passes("jest", "Tests:       1 failed, 4 passed, 5 total\n") == 4
    assert printed_passes("vitest", "      Tests  1 failed | 6 passed (7)\n") == 6
    assert (
        printed_passes(
            "node-test", "\N{INFORMATION SOURCE} tests 3\n\N{INFORMATION SOURCE} pass 2\n"
        )
        == 2
    )
    assert printed_passes("pytest", "42 tests, trust me\n") is None
