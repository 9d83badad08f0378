"""What a front-end build printed (esbuild, Vite on Rollup or on Rolldown) as diagnostics.

Pure. Reads esbuild's own `✘ [ERROR] …` blocks and the location line under
them; Vite's `[vite:esbuild] Transform failed` and its `file:line:col: ERROR:`
lines; an import that cannot be resolved (Rollup's `Could not resolve "x" from
"y"`, Vite's `failed to resolve import`, Rolldown's `[UNRESOLVED_IMPORT]`);
Rolldown's `[code] message` with its `╭─[ file:line:col ]` frame; and, when
none of these is there, the line after Vite's `error during build:`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from layercake_builder.core.diagnostics.common import (
    capped,
    diagnostic,
    project_file,
    text_lines,
)
from layercake_contracts.values import Severity

if TYPE_CHECKING:
    from collections.abc import Iterator

    from layercake_contracts.values import Diagnostic

ESBUILD = "esbuild"
VITE = "vite"
UNRESOLVED = "UNRESOLVED_IMPORT"

_LOOK_AHEAD = 4  # lines between a message and the place it points at
_ESBUILD = re.compile(r"^[✘▲] \[(?P<severity>ERROR|WARNING)\] (?P<message>.+?)(?: \[plugin .+\])?$")
_ESBUILD_PLACE = re.compile(r"^\s+(?P<path>\S.*?):(?P<line>[0-9]+):(?P<column>[0-9]+):$")
# Vite's rendering of an esbuild error: `/w/src/a.ts:2:10: ERROR: Unexpected ";"`
_TRANSFORM = re.compile(
    r"^(?P<path>\S.*?):(?P<line>[0-9]+):(?P<column>[0-9]+): ERROR: (?P<message>.+)$"
)
_PLUGIN = re.compile(r"^\[(?P<plugin>[\w:.-]+)\] \S")
_ROLLUP_RESOLVE = re.compile(r'^Could not resolve "(?P<spec>[^"]+)" from "(?P<path>[^"]+)"')
_VITE_RESOLVE = re.compile(
    r'^(?:Error: )?\[vite\]: \w+ failed to resolve import "(?P<spec>[^"]+)" from "(?P<path>[^"]+)"'
)
_ROLLDOWN = re.compile(r"^(?:Error: )?\[(?P<code>[\w:.-]+)\] (?P<message>.+)$")
_ROLLDOWN_PLACE = re.compile(r"^\s*╭─\[ (?P<path>\S.*?):(?P<line>[0-9]+):(?P<column>[0-9]+) \]$")
_BUILD_FAILED = "error during build:"
_SUMMARY = re.compile(r"^(?:Build failed with [0-9]+ errors?:?|)$")


def parse_bundler(text: str, root: str) -> tuple[Diagnostic, ...]:
    """One diagnostic per build error (esbuild's warnings too), placed where it points."""
    lines = text_lines(text)
    found = capped(_diagnostics(lines, root))
    return found or capped(_build_failed(lines, root))


def _diagnostics(lines: list[str], root: str) -> Iterator[Diagnostic]:
    plugin = None
    for index, line in enumerate(lines):
        if (match := _ESBUILD.match(line)) is not None:
            place = _place_after(lines, index, _ESBUILD_PLACE)
            severity = Severity.ERROR if match["severity"] == "ERROR" else Severity.WARNING
            yield _at(ESBUILD, severity, match["message"], place, root, None)
        elif (match := _TRANSFORM.match(line)) is not None:
            yield _at(VITE, Severity.ERROR, match["message"], match, root, plugin)
        elif (match := _ROLLUP_RESOLVE.match(line) or _VITE_RESOLVE.match(line)) is not None:
            message = f'Could not resolve "{match["spec"]}"'
            yield _at(VITE, Severity.ERROR, message, match, root, UNRESOLVED, line=False)
        elif (match := _ROLLDOWN.match(line)) is not None and (
            place := _place_after(lines, index, _ROLLDOWN_PLACE)
        ) is not None:
            yield _at(VITE, Severity.ERROR, match["message"], place, root, match["code"])
        if (named := _PLUGIN.match(line)) is not None:
            plugin = named["plugin"]


def _place_after(lines: list[str], index: int, place: re.Pattern[str]) -> re.Match[str] | None:
    """The first line that names a place, a few lines under a message, if any."""
    for line in lines[index + 1 : index + 1 + _LOOK_AHEAD]:
        if (match := place.match(line)) is not None:
            return match
    return None


def _at(
    tool: str,
    severity: Severity,
    message: str,
    place: re.Match[str] | None,
    root: str,
    code: str | None,
    *,
    line: bool = True,
) -> Diagnostic:
    file = project_file(place["path"], root) if place is not None else None
    placed = place if file is not None and line else None
    return diagnostic(
        tool,
        severity,
        message,
        root=root,
        file=file,
        line=placed["line"] if placed is not None else None,
        column=placed["column"] if placed is not None else None,
        code=code,
    )


def _build_failed(lines: list[str], root: str) -> Iterator[Diagnostic]:
    """What Vite said after `error during build:` when no known error shape was there."""
    if _BUILD_FAILED not in lines:
        return
    after = lines[lines.index(_BUILD_FAILED) + 1 :]
    said = next((line for line in after if not _SUMMARY.match(line.strip())), None)
    if said is not None and not said.lstrip().startswith("at "):
        yield diagnostic(VITE, Severity.ERROR, said, root=root)
