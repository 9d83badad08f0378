"""pytest's JUnit XML report (`pytest --junitxml=…`) as a TestReport.

Pure. Counts: a failure or an error (setup, collection) is a failed test. Each
failed test becomes a diagnostic named `classname::name`, placed at the
innermost `file.py:LINE:` of its traceback inside the project, with the
assertion (`assert 2 == 3`) as message. The XML is read incrementally, so a
cut-off report still yields the tests before the cut; a document type
declaration (the door to entity expansion) or an oversized report is refused.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layercake_builder.core.diagnostics.common import (
    MAX_INPUT_CHARS,
    TestReport,
    capped,
    diagnostic,
    first_lines,
    is_project_code,
    relative_path,
)
from layercake_contracts.values import Severity, TestCounts

if TYPE_CHECKING:
    from collections.abc import Iterator

    from layercake_contracts.values import Diagnostic

TOOL = "pytest"

# `tests/test_a.py:7: AssertionError`, `app/calc.py:20: `, `tests/test_b.py:1: in <module>`
_LOCATION = re.compile(r"^(?P<path>[^\s:]+\.py):(?P<line>[0-9]+):(?: (?P<rest>.*))?$")
_EXCEPTION = re.compile(r"^(?P<name>[A-Za-z_][\w.]*?(?:Error|Exception|Exit|Interrupt|Failed))\b")
_UNSAFE = ("<!DOCTYPE", "<!ENTITY")


def parse_pytest_junit(text: str, root: str, tool: str = TOOL) -> TestReport:
    """Counts and failures from a JUnit XML report pytest (or another `tool`) wrote."""
    cases = list(_test_cases(text))
    failed = [case for case in cases if _problem(case) is not None]
    skipped = sum(
        1 for case in cases if _problem(case) is None and case.find("skipped") is not None
    )
    counts = TestCounts(
        passed=len(cases) - len(failed) - skipped, failed=len(failed), skipped=skipped
    )
    return TestReport(counts, capped(_failure(case, root, tool) for case in failed))


def _test_cases(text: str) -> Iterator[ET.Element]:
    """Each complete `<testcase>`, up to the end or the first point the XML stops making sense."""
    if len(text) > MAX_INPUT_CHARS or any(marker in text for marker in _UNSAFE):
        return
    # No DTD can get past the check above, so expat expands no entities.
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("end",))
    try:
        parser.feed(text)
    except ValueError:  # text expat cannot take at all (a lone surrogate)
        return
    events = parser.read_events()
    while True:
        try:
            event = next(events)
        except (StopIteration, ET.ParseError):
            return
        element = event[-1]
        if isinstance(element, ET.Element) and element.tag == "testcase":
            yield element


def _problem(case: ET.Element) -> ET.Element | None:
    return case.find("failure") if case.find("failure") is not None else case.find("error")


def _failure(case: ET.Element, root: str, tool: str) -> Diagnostic:
    problem = _problem(case)
    text = (problem.text if problem is not None else None) or ""
    classname, name = case.get("classname") or "", case.get("name") or "a test"
    test = f"{classname}::{name}" if classname else name
    where = short_traceback(text.splitlines(), root)
    said = where.said or (problem.get("message", "") if problem is not None else "")
    return diagnostic(
        tool,
        Severity.ERROR,
        f"{test}: {said}" if said else test,
        root=root,
        file=where.file,
        line=where.line,
        code=where.code,
    )


@dataclass(frozen=True)
class ShortTraceback:
    """What pytest's short traceback says: its innermost place in the project, what it raised."""

    file: str | None
    line: str | None
    said: str
    code: str | None


def short_traceback(lines: list[str], root: str) -> ShortTraceback:
    """The `file.py:LINE:` frames and `E   …` lines pytest prints, read for a diagnostic."""
    locations = [m for line in lines if (m := _LOCATION.match(line))]
    inside = [
        (file, m["line"])
        for m in locations
        if (file := relative_path(m["path"], root)) and is_project_code(file)
    ]
    file, line = inside[-1] if inside else (None, None)
    raised = [e[1:].strip() for e in lines if e.startswith("E ")]
    return ShortTraceback(file, line, first_lines(raised), _exception(locations, raised))


def _exception(locations: list[re.Match[str]], raised: list[str]) -> str | None:
    """The exception's class: named after the innermost location, or in the `E` lines."""
    last = (locations[-1]["rest"] or "").strip() if locations else ""
    if last.isidentifier():
        return last
    return next((m["name"] for line in raised if (m := _EXCEPTION.match(line))), None)
