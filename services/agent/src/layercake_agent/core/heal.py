"""The details of a heal round: what failed, where, the code around it, what was tried.

Diagnostics are grouped by file, each file's in line order, with the lines
around each one (numbered, the diagnostic's line marked `>`). The model answers
with SEARCH/REPLACE edits, so it must see the code exactly as it stands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from layercake_agent.core.context import fenced

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from layercake_contracts.events import HealRequested
    from layercake_contracts.values import Diagnostic, EarlierAttempt

RADIUS = 3
MAX_DIAGNOSTICS = 60
MAX_HISTORY = 5
MAX_HISTORY_CHARS = 400


def heal_files(request: HealRequested) -> tuple[str, ...]:
    """The files of the base tree the diagnostics point at, in order of first mention."""
    named = (d.file for d in request.diagnostics if d.file is not None)
    return tuple(dict.fromkeys(f for f in named if f in request.base))


def render_heal(request: HealRequested, texts: Mapping[str, str]) -> str:
    """The heal details in Markdown; `texts` holds the contents of `heal_files(request)`."""
    shown = request.diagnostics[:MAX_DIAGNOSTICS]
    by_file: dict[str, list[Diagnostic]] = {}
    for diagnostic in shown:
        if diagnostic.file is not None:
            by_file.setdefault(diagnostic.file, []).append(diagnostic)
    parts = [
        _file_section(file, sorted(found, key=lambda d: d.line or 0), texts.get(file))
        for file, found in by_file.items()
    ]
    unlocated = [d for d in shown if d.file is None]
    if unlocated:
        parts.append("### Not tied to a file\n\n" + "\n".join(_describe(d) for d in unlocated))
    if len(request.diagnostics) > len(shown):
        parts.append(f"(and {len(request.diagnostics) - len(shown)} more diagnostics not shown)")
    if request.rejected:
        listing = "\n".join(f"- `{r.path}`: {r.reason}" for r in request.rejected)
        parts.append(f"### Paths refused in the last answer\n\n{listing}")
    parts.append("### Earlier attempts\n\n" + _history(request.history))
    return "\n\n".join(parts)


def _file_section(file: str, diagnostics: list[Diagnostic], text: str | None) -> str:
    listing = "\n".join(_describe(d) for d in diagnostics)
    if text is None:
        return f"### {file}\n\n{listing}\n\n(this file is not in the tree)"
    lines = [d.line for d in diagnostics if d.line is not None]
    excerpt = excerpt_lines(text, lines) if lines else ""
    return f"### {file}\n\n{listing}" + (f"\n\n{fenced(file, excerpt)}" if excerpt else "")


def _describe(d: Diagnostic) -> str:
    where = (
        "" if d.line is None else f"line {d.line}" + (f", column {d.column}" if d.column else "")
    )
    code = f" {d.code}" if d.code else ""
    return f"- {where + ': ' if where else ''}{d.severity}{code} ({d.tool}): {d.message}"


def excerpt_lines(text: str, marked: Iterable[int], radius: int = RADIUS) -> str:
    """The lines within `radius` of each marked line, numbered; gaps shown as `...`."""
    source = text.splitlines()
    marks = {n for n in marked if 1 <= n <= len(source)}
    wanted = sorted(
        {n for m in marks for n in range(max(m - radius, 1), min(m + radius, len(source)) + 1)}
    )
    out: list[str] = []
    for index, number in enumerate(wanted):
        if index and number != wanted[index - 1] + 1:
            out.append("   ...")
        marker = ">" if number in marks else " "
        out.append(f"{marker}{number:>5} | {source[number - 1]}")
    return "\n".join(out)


def _history(history: tuple[EarlierAttempt, ...]) -> str:
    if not history:
        return "(none recorded)"
    recent = history[-MAX_HISTORY:]
    skipped = len(history) - len(recent)
    lines = [f"- attempt {entry.attempt}: {entry.outcome[:MAX_HISTORY_CHARS]}" for entry in recent]
    return "\n".join(([f"- ({skipped} earlier attempts not shown)"] if skipped else []) + lines)
