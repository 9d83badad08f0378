"""The commits, errors and cost sections: the repository's history, what went wrong, what it cost.

Commits come from the git service (the `HISTORY_SUBJECT` question, with
diffs), the release from the ledger (G9's release artifact), the errors from
the ledger's error history, the cost from the ledger's totals and, per role,
from the CodeGenerated events on the bus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from layercake_contracts.events import CodeGenerated
from layercake_contracts.rpc import (
    HISTORY_SUBJECT,
    CommitEntry,
    HistoryAnswer,
    HistoryQuestion,
    Unanswered,
    ask,
)
from layercake_contracts.values import Gate, Usage
from layercake_gateway.core.gates import ArtifactKind
from layercake_gateway.dashboard.markup import DiffLine, diff_lines
from layercake_gateway.dashboard.source import Unavailable

if TYPE_CHECKING:
    from layercake_gateway.dashboard.source import Source

COMMITS_SHOWN = 50
QUESTION_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class CommitView:
    """One commit and its diff, as lines with their kinds."""

    entry: CommitEntry
    lines: tuple[DiffLine, ...]


async def commits(source: Source) -> dict[str, object]:
    """The template context: the newest commits with their diffs, and the release."""
    asked = HistoryQuestion(project_id=source.project.project_id, limit=COMMITS_SHOWN, diffs=True)
    try:
        answer = await ask(
            source.connected().connection, HISTORY_SUBJECT, asked, HistoryAnswer,
            QUESTION_TIMEOUT_S,
        )  # fmt: skip
    except Unanswered as exc:
        raise Unavailable(f"the git service did not answer: {exc}") from exc
    shown = [CommitView(c, tuple(diff_lines((c.diff or "").splitlines()))) for c in answer.commits]
    return {"commits": shown, "release": _release(source), "limit": COMMITS_SHOWN}


@dataclass(frozen=True)
class Release:
    """Where the release goes, and whether it got there."""

    remote_url: str
    branch: str
    by: str
    pushed: bool
    sha: str
    at: str


def _release(source: Source) -> Release | None:
    found = [
        a for a in source.project.artifacts[Gate.G9.value] if a["kind"] == ArtifactKind.RELEASE
    ]
    if not found:
        return None
    facts: dict[str, Any] = {**(source.project.release or {}), **found[-1]["facts"]}
    return Release(
        remote_url=str(facts.get("remote_url", "")), branch=str(facts.get("branch", "")),
        by=str(facts.get("by", "")), pushed=bool(facts.get("pushed")),
        sha=str(facts.get("sha", "")), at=str(facts.get("at", "")),
    )  # fmt: skip


@dataclass(frozen=True)
class ErrorView:
    """One entry of the error history, every field present."""

    at: str
    gate: str
    role: str
    attempt: str
    tool: str
    where: str  # "file:line" when a tool named a place
    message: str
    resolved_at: str | None


async def errors(source: Source) -> dict[str, object]:
    """The template context: the error history, open ones first, newest first in each."""
    every = [_error(e) for e in reversed(source.project.errors)]
    return {
        "open": [e for e in every if e.resolved_at is None],
        "resolved": [e for e in every if e.resolved_at is not None],
    }


def _error(entry: dict[str, Any]) -> ErrorView:
    place = ":".join(str(entry[k]) for k in ("file", "line") if entry.get(k) is not None)
    resolved = entry.get("resolved_at")
    return ErrorView(
        at=str(entry.get("at", "")), gate=str(entry.get("gate", "")),
        role=str(entry.get("role", "")).replace("_", " "), attempt=str(entry.get("attempt", "")),
        tool=str(entry.get("tool", "")), where=place, message=str(entry.get("message", "")),
        resolved_at=None if resolved is None else str(resolved),
    )  # fmt: skip


@dataclass(frozen=True)
class RoleCost:
    """What one role's model calls used."""

    role: str
    calls: int
    models: tuple[str, ...]
    usage: Usage


async def cost(source: Source) -> dict[str, object]:
    """The template context: the ledger's totals and, when the bus answers, each role's share."""
    project = source.project
    context: dict[str, object] = {"tokens": project.tokens, "cost_usd": project.cost_usd}
    try:
        events = await source.events()
    except Unavailable as exc:
        return {**context, "roles": [], "roles_problem": exc.reason}
    by_role: dict[str, list[CodeGenerated]] = {}
    for event in events:
        if isinstance(event, CodeGenerated):
            by_role.setdefault(event.role.value, []).append(event)
    roles = [
        RoleCost(
            role=role,
            calls=len(calls),
            models=tuple(sorted({c.model for c in calls})),
            usage=sum((c.usage for c in calls), Usage()),
        )
        for role, calls in by_role.items()
    ]
    return {**context, "roles": roles, "roles_problem": ""}
