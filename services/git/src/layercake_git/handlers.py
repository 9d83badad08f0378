"""The git service's bus edge: one ordered consumer for everything it handles.

BuildSucceeded, ArtifactRecorded, OptionSelected, GateApproved and ExportRequested arrive on
one durable consumer (`git-flow`), in stream order, one at a time (a retried message
holds the later ones back), so an approval is handled after the builds and documents
recorded before it, and an export after the approval that moved main. ProjectCreated,
GateOpened, GateRejected and IntakeRevised tell git which gate the ledger awaits: an
approval of any other is acknowledged and changes nothing (issue #18). Other events are
acknowledged and ignored.
History questions (see `layercake_contracts.rpc`) are answered beside the stream.

A manifest with a path into `.git` is dead-lettered at once: retrying cannot
make it safe, and the ProcessingFailed event names the path and the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from layercake_contracts.events import (
    ArtifactRecorded,
    BuildSucceeded,
    Event,
    EventBase,
    ExportRequested,
    GateApproved,
    GateOpened,
    GateRejected,
    IntakeRevised,
    OptionSelected,
    ProjectCreated,
)
from layercake_contracts.rpc import HISTORY_SUBJECT, HistoryQuestion, answer_questions
from layercake_contracts.runtime import Malformed
from layercake_git.errors import PathRefused

if TYPE_CHECKING:
    from layercake_contracts.runtime import ServiceRuntime
    from layercake_git.service import GitService


def register(runtime: ServiceRuntime, service: GitService) -> None:
    """Subscribe the git service's handler on `runtime`."""

    @runtime.subscribe(runtime.broker, None, name="flow", ordered=True)
    async def on_event(event: Event) -> None:
        answer = await _answer(event, runtime, service)
        if answer is not None:
            await runtime.bus.publish(answer)

    answer_questions(runtime.broker, HISTORY_SUBJECT, HistoryQuestion, service.history)


async def _answer(event: Event, runtime: ServiceRuntime, service: GitService) -> EventBase | None:
    match event:
        case BuildSucceeded():
            try:
                return await service.commit_build(event, await runtime.bus.blobs())
            except PathRefused as exc:
                raise Malformed(str(exc)) from exc
        case ArtifactRecorded():
            await service.record_artifact(event)
        case GateApproved():
            return await service.approve(event, await runtime.bus.blobs())
        case ProjectCreated() | GateOpened() | GateRejected() | IntakeRevised():
            await service.follow_gate(event)
        case OptionSelected():
            await service.select(event)
        case ExportRequested():
            return await service.export(event)
    return None
