"""The TypeScript compiler's output (`tsc`, plain, `--pretty false` or pretty) as diagnostics.

Pure: text in, diagnostics out. A message's indented continuation lines (the
"Property 'a' is missing…" chain) stay with it; pretty output's code frames do not.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from layercake_builder.core.diagnostics.common import (
    capped,
    diagnostic,
    relative_path,
    severity_of,
    text_lines,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from layercake_contracts.values import Diagnostic

TOOL = "tsc"

_KIND = r"(?P<severity>error|warning|message) (?P<code>TS[0-9]+): (?P<message>.*)$"
_LOCATED = (
    re.compile(r"^(?P<file>\S.*?)\((?P<line>[0-9]+),(?P<column>[0-9]+)\): " + _KIND),
    re.compile(r"^(?P<file>\S.*?):(?P<line>[0-9]+):(?P<column>[0-9]+) - " + _KIND),
)
_GLOBAL = re.compile(r"^" + _KIND)
_MAX_CONTINUATION = 40


def parse_tsc(text: str, root: str) -> tuple[Diagnostic, ...]:
    """One diagnostic per compiler message; the file relative to `root`, code `TS2307` etc."""
    return capped(_diagnostics(text_lines(text), root))


def _diagnostics(lines: list[str], root: str) -> Iterator[Diagnostic]:
    for index, line in enumerate(lines):
        match = next((m for p in _LOCATED if (m := p.match(line))), None) or _GLOBAL.match(line)
        if match is None:
            continue
        located = "file" in match.re.groupindex
        message = "\n".join([match["message"], *_continuation(lines, index + 1)])
        yield diagnostic(
            TOOL,
            severity_of(match["severity"]),
            message,
            root=root,
            file=relative_path(match["file"], root) if located else None,
            line=match["line"] if located else None,
            column=match["column"] if located else None,
            code=match["code"],
        )


def _continuation(lines: list[str], start: int) -> list[str]:
    """The indented lines right after a message, up to a blank or unindented line."""
    kept: list[str] = []
    for line in lines[start : start + _MAX_CONTINUATION]:
        if not line.strip() or not line[0].isspace():
            break
        kept.append(line.strip())
    return kept
