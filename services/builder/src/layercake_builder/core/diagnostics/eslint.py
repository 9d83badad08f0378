"""ESLint's JSON report (`eslint -f json`) as diagnostics.

Pure: the report's text in, one diagnostic per message out; code is the
rule id (None for a parsing error), severity 2 an error and 1 a warning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from layercake_builder.core.diagnostics.common import (
    capped,
    diagnostic,
    entries,
    field,
    load_json,
    relative_path,
    string,
)
from layercake_contracts.values import Severity

if TYPE_CHECKING:
    from collections.abc import Iterator

    from layercake_contracts.values import Diagnostic

TOOL = "eslint"

_SEVERITIES = {2: Severity.ERROR, 1: Severity.WARNING}


def parse_eslint(text: str, root: str) -> tuple[Diagnostic, ...]:
    """One diagnostic per message of every file in the report."""
    return capped(_diagnostics(entries(load_json(text)), root))


def _diagnostics(results: list[object], root: str) -> Iterator[Diagnostic]:
    for result in results:
        path = string(field(result, "filePath"))
        file = relative_path(path, root) if path else None
        for message in entries(field(result, "messages")):
            level = 2 if field(message, "fatal") is True else field(message, "severity")
            yield diagnostic(
                TOOL,
                _SEVERITIES.get(level, Severity.INFO) if isinstance(level, int) else Severity.INFO,
                string(field(message, "message")) or "",
                root=root,
                file=file,
                line=field(message, "line"),
                column=field(message, "column"),
                code=string(field(message, "ruleId")),
            )
