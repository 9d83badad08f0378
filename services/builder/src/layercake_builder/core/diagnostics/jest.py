"""Jest's and Vitest's JSON reports (`jest --json`, `vitest run --reporter=json`) as a TestReport.

Pure. Both write the same shape: per test file, per test a status and its
failure messages. Each failed test becomes a diagnostic naming the test, placed
at the test file's frame in the failure's stack, with the assertion's first
lines; a test file that failed to run (an import error) counts as one failure.
"""

from __future__ import annotations

import re
from itertools import takewhile
from typing import TYPE_CHECKING

from layercake_builder.core.diagnostics.common import (
    TestReport,
    capped,
    diagnostic,
    entries,
    field,
    first_lines,
    load_json,
    positive_int,
    relative_path,
    string,
    text_lines,
)
from layercake_builder.core.diagnostics.node import Frame, is_stack_line, project_frames
from layercake_contracts.values import Severity, TestCounts

if TYPE_CHECKING:
    from collections.abc import Iterator

    from layercake_contracts.values import Diagnostic

JEST = "jest"
VITEST = "vitest"

_ERROR_NAME = re.compile(r"^(?P<name>[A-Za-z_$][\w$]*(?:Error|Exception)|Error)\b")
# What is not the message in a failure text: jest's `●` headings and its code frames.
_NOT_MESSAGE = re.compile(r"^\s*(?:●|>?\s*[0-9]+ \||\|)")


def parse_jest(text: str, root: str) -> TestReport:
    """Counts and failures from a `jest --json` report."""
    return _report(text, root, JEST)


def parse_vitest(text: str, root: str) -> TestReport:
    """Counts and failures from a `vitest run --reporter=json` report."""
    return _report(text, root, VITEST)


def _report(text: str, root: str, tool: str) -> TestReport:
    suites = entries(field(load_json(text), "testResults"))
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for suite in suites:
        tests = entries(field(suite, "assertionResults"))
        for test in tests:
            status = field(test, "status")
            counts[status if status in ("passed", "failed") else "skipped"] += 1
        if _failed_to_run(suite):
            counts["failed"] += 1
    return TestReport(TestCounts(**counts), capped(_failures(suites, root, tool)))


def _failed_to_run(suite: object) -> bool:
    tests = entries(field(suite, "assertionResults"))
    return field(suite, "status") == "failed" and not any(
        field(test, "status") == "failed" for test in tests
    )


def _failures(suites: list[object], root: str, tool: str) -> Iterator[Diagnostic]:
    for suite in suites:
        path = string(field(suite, "name"))
        file = relative_path(path, root) if path else None
        if _failed_to_run(suite):
            text = string(field(suite, "message")) or "the test file failed to run"
            yield _failure(tool, "test file failed to run", text, file, None, root)
        for test in entries(field(suite, "assertionResults")):
            if field(test, "status") != "failed":
                continue
            name = string(field(test, "fullName")) or string(field(test, "title")) or "a test"
            text = "\n".join(
                m for m in entries(field(test, "failureMessages")) if isinstance(m, str)
            )
            located = _location(field(test, "location"), file)
            yield _failure(tool, name, text, file, located, root)


def _failure(
    tool: str, name: str, text: str, file: str | None, located: Frame | None, root: str
) -> Diagnostic:
    lines = text_lines(text)
    if located is None:
        located = next((f for f in project_frames(lines, root) if f.file == file), None)
    before_stack = takewhile(lambda line: not is_stack_line(line), lines)
    message = first_lines(line for line in before_stack if not _NOT_MESSAGE.match(line))
    error = _ERROR_NAME.match(message)
    return diagnostic(
        tool,
        Severity.ERROR,
        f"{name}: {message}" if message else name,
        root=root,
        file=file,
        line=located.line if located else None,
        column=located.column if located else None,
        code=error["name"] if error else None,
    )


def _location(value: object, file: str | None) -> Frame | None:
    """Where the reporter says the test is (`--testLocationInResults`, `includeTaskLocation`)."""
    line = positive_int(field(value, "line"))
    if file is None or line is None:
        return None
    return Frame(file, line, positive_int(field(value, "column")))
