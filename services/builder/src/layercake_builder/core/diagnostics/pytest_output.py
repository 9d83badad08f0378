"""pytest's console output when it stopped before its tests: conftest and collection errors.

Pure. For a run that wrote no JUnit report (exit 4: `ImportError while loading
conftest '…'`, `ERROR: file or directory not found`) or one whose report is
missing: each `ImportError while loading conftest` and `ERROR collecting …`
block becomes one diagnostic, placed at its innermost frame in the project
(or the `File "…", line N` of a SyntaxError), with the exception pytest
printed (`E   ModuleNotFoundError: No module named 'httpx'`) as message and
its class as code. A usage error (`ERROR: …`) is one diagnostic too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from layercake_builder.core.diagnostics.common import (
    block_under,
    capped,
    diagnostic,
    first_lines,
    project_file,
    text_lines,
)
from layercake_builder.core.diagnostics.junit import short_traceback
from layercake_contracts.values import Severity

if TYPE_CHECKING:
    from collections.abc import Iterator

    from layercake_contracts.values import Diagnostic

TOOL = "pytest"
USAGE = "UsageError"

_CONFTEST = re.compile(r"^(?P<what>ImportError while loading conftest '(?P<path>[^']+)')\.$")
_COLLECTING = re.compile(r"^_{3,} (?P<what>ERROR collecting (?P<path>.+?)) _{3,}$")
_USAGE = re.compile(r"^ERROR: (?P<message>.+)$")
_END = re.compile(r"^(?:_{3,} |={3,} |!{3,} )")
_SYNTAX_AT = re.compile(r'^File "(?P<path>[^"]+)", line (?P<line>[0-9]+)')
_RAISED = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Failed)\b")


def parse_pytest_output(text: str, root: str) -> tuple[Diagnostic, ...]:
    """One diagnostic per conftest or collection error, and one for a usage error."""
    return capped(_diagnostics(text_lines(text), root))


def _diagnostics(lines: list[str], root: str) -> Iterator[Diagnostic]:
    for index, line in enumerate(lines):
        header = _CONFTEST.match(line) or _COLLECTING.match(line)
        if header is not None:
            yield _error(header["what"], block_under(lines, index + 1, _ends), root)
        elif (usage := _USAGE.match(line)) is not None:
            yield diagnostic(TOOL, Severity.ERROR, usage["message"], root=root, code=USAGE)


def _ends(line: str) -> bool:
    return bool(_END.match(line) or _CONFTEST.match(line))


def _error(what: str, block: list[str], root: str) -> Diagnostic:
    where = short_traceback(block, root)
    raised = [e[1:].strip() for e in block if e.startswith("E ")]
    first = next((i for i, e in enumerate(raised) if _RAISED.match(e)), 0)
    said = first_lines(raised[first:]) or where.said
    file, line = where.file, where.line
    syntax = next((m for e in raised if (m := _SYNTAX_AT.match(e))), None)
    if syntax is not None and (at := project_file(syntax["path"], root)) is not None:
        file, line = at, syntax["line"]
    return diagnostic(
        TOOL,
        Severity.ERROR,
        f"{what}: {said}" if said else what,
        root=root,
        file=file,
        line=line,
        code=where.code,
    )
