"""The one diagnostic of a failed command whose output no parser could read.

Pure. A heal always has something named: the command, how it ended, and the
last line of its output that looks like an error (`Error`, `error:`, `ERR!`,
`FAILED`, `Traceback`, `not found`, …), else its last line, quoted.
"""

from __future__ import annotations

import re

from layercake_builder.core.diagnostics.common import diagnostic, text_lines
from layercake_contracts.values import Diagnostic, Severity

TOOL = "build"
CODE = "unexplained-failure"

# The words and marks of an error line (U+00D7 is Vitest's mark of a failed test).
_ERROR_LIKE = re.compile(
    r"(?:\b(?:[A-Z]\w*Error|Exception|ERROR|FAILED|FAIL|Traceback|fatal|panic)\b"
    r"|\berror\b|ERR!|\bnot found\b|\bfailed\b|\bcannot\b|\bCannot\b|✘|\u00d7)"
)
# Lines that only point elsewhere or frame the output.
_NOISE = re.compile(
    r"^(?:npm (?:error|ERR!) (?:A complete log|For a full report)|at \S|Node\.js v\S+$"
    r"|[-=_~⎯─*#!.\s]*$)"
)
_NOT_AN_ERROR = re.compile(r"\b0 (?:errors?|failed)\b|\bno errors?\b", re.IGNORECASE)
_MAX_QUOTED = 300
_TAIL_CHARS = 1024 * 1024  # where the line is looked for: an error ends the output, near enough


def unexplained_failure(command: str, output: str, exit_code: int | None, root: str) -> Diagnostic:
    """`command` exited N (or was stopped), quoting the line of its output that names the error."""
    ended = f"exited {exit_code}" if exit_code is not None else "was stopped"
    quoted = last_error_line(output)
    said = f": {quoted}" if quoted else ", printing nothing"
    return diagnostic(TOOL, Severity.ERROR, f"`{command}` {ended}{said}", root=root, code=CODE)


def last_error_line(output: str) -> str | None:
    """The last error-looking line of `output` (its last MiB), else its last meaningful line."""
    last = None
    for printed in reversed(text_lines(output[-_TAIL_CHARS:])):
        line = printed.strip()
        if _NOISE.match(line):
            continue
        last = last or line
        if _ERROR_LIKE.search(line) and not _NOT_AN_ERROR.search(line):
            return _quoted(line)
    return _quoted(last) if last else None


def _quoted(chosen: str) -> str:
    return chosen if len(chosen) <= _MAX_QUOTED else chosen[: _MAX_QUOTED - 1] + "…"
