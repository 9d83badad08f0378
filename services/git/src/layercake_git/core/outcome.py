"""The events the git service answers with, each id derived from the request's.

A redelivered request is answered with the same event id, so the stream stores
the answer once, however often the request is handled.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from layercake_contracts.events import CommitCreated, CommitSkipped, PushCompleted, PushFailed
from layercake_git.core.checks import shown_remote
from layercake_git.core.history import trailer

if TYPE_CHECKING:
    from layercake_contracts.events import BuildSucceeded, EventBase, ExportRequested, GateApproved
    from layercake_contracts.values import Role

_OUTCOME_NAMESPACE = uuid.UUID("6b0e9c3a-5d2f-4f7e-8a41-2c9d7e5b1f30")
MAX_REASON = 2000


def outcome_id(request: EventBase) -> uuid.UUID:
    """The event id of the git service's answer to `request`."""
    return uuid.uuid5(_OUTCOME_NAMESPACE, f"git:{request.event_id}")


def commit_created(
    request: BuildSucceeded | GateApproved, *, role: Role, sha: str, branch: str, files: int
) -> CommitCreated:
    """The answer to a request that made (or had made) commit `sha`."""
    return CommitCreated.follow(
        request,
        **_about_commit(request, sha, branch),
        role=role,
        files_changed=files,
        trailer=trailer(request.event_id),
    )


def commit_skipped(request: BuildSucceeded, *, sha: str, branch: str) -> CommitSkipped:
    """The answer to a build whose tree commit `sha` already holds: nothing was committed."""
    return CommitSkipped.follow(request, **_about_commit(request, sha, branch))


def _about_commit(
    request: BuildSucceeded | GateApproved, sha: str, branch: str
) -> dict[str, object]:
    return {"event_id": outcome_id(request), "gate": request.gate, "sha": sha, "branch": branch}


def push_completed(request: ExportRequested, sha: str) -> PushCompleted:
    """The answer to an export whose branch reached the remote at `sha`."""
    return PushCompleted.follow(request, **_about_push(request), sha=sha)


def push_failed(request: ExportRequested, reason: str) -> PushFailed:
    """The answer to an export that did not happen, and why."""
    return PushFailed.follow(request, **_about_push(request), reason=reason[:MAX_REASON])


def _about_push(request: ExportRequested) -> dict[str, object]:
    return {
        "event_id": outcome_id(request),
        "remote_url": shown_remote(request.remote_url),  # a password in it stays out
        "branch": request.branch,
    }
