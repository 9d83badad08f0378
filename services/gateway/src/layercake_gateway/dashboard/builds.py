"""The builds section: each build's steps, its diagnostics at their file and line, its log.

Read from the project's bus events (BuildStarted, then BuildSucceeded or
BuildFailed); a diagnostic that names a line of the built tree links to an
excerpt of that file, read from the blob store. Model-written text (commands,
output, messages, file contents) is escaped by the template.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from layercake_contracts.events import BuildFailed, BuildStarted, BuildSucceeded
from layercake_contracts.values import Diagnostic, StepResult
from layercake_gateway.dashboard.markup import Excerpt, cut, excerpt

if TYPE_CHECKING:
    from layercake_contracts.events import EventBase
    from layercake_contracts.values import Manifest
    from layercake_gateway.dashboard.source import Source

MAX_EXCERPTS = 20  # per build: the first diagnostics' places are shown, the rest named


@dataclass(frozen=True)
class Finding:
    """A diagnostic, and the anchor of its excerpt when it has one."""

    diagnostic: Diagnostic
    where: str  # "path:line:column", or "" when the tool named no file
    anchor: str | None


@dataclass(frozen=True)
class Findings:
    """A build's (or a heal prompt's) diagnostics and the excerpts they link to."""

    items: tuple[Finding, ...]
    excerpts: tuple[tuple[str, Excerpt], ...]  # (anchor, excerpt)


@dataclass(frozen=True)
class StepView:
    """One step as shown: its result, and its command as one line."""

    result: StepResult
    command: str  # its commands, one a line
    findings: Findings
    output: str


@dataclass(frozen=True)
class BuildView:
    """One build of a role's tree at a gate."""

    anchor: str
    gate: str
    role: str
    attempt: int
    at: str
    outcome: str  # "passed", "failed", "could not run", "running"
    summary: str
    toolchains: tuple[str, ...]
    steps: tuple[StepView, ...]


async def builds(source: Source) -> dict[str, object]:
    """The template context: the project's builds, newest first."""
    started: dict[tuple[str, str, int], BuildStarted] = {}
    shown: list[BuildView] = []
    for event in await source.events():
        if isinstance(event, BuildStarted):
            started[(event.gate.value, event.role.value, event.attempt)] = event
        elif isinstance(event, BuildSucceeded | BuildFailed):
            begun = started.pop((event.gate.value, event.role.value, event.attempt), None)
            shown.append(await _build(source, event, begun))
    shown.extend(_running(begun) for begun in started.values())
    shown.sort(key=lambda b: b.at, reverse=True)
    return {"builds": shown}


async def findings(
    source: Source, anchor: str, diagnostics: tuple[Diagnostic, ...], tree: Manifest
) -> Findings:
    """`diagnostics`, each linked to an excerpt of its file in `tree` at its line."""
    items: list[Finding] = []
    excerpts: list[tuple[str, Excerpt]] = []
    places: dict[tuple[str, int], str] = {}
    for diagnostic in diagnostics:
        path, line = diagnostic.file, diagnostic.line
        where = _where(diagnostic)
        link = None
        if path is not None and line is not None and path in tree:
            link = places.get((path, line))
            if link is None and len(excerpts) < MAX_EXCERPTS:
                text = await source.text(tree[path].sha256)
                found = None if text is None else excerpt(path, text, line)
                if found is not None:
                    link = f"{anchor}-at-{len(excerpts) + 1}"
                    places[(path, line)] = link
                    excerpts.append((link, found))
        items.append(Finding(diagnostic, where, link))
    return Findings(tuple(items), tuple(excerpts))


def command_lines(commands: tuple[str, ...]) -> str:
    """A step's commands (shell lines, in the order they ran), one a line."""
    return "\n".join(commands)


async def _build(
    source: Source, event: BuildSucceeded | BuildFailed, begun: BuildStarted | None
) -> BuildView:
    anchor = f"build-{event.event_id.hex[:12]}"
    steps = []
    for n, result in enumerate(event.results, start=1):
        found = await findings(source, f"{anchor}-s{n}", result.diagnostics, event.manifest)
        steps.append(StepView(result, command_lines(result.command), found, cut(result.output)))
    outcome, summary = _outcome(event)
    return BuildView(
        anchor=anchor, gate=event.gate.value, role=event.role.value, attempt=event.attempt,
        at=_at(event), outcome=outcome, summary=summary,
        toolchains=begun.toolchains if begun is not None else (), steps=tuple(steps),
    )  # fmt: skip


def _running(begun: BuildStarted) -> BuildView:
    steps = ", ".join(begun.steps)
    return BuildView(
        anchor=f"build-{begun.event_id.hex[:12]}", gate=begun.gate.value, role=begun.role.value,
        attempt=begun.attempt, at=_at(begun), outcome="running", summary=f"running {steps}",
        toolchains=begun.toolchains, steps=(),
    )  # fmt: skip


def _outcome(event: BuildSucceeded | BuildFailed) -> tuple[str, str]:
    if isinstance(event, BuildSucceeded):
        return "passed", f"every step passed ({len(event.results)} ran)"
    if event.fault is not None:
        return "could not run", f"{event.failed_step}: {event.fault.cause}: {event.fault.detail}"
    return "failed", f"{event.failed_step} failed"


def _where(diagnostic: Diagnostic) -> str:
    if diagnostic.file is None:
        return ""
    parts = [diagnostic.file, *(str(n) for n in (diagnostic.line, diagnostic.column) if n)]
    return ":".join(parts)


def _at(event: EventBase) -> str:
    return event.occurred_at.strftime("%Y-%m-%d %H:%M:%S UTC")
