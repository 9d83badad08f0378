"""Node.js errors in plain output (an uncaught exception and its stack) as diagnostics.

Pure. Also reads a JavaScript stack for the other parsers (Jest, Vitest): the
innermost frame inside the project wins; `node:internal`, `node_modules` and
anonymous frames are someone else's code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layercake_builder.core.diagnostics.common import (
    capped,
    diagnostic,
    first_lines,
    is_project_code,
    positive_int,
    relative_path,
    text_lines,
)
from layercake_contracts.values import Severity

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from layercake_contracts.values import Diagnostic

TOOL = "node"

_FRAME = re.compile(r"^\s+at (?:.*?\()?(?P<path>[^\s()]+?):(?P<line>[0-9]+):(?P<column>[0-9]+)\)?$")
# `TypeError: x is not a function`, `Error [ERR_MODULE_NOT_FOUND]: …`, `Uncaught RangeError: …`
_ERROR = re.compile(
    r"^(?:Uncaught )?(?P<name>[A-Za-z_$][\w$]*(?:Error|Exception)|Error)(?: \[[\w.]+\])?(?::|$)"
)
# node prints the throw site above the error: `/work/p/src/a.js:3`
_THROW_SITE = re.compile(r"^(?P<path>\S+?):(?P<line>[0-9]+)$")
# An ES module that imports a missing one: `… imported from /work/p/src/a.mjs`
_IMPORTED_FROM = re.compile(r"imported from (?P<path>\S+)$")
_MAX_LINES_TO_STACK = 20  # a message, `Require stack:` and its list, before the frames
_MAX_FRAMES = 200


@dataclass(frozen=True)
class Frame:
    """Where a stack frame points, relative to the project."""

    file: str
    line: int | None
    column: int | None = None


def project_frames(lines: Iterable[str], root: str) -> Iterator[Frame]:
    """The frames of a JavaScript stack that are the project's own code, innermost first."""
    for line in lines:
        match = _FRAME.match(line)
        if match is None:
            continue
        file = relative_path(match["path"], root)
        if file is not None and is_project_code(file):
            yield Frame(file, positive_int(match["line"]), positive_int(match["column"]))


def parse_node_errors(text: str, root: str) -> tuple[Diagnostic, ...]:
    """One diagnostic per uncaught error: its message up to the stack, its class as code."""
    return capped(_diagnostics(text_lines(text), root))


def _diagnostics(lines: list[str], root: str) -> Iterator[Diagnostic]:
    for index, line in enumerate(lines):
        match = _ERROR.match(line)
        if match is None:
            continue
        between, stack = _message_and_stack(lines, index + 1)
        if not stack:
            continue
        where = (
            next(project_frames(stack, root), None)
            or _throw_site(lines, index, root)
            or _importer(line, root)
        )
        yield diagnostic(
            TOOL,
            Severity.ERROR,
            first_lines([line, *between]),
            root=root,
            file=where.file if where else None,
            line=where.line if where else None,
            column=where.column if where else None,
            code=match["name"],
        )


def _message_and_stack(lines: list[str], start: int) -> tuple[list[str], list[str]]:
    """The rest of an error's message and the `at …` lines that follow it (none: not an error)."""
    window = lines[start : start + _MAX_LINES_TO_STACK]
    first = next((i for i, line in enumerate(window) if is_stack_line(line)), None)
    if first is None:
        return [], []
    stack: list[str] = []
    for line in lines[start + first : start + first + _MAX_FRAMES]:
        if not is_stack_line(line):
            break
        stack.append(line)
    return window[:first], stack


def is_stack_line(line: str) -> bool:
    """True for an indented `at …` line of a JavaScript stack, with or without a location."""
    return line.startswith(" ") and line.lstrip().startswith("at ")


def _throw_site(lines: list[str], index: int, root: str) -> Frame | None:
    """The `file:line` node prints above the error (a syntax error has no project frame)."""
    for line in reversed(lines[max(0, index - _MAX_LINES_TO_STACK) : index]):
        match = _THROW_SITE.match(line)
        if match is not None:
            file = relative_path(match["path"], root)
            return (
                Frame(file, positive_int(match["line"])) if file and is_project_code(file) else None
            )
    return None


def _importer(line: str, root: str) -> Frame | None:
    """The module whose import failed, for an ES module error that has neither frame nor site."""
    match = _IMPORTED_FROM.search(line)
    file = relative_path(match["path"], root) if match else None
    return Frame(file, None) if file and is_project_code(file) else None
