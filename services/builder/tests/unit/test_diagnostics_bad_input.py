"""Diagnostics parsers on input no tool should print: they never raise and never leave the root."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layercake_builder.core.diagnostics.bundler import parse_bundler
from layercake_builder.core.diagnostics.common import (
    MAX_DIAGNOSTICS,
    MAX_FINDINGS,
    MAX_MESSAGE_CHARS,
    TestReport,
    capped,
    clean_text,
    diagnostic,
    relative_path,
)
from layercake_builder.core.diagnostics.coverage import (
    parse_coverage_json,
    parse_coverage_summary,
)
from layercake_builder.core.diagnostics.eslint import parse_eslint
from layercake_builder.core.diagnostics.fallback import last_error_line, unexplained_failure
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
from layercake_contracts.values import Severity, TestCounts, project_path_problem

ROOT = "/work/p"
PARSERS = [
    parse_tsc,
    parse_eslint,
    parse_jest,
    parse_vitest,
    parse_npm_audit,
    parse_npm_errors,
    parse_node_errors,
    parse_pytest_junit,
    parse_python_tracebacks,
    parse_ruff,
    parse_mypy,
    parse_pip_audit,
    parse_pytest_output,
    parse_bundler,
    parse_vitest_console,
    parse_uv_errors,
]
BAD_INPUT = {
    "empty": "",
    "blank lines": " \n\t\n\n",
    "binary garbage": bytes(range(256)).decode("latin-1") * 40,
    "a lone surrogate": '\ud800{"a": 1}\n\ud800',
    "cut-off json": '[{"filePath": "/work/p/a.js", "messages": [{"ruleId": "x", "line": 1',
    "hostile nesting": "[" * 200_000,
    "json of the wrong shape": '{"testResults": "x", "vulnerabilities": [1], "dependencies": {}}',
    "json of the wrong types": '[{"filePath": 3, "messages": [{"line": -4, "severity": [2]}]}]',
    "a number too long to read": '[{"location": {"row": 1' + "0" * 5000 + "}}]",
    "an entity bomb": (
        '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<testsuite><testcase name="&b;"><failure>x</failure></testcase></testsuite>'
    ),
    "a ten megabyte line": "x(1,1): error TS1: " + "y" * 10_000_000,
}


def diagnostics_of(result):
    return result.diagnostics if isinstance(result, TestReport) else result


def assert_well_formed(diagnostics) -> None:
    """Within the caps, and every file a safe path inside the project."""
    assert len(diagnostics) <= MAX_DIAGNOSTICS
    for found in diagnostics:
        assert len(found.message) <= MAX_MESSAGE_CHARS
        assert found.file is None or project_path_problem(found.file) is None


# What can still be read from bad input: an entry without fields, a finding on a huge line.
READABLE = {
    ("json of the wrong types", "parse_eslint"): 1,
    ("json of the wrong types", "parse_ruff"): 1,
    ("a ten megabyte line", "parse_tsc"): 1,
}


@pytest.mark.parametrize("name", BAD_INPUT)
@pytest.mark.parametrize("parse", PARSERS, ids=lambda parse: parse.__name__)
def test_bad_input_gives_what_can_be_read_and_never_raises(parse, name):
    diagnostics = diagnostics_of(parse(BAD_INPUT[name], ROOT))

    assert len(diagnostics) == READABLE.get((name, parse.__name__), 0)
    assert_well_formed(diagnostics)


@pytest.mark.parametrize("parse", PARSERS, ids=lambda parse: parse.__name__)
def test_empty_input_gives_nothing(parse):
    result = parse("", ROOT)

    assert diagnostics_of(result) == ()
    if isinstance(result, TestReport):
        assert result.counts == TestCounts()


def test_json_of_the_wrong_types_keeps_only_valid_fields():
    (found,) = parse_eslint(BAD_INPUT["json of the wrong types"], ROOT)

    assert (found.file, found.line, found.severity) == (None, None, Severity.INFO)
    assert found.message == "(the tool gave no message)"


def test_a_report_with_a_document_type_is_refused_without_expanding_entities():
    assert parse_pytest_junit(BAD_INPUT["an entity bomb"], ROOT) == TestReport(TestCounts())


def test_ten_megabytes_of_findings_are_capped_and_read_quickly():
    line = "app/a.py:3:5: error: Name 'x' is not defined  [name-defined]\n"
    blob = "".join(line.replace("3", str(n)) for n in range(1, 10_000_000 // len(line)))
    started = time.monotonic()

    found = parse_mypy(blob, ROOT)

    assert len(found) == MAX_DIAGNOSTICS
    assert [d.line for d in found[:2]] == [1, 2]
    assert time.monotonic() - started < 10


FRAGMENTS = st.sampled_from([
    "/work/p/", "/work/other/", "../", "./", "file:///work/p/", "node:internal/x", "node_modules/",
    ".venv/", ".git/", "a.ts", "b.py", "(1,2): error TS2307: ", ":3:4: error: x  [c]", ":0:",
    "\n    at f (/work/p/a.js:1:2)", "\n    at /work/p/../../etc/passwd:1:1", "\nTypeError: x",
    '\n  File "/work/p/a.py", line 3, in f', "\nTraceback (most recent call last):\n",
    "\nValueError: v", "\nnpm error code E404", "\nnpm ERR! code ERESOLVE", "\nnpm error 404 Not Found - GET x/%2e%2e",
    "{", "}", "[", "]", '"messages": [', '"filePath": "/etc/x"', "<testcase name='a'>",
    "<failure>", "</testcase>", "\nE   assert 1", "\ntests/a.py:3: AssertionError", "\x1b[31m",
    "\x00", "\n", "\u2028", "ä",
    "\nImportError while loading conftest '/work/p/tests/conftest.py'.", "\nE   ValueError: v",
    "\n_____ ERROR collecting tests/a.py _____", "\nERROR: x", ".py:3: in <module>",
    '\nE     File "/work/p/a.py", line 2', "\n✘ [ERROR] x\n\n    ", ":1:2:", ": ERROR: ",
    '\nCould not resolve "a" from "', '\n[vite]: Rollup failed to resolve import "a" from "',
    "\n[UNRESOLVED_IMPORT] x\n   ╭─[ ", " FAIL  a.test.js > t\n", "\n \u276f ", "\nerror: x",
    "\n  cause: Because a was not found in the package registry", "TOML parse error at line 1, column 2",
    "\nsh: 1: vite: not found", "\npath /work/p/x/package.json",
])  # fmt: skip


@given(st.lists(FRAGMENTS | st.text(max_size=12), max_size=40).map("".join))
def test_no_input_makes_a_parser_raise_or_name_a_file_outside_the_project(text):
    for parse in PARSERS:
        assert_well_formed(diagnostics_of(parse(text, ROOT)))


@given(st.lists(FRAGMENTS | st.text(max_size=12), max_size=40).map("".join), st.integers(1, 255))
def test_a_failed_command_is_always_named_within_the_caps(text, exit_code):
    named = unexplained_failure("npm run build", text, exit_code, ROOT)

    assert named.message.startswith(f"`npm run build` exited {exit_code}")
    assert_well_formed((named,))
    quoted = last_error_line(text)
    assert quoted is None or "\n" not in quoted


def test_the_quoted_line_is_the_last_error_not_the_noise_after_it():
    output = (
        "building\nError: entry web/app.js is missing\n    at run (/x.js:1:1)\nNode.js v20.1.0\n"
    )

    assert last_error_line(output) == "Error: entry web/app.js is missing"
    assert last_error_line("step 1\nstep 2\n") == "step 2"
    assert unexplained_failure("x", " \n", 3, ROOT).message == "`x` exited 3, printing nothing"


@pytest.mark.parametrize(
    ("path", "root", "relative"),
    [
        ("/work/p/src/a.ts", "/work/p", "src/a.ts"),
        ("/work/p/src/a.ts", "/work/p/", "src/a.ts"),
        ("/work/p/src/../lib/a.ts", "/work/p", "lib/a.ts"),
        ("file:///work/p/src/a%20b.js", "/work/p", "src/a b.js"),
        ("./src/a.ts", "/work/p", "src/a.ts"),
        ("/work/p2/a.ts", "/work/p", None),
        ("/work/p/../q/a.ts", "/work/p", None),
        ("../a.ts", "/work/p", None),
        ("/work/p", "/work/p", None),
        ("/work/p/.git/config", "/work/p", None),
        ("node:internal/modules/cjs/loader", "/work/p", None),
        ("<anonymous>", "/work/p", None),
        ("/usr/lib/python3.11/json/__init__.py", "/work/p", None),
        ("/work/p/a.ts", "", None),
    ],
)
def test_paths_become_relative_to_the_root_or_are_not_the_projects(path, root, relative):
    assert relative_path(path, root) == relative


def test_messages_lose_colours_control_characters_and_the_root_and_are_capped():
    assert clean_text("\x1b[31mfailed\x1b[0m in /work/p/src/a.ts\x00", "/work/p") == (
        "failed in src/a.ts"
    )
    long = diagnostic("t", Severity.ERROR, "x" * (MAX_MESSAGE_CHARS * 3))
    assert len(long.message) == MAX_MESSAGE_CHARS
    assert long.message.endswith("…")


def test_output_repeating_one_finding_is_read_only_up_to_the_cap():
    read = []

    def findings():
        for n in range(10 * MAX_FINDINGS):
            read.append(n)
            yield diagnostic("pytest", Severity.ERROR, "ERROR collecting tests/a.py")

    assert len(capped(findings())) == 1
    assert len(read) == MAX_FINDINGS


def test_the_same_finding_twice_is_kept_once():
    twice = [diagnostic("t", Severity.ERROR, "m", file="a.py", line=1)] * 2

    assert len(capped(twice)) == 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        '{"totals": {"percent_covered": 150}}',
        '{"totals": {"percent_covered": NaN}}',
        '{"totals": {"percent_covered": "80"}}',
        '{"total": {"lines": {"pct": "Unknown"}}}',
        '{"total": {"lines": {"pct": true}}}',
    ],
)
def test_coverage_without_a_usable_percentage_is_none(text):
    assert (parse_coverage_json(text), parse_coverage_summary(text)) == (None, None)
