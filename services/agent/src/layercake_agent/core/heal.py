"""The details of a heal round: what failed, where, the code around it, what was tried.

What failed is the step, its command and exit code, the diagnostics grouped by
file (each file's in line order, with the lines around each one, numbered, the
diagnostic's line marked `>`), and the end of the command's output with the
noise cut: always when no diagnostic parsed, shorter when some did. The model
answers with SEARCH/REPLACE edits, so it must see the code exactly as it stands.
"""

from __future__ import annotations

import re
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
HISTORY_DIAGNOSTICS = 3
# Lines of the failing command's output shown: all a model has when nothing parsed,
# a reminder of the context when diagnostics did.
TAIL_LINES = 80
TAIL_LINES_WITH_DIAGNOSTICS = 25
MAX_EARLIER_ERRORS = 10
MAX_LINE_CHARS = 300
DIAGNOSTICS = (
    "The diagnostics, grouped by file, each with the code around it (line numbers on the "
    "left, `>` marks the line a diagnostic names; numbers and markers are not in the file).\n\n"
)

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
_NOISE = re.compile(
    r"^\s*npm (?:timing|http|verb|sill)\b"  # npm's timing and `http fetch` lines
    r"|^\s*(?:Resolved|Prepared|Installed|Uninstalled|Audited|Built|Downloaded|Downloading)"
    r" \d+ packages?\b"  # uv's chatter
    r"|^\s*[-+~] [\w.\[\],-]+==\S+\s*$"  # uv's list of what it installed
    r"|^\s*(?:Using CPython|Creating virtual environment|Activate with:)"
    r"|^[\s\u2800-\u28ff\u2580-\u259f|/\\-]*$"  # spinners and bars, nothing else
    r"|^\s*\[?[#=>.\s-]*\]?\s*\d{1,3}%"  # a progress bar with its percentage
)
_ERROR = re.compile(r"error|ERR!|Traceback|exception|^E +|FAILED|not ok", re.IGNORECASE)


def heal_files(request: HealRequested) -> tuple[str, ...]:
    """The files of the base tree to show: those named, else those the last attempt changed.

    Named by a diagnostic first, then by the command's output (a traceback,
    a module that did not load), in order of first mention.
    """
    named = [d.file for d in request.diagnostics if d.file is not None]
    named += _paths_in(request.output_tail, request.base)
    found = tuple(dict.fromkeys(f for f in named if f in request.base))
    if found or not request.history:
        return found
    return tuple(f for f in request.history[-1].changed if f in request.base)


def _paths_in(output: str, paths: Iterable[str]) -> list[str]:
    """The paths of `paths` that `output` names, in order of first mention."""
    text = _ANSI.sub("", output)
    mentioned: list[tuple[int, str]] = []
    for path in paths:
        hit = re.search(rf"(?:^|[\s'\"(/]){re.escape(path)}(?=[\s'\"):,]|$)", text, re.MULTILINE)
        if hit is not None:
            mentioned.append((hit.start(), path))
    return [path for _, path in sorted(mentioned)]


def what_failed(request: HealRequested) -> str:
    """One sentence: the step, command and exit code; or that no build ran, and why."""
    if request.failed_step is None:
        if request.rejected:
            return "No build ran: the parser refused paths of your last answer (listed below)."
        if request.warnings:
            return f"No build ran: {request.warnings[0].rstrip('.')}."
        return "No build ran: your last answer had no edits the parser could apply."
    sentence = f"Your last answer was built, and the step `{request.failed_step}` failed"
    if request.command:
        code = "" if request.exit_code is None else f" with code {request.exit_code}"
        sentence += f": `{request.command}` exited{code}"
    elif request.exit_code is not None:
        sentence += f" with exit code {request.exit_code}"
    return sentence + "."


def render_heal(request: HealRequested, texts: Mapping[str, str]) -> str:
    """The heal details in Markdown; `texts` holds the contents of `heal_files(request)`."""
    parts = [DIAGNOSTICS + _diagnostics(request, texts)] if request.diagnostics else []
    lines = TAIL_LINES_WITH_DIAGNOSTICS if request.diagnostics else TAIL_LINES
    tail = clean_output(request.output_tail, lines)
    if tail:
        command = f" of `{request.command}`" if request.command else ""
        parts.append(f"### The output{command}, its end (noise cut)\n\n{fenced('', tail)}")
    elif not request.diagnostics and request.failed_step is not None:
        parts.append("### The output\n\n(the step printed nothing, and no diagnostic parsed)")
    if request.warnings:
        listing = "\n".join(f"- {w}" for w in request.warnings)
        parts.append(f"### What the parser said of your last answer\n\n{listing}")
    if request.rejected:
        listing = "\n".join(f"- `{r.path}`: {r.reason}" for r in request.rejected)
        parts.append(f"### Paths refused in the last answer\n\n{listing}")
    parts.append("### Earlier attempts\n\n" + _history(request.history))
    return "\n\n".join(parts)


def _diagnostics(request: HealRequested, texts: Mapping[str, str]) -> str:
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
    return "\n\n".join(parts)


def _file_section(file: str, diagnostics: list[Diagnostic], text: str | None) -> str:
    listing = "\n".join(_describe(d) for d in diagnostics)
    if text is None:
        return f"### {file}\n\n{listing}\n\n(this file is not in the tree)"
    lines = [d.line for d in diagnostics if d.line is not None]
    excerpt = excerpt_lines(text, lines) if lines else ""
    return f"### {file}\n\n{listing}" + (f"\n\n{fenced(file, excerpt)}" if excerpt else "")


def _describe(d: Diagnostic, *, with_file: bool = False) -> str:
    where = (
        "" if d.line is None else f"line {d.line}" + (f", column {d.column}" if d.column else "")
    )
    if with_file and d.file is not None:
        where = f"{d.file} {where}".strip()
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


def clean_output(output: str, max_lines: int) -> str:
    """`output` without colours, progress, install chatter and blank runs: its last lines.

    Error lines above the last `max_lines` are kept too (at most
    MAX_EARLIER_ERRORS of them, before a `...`), so a cut never hides the cause.
    """
    lines: list[str] = []
    for raw in _ANSI.sub("", output).splitlines():
        line = raw.rsplit("\r", 1)[-1].rstrip()  # a bar redrawn in place: its last state
        if line and _NOISE.search(line):
            continue
        if not line and (not lines or not lines[-1]):
            continue
        lines.append(line[:MAX_LINE_CHARS])
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) <= max_lines:
        return "\n".join(lines)
    cut, end = lines[:-max_lines], lines[-max_lines:]
    earlier = [line for line in cut if _ERROR.search(line)][-MAX_EARLIER_ERRORS:]
    return "\n".join([*earlier, "..."] if earlier else ["..."]) + "\n" + "\n".join(end)


def _history(history: tuple[EarlierAttempt, ...]) -> str:
    if not history:
        return "(none recorded)"
    recent = history[-MAX_HISTORY:]
    skipped = len(history) - len(recent)
    entries = [_attempt(entry) for entry in recent]
    return "\n".join(([f"- ({skipped} earlier attempts not shown)"] if skipped else []) + entries)


def _attempt(entry: EarlierAttempt) -> str:
    changed = ", ".join(f"`{path}`" for path in entry.changed) or "no file"
    outcome = entry.outcome[:MAX_HISTORY_CHARS]
    if entry.failed_step is None:
        then = f"no build ran: {outcome}"
    else:
        how = [f"`{entry.command}`"] if entry.command else []
        how += [] if entry.exit_code is None else [f"exit code {entry.exit_code}"]
        detail = f" ({', '.join(how)})" if how else ""
        then = f"then `{entry.failed_step}` failed{detail}: {outcome}"
    top = entry.diagnostics[:HISTORY_DIAGNOSTICS]
    found = "".join(f"\n  {_describe(d, with_file=True)}" for d in top)
    return f"- attempt {entry.attempt} changed {changed}; {then}{found}"
