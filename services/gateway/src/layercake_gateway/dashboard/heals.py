"""The heals section: what each heal prompt showed the model, what it changed, what came of it.

A HealRequested carries the failing step's command, exit code, output and
diagnostics, and the tree that failed (`base`). The answer to it is the
CodeGenerated of the same gate, role and attempt; what the parser made of it
the FilesWritten (or FilesRejected) of that attempt, whose tree, against the
failing one, is the model's edit as a diff. The result is that attempt's build.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from layercake_contracts.events import (
    AgentFailed,
    BuildFailed,
    BuildSucceeded,
    CodeGenerated,
    EscalationRaised,
    FilesRejected,
    FilesWritten,
    HealRequested,
)
from layercake_gateway.dashboard.builds import Findings, findings
from layercake_gateway.dashboard.markup import DiffLine, cut, unified_diff

if TYPE_CHECKING:
    from collections.abc import Sequence

    from layercake_contracts.events import EventBase
    from layercake_contracts.values import Manifest
    from layercake_gateway.dashboard.source import Source

MAX_FILES = 30  # diffed per heal; the rest are named

_ANSWERS = CodeGenerated | FilesWritten | FilesRejected | BuildSucceeded | BuildFailed | AgentFailed


@dataclass(frozen=True)
class FileDiff:
    """One file the heal changed, and how."""

    path: str
    lines: tuple[DiffLine, ...]


@dataclass(frozen=True)
class HealView:
    """One heal round: the prompt's failure, the answer, its edit, the result."""

    anchor: str
    gate: str
    role: str
    attempt: int
    at: str
    failed_step: str
    command: str
    exit_code: int | None
    output_tail: str
    findings: Findings
    rejected: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]
    answer: str | None  # the model's answer, as it wrote it
    diffs: tuple[FileDiff, ...]
    not_diffed: tuple[str, ...]
    result: str  # "passed", "failed", "no edits", "agent failed", "escalated", "waiting"
    result_detail: str


async def heals(source: Source) -> dict[str, object]:
    """The template context: the project's heals, newest first."""
    events = await source.events()
    shown = [await _heal(source, e, events) for e in events if isinstance(e, HealRequested)]
    return {"heals": shown[::-1]}


async def _heal(source: Source, heal: HealRequested, events: list[EventBase]) -> HealView:
    anchor = f"heal-{heal.event_id.hex[:12]}"
    later = [e for e in events if isinstance(e, _ANSWERS) and _same_attempt(e, heal)]
    generated = next((e for e in later if isinstance(e, CodeGenerated)), None)
    written = next((e for e in later if isinstance(e, FilesWritten)), None)
    diffs, not_diffed = await _diffs(source, heal.base, written) if written else ((), ())
    result, detail = _result(heal, later, events)
    return HealView(
        anchor=anchor, gate=heal.gate.value, role=heal.role.value, attempt=heal.attempt,
        at=heal.occurred_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        failed_step=heal.failed_step.value if heal.failed_step else "",
        command=heal.command, exit_code=heal.exit_code,
        output_tail=heal.output_tail,
        findings=await findings(source, anchor, heal.diagnostics, heal.base),
        rejected=tuple((r.path, r.reason) for r in heal.rejected), warnings=heal.warnings,
        answer=await _answer(source, generated),
        diffs=diffs, not_diffed=not_diffed, result=result, result_detail=detail,
    )  # fmt: skip


async def _answer(source: Source, generated: CodeGenerated | None) -> str | None:
    text = None if generated is None else await source.text(generated.answer)
    return None if text is None else cut(text)


def _same_attempt(event: EventBase, heal: HealRequested) -> bool:
    return (
        getattr(event, "gate", None) == heal.gate
        and getattr(event, "role", None) == heal.role
        and getattr(event, "attempt", None) == heal.attempt
    )


async def _diffs(
    source: Source, failing: Manifest, healed: FilesWritten
) -> tuple[tuple[FileDiff, ...], tuple[str, ...]]:
    """What the healed tree changes of the failing one, file by file."""
    change = failing.diff(healed.manifest)
    paths = sorted({*change.added, *change.changed, *change.deleted})
    shown = []
    for path in paths[:MAX_FILES]:
        old = await source.text(failing[path].sha256) if path in failing else None
        new = await source.text(healed.manifest[path].sha256) if path in healed.manifest else None
        shown.append(FileDiff(path, tuple(unified_diff(path, old, new))))
    return tuple(shown), tuple(paths[MAX_FILES:])


def _result(
    heal: HealRequested, later: Sequence[EventBase], events: Sequence[EventBase]
) -> tuple[str, str]:
    for event in reversed(later):  # the last word on that attempt
        if isinstance(event, BuildSucceeded):
            return "passed", f"the build of attempt {heal.attempt} passed"
        if isinstance(event, BuildFailed):
            return "failed", f"the build of attempt {heal.attempt} failed at {event.failed_step}"
    rejected = next((e for e in later if isinstance(e, FilesRejected)), None)
    if rejected is not None:
        reasons = "; ".join(f"{r.path}: {r.reason}" for r in rejected.rejected) or "no edits"
        return "no edits", cut(f"nothing usable came of the answer ({reasons})", 2000)
    failed = next((e for e in later if isinstance(e, AgentFailed)), None)
    if failed is not None:
        return "agent failed", failed.reason
    escalated = next(
        (e for e in events if isinstance(e, EscalationRaised) and _same_attempt(e, heal)), None
    )
    if escalated is not None:
        return "escalated", escalated.reason
    return "waiting", f"attempt {heal.attempt} has not been built yet"
