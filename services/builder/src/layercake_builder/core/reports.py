"""From what a tool printed (and the report it wrote) to diagnostics, test counts and coverage.

Pure. `interpret(parser, output, report)` picks the parser a plan's command
named; each parser lives in `core/diagnostics/`. Paths come back relative to
the project (the sandbox runs every tool at `/workspace`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from layercake_contracts.values import Diagnostic, TestCounts

SANDBOX_ROOT = "/workspace"


@dataclass(frozen=True)
class Parsed:
    """What one command's output says."""

    diagnostics: tuple[Diagnostic, ...] = ()
    tests: TestCounts | None = None
    coverage: float | None = None


Interpret = Callable[[str, str, str | None], Parsed]
Parser = Callable[[str, str | None], Parsed]

PARSERS: dict[str, Parser] = {
    "none": lambda _output, _report: Parsed(),
}


def interpret(parser: str, output: str, report: str | None) -> Parsed:
    """What `output` (and `report`) mean, read by the parser the plan named."""
    return PARSERS.get(parser, PARSERS["none"])(output, report)
