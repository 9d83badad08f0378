"""Python tracebacks in plain output (a crash of `python -m app`, a failed import) as diagnostics.

Pure. A traceback is its `File "…", line N` frames and the exception line that
closes them; it is placed at the innermost frame that is the project's own
code (not the standard library, not `.venv` or site-packages). Also reads the
`SyntaxError` blocks `compileall` prints, which have one frame and no header.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from layercake_builder.core.diagnostics.common import (
    capped,
    diagnostic,
    is_project_code,
    relative_path,
    text_lines,
)
from layercake_contracts.values import Severity

if TYPE_CHECKING:
    from collections.abc import Iterator

    from layercake_contracts.values import Diagnostic

TOOL = "python"

_FRAME = re.compile(r'^\s+File "(?P<path>[^"]+)", line (?P<line>[0-9]+)(?:, in .*)?$')
_EXCEPTION = re.compile(r"^(?P<name>[A-Za-z_][\w.]*)(?:: .*|:)?$")
_TRACEBACK = "Traceback (most recent call last):"


def parse_python_tracebacks(text: str, root: str) -> tuple[Diagnostic, ...]:
    """One diagnostic per traceback: the exception line, its class as code."""
    return capped(_diagnostics(text_lines(text), root))


def _diagnostics(lines: list[str], root: str) -> Iterator[Diagnostic]:
    frames: list[tuple[str, str]] | None = None  # (file, line) of the project's own frames
    for line in lines:
        frame = _FRAME.match(line)
        if frame is not None:
            file = relative_path(frame["path"], root)
            frames = frames or []
            if file is not None and is_project_code(file):
                frames.append((file, frame["line"]))
            continue
        if not line or line[0].isspace():
            continue  # source lines, carets, the traceback's own indentation
        exception = _EXCEPTION.match(line)
        if frames is not None and exception is not None and _is_class_name(exception["name"]):
            file, number = frames[-1] if frames else (None, None)
            yield diagnostic(
                TOOL,
                Severity.ERROR,
                line,
                root=root,
                file=file,
                line=number,
                code=exception["name"].rsplit(".", 1)[-1],
            )
        frames = [] if line == _TRACEBACK else None


def _is_class_name(name: str) -> bool:
    return name.rsplit(".", 1)[-1][:1].isupper()
