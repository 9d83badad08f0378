"""From what a tool printed (and the reports it wrote) to diagnostics, test counts and coverage.

Pure. `interpret(parser, output, report, coverage, root)` picks the parser a
plan's command named; the parsers live in `core/diagnostics/`. A tool runs in
its toolchain's folder (`/workspace`, `/workspace/web`): `root`, the folder the
paths it reports are made relative to (the caller names them from the project's).
A test report is believed only when the runner's own summary line shows as
many passing tests: the tests run inside the runner and could write its
report folder themselves (issue #14, finding 9).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from layercake_builder.core.diagnostics.bundler import parse_bundler
from layercake_builder.core.diagnostics.common import capped, diagnostic, text_lines
from layercake_builder.core.diagnostics.coverage import (
    parse_coverage_json,
    parse_coverage_summary,
)
from layercake_builder.core.diagnostics.eslint import parse_eslint
from layercake_builder.core.diagnostics.fallback import unexplained_failure
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
from layercake_contracts.values import Diagnostic, Severity, TestCounts

if TYPE_CHECKING:
    from layercake_builder.core.diagnostics.common import TestReport

SANDBOX_ROOT = "/workspace"
UNBELIEVED = "report_not_believed"
# Each runner's summary line of the tests it ran (`2 passed, 1 failed in 0.1s`,
# `Tests:  2 passed, 2 total`, `Tests  2 passed (2)`, and Node's `pass 2`).
_SUMMARIES = {
    "pytest": re.compile(r"^=*\s*(?P<body>(?:no tests ran|\d+ \w+)(?:, \d+ \w+)*) in [\d.]+s\b"),
    "jest": re.compile(r"^Tests:\s+(?P<body>.*\b\d+ total)\s*$"),
    "vitest": re.compile(r"^\s*Tests\s+(?P<body>.*\(\d+\))\s*$"),
    "node-test": re.compile(r"^\S+ (?P<body>pass \d+)\s*$"),
}
_PASSED = re.compile(r"\b(?:(?P<count>\d+) passed|pass (?P<node>\d+))\b")


@dataclass(frozen=True)
class Parsed:
    """What one command's output says."""

    diagnostics: tuple[Diagnostic, ...] = ()
    tests: TestCounts | None = None
    coverage: float | None = None


Interpret = Callable[[str, str, str | None, str | None, str], Parsed]
Parser = Callable[[str, str | None, str | None, str], Parsed]


def _from_output(*parses: Callable[[str, str], tuple[Diagnostic, ...]]) -> Parser:
    """A parser of the tool's own output (or of its report, when it wrote one), by each parse."""
    return lambda output, report, _coverage, root: Parsed(
        capped(d for parse in parses for d in parse(report or output, root))
    )


def _tests(
    runner: str,
    parse: Callable[[str, str], TestReport],
    coverage_of: Callable[[str], float | None] | None = None,
    console: Callable[[str, str], tuple[Diagnostic, ...]] | None = None,
) -> Parser:
    """A test runner's parser: counts and failures from its report, coverage from its own.

    Without a report (a crash, an import error, a conftest that would not load)
    the runner's `console` output is read, else a traceback or a Node error.
    """

    def read(output: str, report: str | None, coverage: str | None, root: str) -> Parsed:
        if report is None:
            return Parsed(
                (console(output, root) if console is not None else ())
                or parse_python_tracebacks(output, root)
                or parse_node_errors(output, root)
            )
        result = parse(report, root)
        printed = printed_passes(runner, output)
        if (printed or 0) != result.counts.passed:
            claim = f"its report claims {result.counts.passed} passing tests"
            said = f"{runner} printed {printed if printed is not None else 'no summary'}; {claim}"
            found = diagnostic(runner, Severity.WARNING, f"{said}: not believed", code=UNBELIEVED)
            return Parsed((found,))
        percent = None
        if coverage is not None and coverage_of is not None and printed is not None:
            percent = coverage_of(coverage)
        return Parsed(result.diagnostics, result.counts, percent)

    return read


def printed_passes(runner: str, output: str) -> int | None:
    """How many tests passed by the runner's last summary line; None if it printed none."""
    summary = _SUMMARIES[runner]
    bodies = [m["body"] for line in text_lines(output) if (m := summary.match(line))]
    if not bodies:
        return None
    passed = _PASSED.search(bodies[-1])
    return int(passed["count"] or passed["node"]) if passed else 0


PARSERS: dict[str, Parser] = {
    "none": lambda _output, _report, _coverage, _root: Parsed(),
    "npm": _from_output(parse_npm_errors),
    "uv": _from_output(parse_uv_errors),
    "tsc": _from_output(parse_tsc),
    "node-build": _from_output(parse_tsc, parse_bundler, parse_npm_errors),
    "eslint": _from_output(parse_eslint),
    "node": _from_output(parse_node_errors, parse_npm_errors),
    "python": _from_output(parse_python_tracebacks),
    "ruff": _from_output(parse_ruff),
    "mypy": _from_output(parse_mypy),
    "npm-audit": _from_output(parse_npm_audit),
    "pip-audit": _from_output(parse_pip_audit),
    "pytest": _tests("pytest", parse_pytest_junit, parse_coverage_json, parse_pytest_output),
    "jest": _tests("jest", parse_jest, parse_coverage_summary),
    "vitest": _tests("vitest", parse_vitest, parse_coverage_summary, parse_vitest_console),
    "node-test": _tests("node-test", partial(parse_pytest_junit, tool="node-test")),
}


def named_failure(
    argv: tuple[str, ...],
    output: str,
    exit_code: int | None,
    found: tuple[Diagnostic, ...],
    root: str = SANDBOX_ROOT,
) -> tuple[Diagnostic, ...]:
    """For a failed command: nothing if something was `found`, else one diagnostic naming it."""
    return () if found else (unexplained_failure(" ".join(argv), output, exit_code, root),)


def interpret(
    parser: str, output: str, report: str | None, coverage: str | None, root: str = SANDBOX_ROOT
) -> Parsed:
    """What `output` (and the reports) mean, by the parser the plan named; paths from `root`."""
    return PARSERS.get(parser, PARSERS["none"])(output, report, coverage, root)
