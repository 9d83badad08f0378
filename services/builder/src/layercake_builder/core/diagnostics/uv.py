"""uv's errors (`uv venv`, `uv pip install`) as diagnostics.

Pure. Each `error: …` block with its indented `cause: …` lines is one
diagnostic. A resolution that found no solution names the requirement that
cannot be met (`Because x was not found in the package registry`, `there is no
version of x==9`), code `no-solution`; a pyproject that does not parse is placed
at the line and column uv names, code `toml-parse-error`; a build backend that
failed keeps the error lines it printed, code `build-failed`. Warnings and hints
are left out: each says again what an error says.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from layercake_builder.core.diagnostics.common import (
    block_under,
    capped,
    diagnostic,
    first_lines,
    relative_path,
    text_lines,
)
from layercake_contracts.values import Severity

if TYPE_CHECKING:
    from collections.abc import Iterator

    from layercake_contracts.values import Diagnostic

TOOL = "uv"
PYPROJECT = "pyproject.toml"
NO_SOLUTION = "no-solution"
TOML_ERROR = "toml-parse-error"
BUILD_FAILED = "build-failed"

_ERROR = re.compile(r"^error: (?P<headline>.*)$")
_CAUSE = re.compile(r"^\s+cause: (?P<cause>.*)$")
_REQUIREMENT = re.compile(
    r"Because (?P<missing>\S+) was not found in the package (?:registry|locations)"
    r"|there (?:is|are) no versions? of (?P<version>[^\s,]+)"
)
_TOML = re.compile(r"TOML parse error at line (?P<line>[0-9]+), column (?P<column>[0-9]+)")
_SAID = re.compile(r"^\s*(?:configuration error: |[A-Za-z_][\w.]*Error: )")
_FILE_NOT_FOUND = re.compile(r"^File not found: `?(?P<path>[^`]+)`?$")
_FAILED_TO_BUILD = re.compile(r"^Failed to (?:build|prepare distributions|parse metadata)")
_MAX_CAUSE_CHARS = 2_000


def parse_uv_errors(text: str, root: str) -> tuple[Diagnostic, ...]:
    """One diagnostic per error uv printed."""
    return capped(_diagnostics(text_lines(text), root))


def _diagnostics(lines: list[str], root: str) -> Iterator[Diagnostic]:
    for index, line in enumerate(lines):
        error = _ERROR.match(line)
        if error is not None:
            yield _error(error["headline"], block_under(lines, index + 1, _unindented), root)


def _unindented(line: str) -> bool:
    """True for a line that is not part of the block above it (`hint:`, the next `error:`)."""
    return bool(line.strip()) and not line[0].isspace()


def _error(headline: str, block: list[str], root: str) -> Diagnostic:
    causes = _causes(block)
    joined = " ".join(causes)
    found = _REQUIREMENT.search(joined)
    toml = next((m for line in block if (m := _TOML.search(line))), None)
    code, file, line, column = None, None, None, None
    message = first_lines([headline, *causes])
    if found is not None:
        code = NO_SOLUTION
        message = f"{headline}: `{found['missing'] or found['version']}` cannot be met\n{joined}"
    elif toml is not None:
        code, file, line, column = TOML_ERROR, PYPROJECT, toml["line"], toml["column"]
        message = f"{headline}: {toml[0]}: {_toml_reason(block)}"
    elif _FAILED_TO_BUILD.match(headline) and any(_SAID.match(b) for b in block):
        code = BUILD_FAILED
        file = PYPROJECT if PYPROJECT in "\n".join(block) else None
        message = first_lines([headline, *causes, *(b for b in block if _SAID.match(b))])
    elif (missing := _FILE_NOT_FOUND.match(headline)) is not None:
        file = relative_path(missing["path"], root)
    return diagnostic(
        TOOL, Severity.ERROR, message, root=root, file=file, line=line, column=column, code=code
    )


def _causes(block: list[str]) -> list[str]:
    """Each `cause:` with the lines that continue it (up to a blank line), as one line."""
    causes: list[str] = []
    open_cause = False
    for line in block:
        cause = _CAUSE.match(line)
        if cause is not None:
            causes.append(cause["cause"].strip())
            open_cause = True
        elif not line.strip():
            open_cause = False
        elif open_cause and len(causes[-1]) < _MAX_CAUSE_CHARS:
            causes[-1] = f"{causes[-1]} {line.strip()}"
    return causes


def _toml_reason(block: list[str]) -> str:
    """What uv said is wrong in the TOML: the line under its caret frame."""
    after = [line.strip() for line in block if line.strip()]
    frame = [i for i, line in enumerate(after) if line.startswith(("|", "^")) or "|" in line[:6]]
    return after[frame[-1] + 1] if frame and frame[-1] + 1 < len(after) else ""
