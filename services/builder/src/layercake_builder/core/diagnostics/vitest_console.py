"""Vitest's console output (its default reporter) as diagnostics, for a run that wrote no report.

Pure. Each ` FAIL  file > suite > test` block (or ` FAIL  file [ file ]` for a
test file that could not load) becomes one diagnostic: the test's name and the
error line under it, its class as code, placed at the block's first
`> file:line:col` inside the project (its mark is U+276F, not `>`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from layercake_builder.core.diagnostics.common import (
    block_under,
    capped,
    diagnostic,
    project_file,
    text_lines,
)
from layercake_contracts.values import Severity

if TYPE_CHECKING:
    from collections.abc import Iterator

    from layercake_contracts.values import Diagnostic

TOOL = "vitest"

_FAIL = re.compile(r"^\s*FAIL\s+(?P<file>\S+?)(?: > (?P<name>.+?)| \[ .+ \])?\s*$")
_ERROR = re.compile(r"^(?P<name>[A-Za-z_$][\w$]*(?:Error|Exception)|Error)(?: \[[\w.]+\])?:")
_PLACE = re.compile(r"^\s*\u276f (?P<path>\S+?):(?P<line>[0-9]+):(?P<column>[0-9]+)\s*$")
_END = re.compile(r"^\s*(?:FAIL\s|⎯)")
_MAX_BLOCK = 200


def parse_vitest_console(text: str, root: str) -> tuple[Diagnostic, ...]:
    """One diagnostic per failed test or test file Vitest printed."""
    return capped(_diagnostics(text_lines(text), root))


def _diagnostics(lines: list[str], root: str) -> Iterator[Diagnostic]:
    for index, line in enumerate(lines):
        header = _FAIL.match(line)
        if header is None:
            continue
        block = block_under(lines, index + 1, _END.match, _MAX_BLOCK)
        said = next((b.strip() for b in block if b.strip()), "")
        error = _ERROR.match(said)
        place = next(
            (p for b in block if (p := _PLACE.match(b)) and project_file(p["path"], root)), None
        )
        test = header["name"] or header["file"]
        yield diagnostic(
            TOOL,
            Severity.ERROR,
            f"{test}: {said}" if said else test,
            root=root,
            file=project_file(place["path"], root) if place else project_file(header["file"], root),
            line=place["line"] if place else None,
            column=place["column"] if place else None,
            code=error["name"] if error else None,
        )
