"""Python linters: ruff's JSON report and mypy's plain output, as diagnostics.

Pure. ruff: `ruff check --output-format json`, code the rule (None for a
syntax error), location its row and column. mypy: `file.py:12: error: … [code]`,
with `--show-column-numbers` `file.py:12:5:`; notes are information.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from layercake_builder.core.diagnostics.common import (
    capped,
    diagnostic,
    entries,
    field,
    load_json,
    relative_path,
    severity_of,
    string,
    text_lines,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from layercake_contracts.values import Diagnostic

RUFF = "ruff"
MYPY = "mypy"

_MYPY_LINE = re.compile(
    r"^(?P<file>[^:\s][^:]*?):(?:(?P<line>[0-9]+):(?:(?P<column>[0-9]+):)?(?:[0-9]+:[0-9]+:)?)?"
    r" (?P<severity>error|warning|note): (?P<message>.*?)(?:  \[(?P<code>[\w-]+)\])?$"
)


def parse_ruff(text: str, root: str) -> tuple[Diagnostic, ...]:
    """One diagnostic per violation in ruff's JSON report."""
    return capped(_ruff(entries(load_json(text)), root))


def _ruff(violations: list[object], root: str) -> Iterator[Diagnostic]:
    for violation in violations:
        path = string(field(violation, "filename"))
        yield diagnostic(
            RUFF,
            severity_of(field(violation, "severity")),
            string(field(violation, "message")) or "",
            root=root,
            file=relative_path(path, root) if path else None,
            line=field(violation, "location", "row"),
            column=field(violation, "location", "column"),
            code=string(field(violation, "code")),
        )


def parse_mypy(text: str, root: str) -> tuple[Diagnostic, ...]:
    """One diagnostic per line mypy printed: errors, warnings, and notes as information."""
    return capped(_mypy(text_lines(text), root))


def _mypy(lines: list[str], root: str) -> Iterator[Diagnostic]:
    for line in lines:
        match = _MYPY_LINE.match(line)
        if match is None:
            continue
        yield diagnostic(
            MYPY,
            severity_of(match["severity"]),
            match["message"],
            root=root,
            file=relative_path(match["file"], root),
            line=match["line"],
            column=match["column"],
            code=match["code"],
        )
