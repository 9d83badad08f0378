"""Which event a parse result becomes: FilesWritten when files came out, else FilesRejected."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from layercake_contracts.events import CodeGenerated, FilesRejected, FilesWritten
from layercake_contracts.values import (
    EXECUTABLE_FILE_MODE,
    REGULAR_FILE_MODE,
    FileEntry,
    FileMode,
    RejectedPath,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from layercake_parser.core.extract import Extraction

# The outcome's id is derived from the request's, so a redelivered CodeGenerated
# publishes the same event id and the stream stores it once.
_OUTCOME_NAMESPACE = uuid.UUID("3f1d2a4e-2b7c-4a8e-9d51-6c0f3e2b9a17")
NOTHING_USABLE = "no file came out of the answer"


def outcome_id(request: CodeGenerated) -> uuid.UUID:
    """The event id of the parser's answer to `request`."""
    return uuid.uuid5(_OUTCOME_NAMESPACE, f"parser:{request.event_id}")


def file_mode(content: str, before: FileMode | None = None) -> FileMode:
    """A written file's mode: executable when it opens with `#!`, else what it had (or 0644)."""
    if content.startswith("#!"):
        return EXECUTABLE_FILE_MODE
    return REGULAR_FILE_MODE if before is None else before


def outcome(
    request: CodeGenerated, result: Extraction, digests: Mapping[str, tuple[str, int]]
) -> FilesWritten | FilesRejected:
    """The event for `result`; `digests` maps each extracted path to (sha256, size)."""
    rejected = tuple(RejectedPath(path=r.path, reason=r.reason) for r in result.rejected)
    common = {
        "event_id": outcome_id(request),
        "role": request.role,
        "gate": request.gate,
        "attempt": request.attempt,
        "rejected": rejected,
    }
    if not result.files and not result.deleted:
        return FilesRejected.follow(request, **common, warnings=(*result.warnings, NOTHING_USABLE))
    base = request.base
    contents = {f.path: f.content for f in result.files}
    changes = {
        path: FileEntry(
            sha256=sha256,
            size=size,
            mode=file_mode(contents[path], base[path].mode if path in base else None),
        )
        for path, (sha256, size) in digests.items()
    }
    manifest = base.updated(changes, frozenset(result.deleted))
    diff = base.diff(manifest)
    return FilesWritten.follow(
        request,
        **common,
        manifest=manifest,
        changed=tuple(sorted((*diff.added, *diff.changed, *diff.deleted))),
        warnings=result.warnings,
    )
