"""The manual provider: each prompt is answered by a person (or a helper), through the API.

On a request the desk builds the prompt as for a model, keeps its text as a blob,
writes it to `<folder>/<project>/NNN-<role>-<gate>-attempt-<a>.md` and announces
`AnswerAwaited`; then it is done with the request, and nothing waits in memory.
What it awaits is kept in `<agent root>/<project>/awaited/<request id>.json` (the
request and its announcement): a redelivered request announces the same prompt
again (the same event id, which the stream stores once), and a restart loses
nothing. An `AnswerGiven` becomes the `CodeGenerated` a model's answer would have
made (model `manual`, no usage), once: the outcome is kept as any other.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING

import structlog

from layercake_agent.core.outcome import Answer, failed, generated
from layercake_agent.errors import AgentError
from layercake_agent.service import assemble_prompt
from layercake_contracts.events import AgentRequested, AnswerAwaited, HealRequested, parse_event
from layercake_contracts.materialise import write_tree
from layercake_contracts.values import REGULAR_FILE_MODE, Usage

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from layercake_agent.adapters.provider import Completion
    from layercake_agent.adapters.state import ProjectStore
    from layercake_agent.core.prompt import Prompt, Templates
    from layercake_agent.service import Blobs
    from layercake_agent.settings import Settings
    from layercake_contracts.events import (
        AgentFailed,
        AnswerGiven,
        CodeGenerated,
    )

log = structlog.get_logger(__name__)

NAME = "manual"
AWAITED = "awaited"
_AWAITED_NAMESPACE = uuid.UUID("8b4e2f1a-6c3d-4e5f-a7b8-9c0d1e2f3a4b")


class AnsweredByHand(AgentError):
    """The manual provider's prompts are answered through the API, not by a call."""

    def __init__(self) -> None:
        super().__init__(
            "the manual provider answers no call: run the agent worker, then list the prompts"
            " with `layercake prompts` and answer with `layercake answer PROJECT FILE`"
        )


class AwaitedUnreadable(AgentError):
    """A file of awaited requests holds something else than a request and its announcement."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path}: not a request and its AnswerAwaited")
        self.path = path


class ByHand:
    """The manual provider where a provider is called (`layercake agent ask`): it refuses."""

    name = NAME

    async def complete(
        self,
        prompt: Prompt,  # noqa: ARG002  # the Provider interface
        on_text: Callable[[str], None] | None = None,  # noqa: ARG002  # the Provider interface
    ) -> Completion:
        """Refused: `AnsweredByHand` says how a manual prompt is answered."""
        raise AnsweredByHand


def prompt_text(prompt: Prompt) -> str:
    """The whole prompt as one Markdown file: what a model is told, then what it is asked."""
    parts = [f"# System\n\n{prompt.system.strip()}\n"]
    if prompt.context:
        parts.append(f"# Context\n\n{prompt.context.strip()}\n")
    parts.append(f"# Task\n\n{prompt.task.strip()}\n")
    return "\n".join(parts)


def prompt_file_name(number: int, prompt: Prompt) -> str:
    """`NNN-<role>-<gate>-attempt-<a>.md`: sorted as they were asked."""
    return f"{number:03d}-{prompt.role}-{prompt.gate}-attempt-{prompt.attempt}.md"


class ManualDesk:
    """Writes prompts out for a person, and passes a person's answers on."""

    def __init__(
        self, store: ProjectStore, root: Path, templates: Templates, settings: Settings
    ) -> None:
        self._store = store
        self._root = root  # the agent's folder: `manual/` for prompts, `<project>/awaited/`
        self._templates = templates
        self._settings = settings
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def request(
        self, request: AgentRequested | HealRequested, blobs: Blobs
    ) -> AnswerAwaited | CodeGenerated | AgentFailed:
        """What answers `request` so far: its outcome, or the announcement of its prompt."""
        project = request.project_id
        async with self._locks[project]:
            kept = self._store.outcome(project, request.event_id)
            if kept is not None:
                log.info("request_already_answered", outcome=kept.type)
                return kept
            awaited = self._awaited(project, request.event_id)
            if awaited is not None:
                log.info("prompt_already_awaited", number=awaited[1].number)
                return awaited[1]
            try:
                announced = await self._announce(request, blobs)
            except AgentError as exc:
                log.warning("request_failed", reason=str(exc), retryable=exc.retryable)
                outcome = failed(request, reason=str(exc), retryable=exc.retryable)
                self._store.keep(request.event_id, outcome)
                return outcome
            log.info("prompt_awaits_answer", number=announced.number, size=announced.size,
                     file=announced.file)  # fmt: skip
            return announced

    async def _announce(
        self, request: AgentRequested | HealRequested, blobs: Blobs
    ) -> AnswerAwaited:
        project = request.project_id
        record = self._store.record(project)
        prompt = await assemble_prompt(
            self._templates, request, record, blobs, self._settings.context_budget(request.role)
        )
        text = prompt_text(prompt)
        number = self._count(project) + 1
        folder = self._root / NAME / project
        name = prompt_file_name(number, prompt)
        await asyncio.to_thread(write_tree, folder, {name: (text.encode(), REGULAR_FILE_MODE)})
        announced = AnswerAwaited.follow(
            request, event_id=uuid.uuid5(_AWAITED_NAMESPACE, str(request.event_id)),
            request_id=request.event_id, number=number, role=request.role, gate=request.gate,
            attempt=request.attempt, prompt=await blobs.put(text.encode()), size=len(text),
            file=str(folder / name),
        )  # fmt: skip
        self._keep(request, announced)
        return announced

    async def answered(self, given: AnswerGiven) -> CodeGenerated | None:
        """The CodeGenerated a person's answer makes; None (saying why) for one not awaited."""
        project = given.project_id
        async with self._locks[project]:
            kept = self._store.outcome(project, given.request_id)
            if kept is not None:
                log.warning(
                    "answer_ignored", number=given.number, answer=given.event_id,
                    reason=f"prompt {given.number} was answered already ({kept.type})",
                )  # fmt: skip
                return None
            awaited = self._awaited(project, given.request_id)
            if awaited is None:
                log.warning(
                    "answer_ignored", number=given.number, answer=given.event_id,
                    reason=f"this agent awaits no answer to request {given.request_id}",
                )  # fmt: skip
                return None
            request, announced = awaited
            waited = (given.occurred_at - announced.occurred_at).total_seconds()
            answer = Answer(text="", model=NAME, usage=Usage(), duration_s=max(waited, 0.0))
            outcome = generated(request, answer, given.answer)
            self._store.keep(request.event_id, outcome)
            log.info("answer_given", number=given.number, by=given.by, size=given.size)
            return outcome

    def _count(self, project: str) -> int:
        folder = self._root / project / AWAITED
        return sum(1 for _ in folder.glob("*.json")) if folder.is_dir() else 0

    def _awaited(
        self, project: str, request_id: uuid.UUID
    ) -> tuple[AgentRequested | HealRequested, AnswerAwaited] | None:
        path = self._root / project / AWAITED / f"{request_id}.json"
        if not path.exists():
            return None
        request_line, announced_line = path.read_bytes().splitlines()
        request, announced = parse_event(request_line), parse_event(announced_line)
        if not isinstance(request, AgentRequested | HealRequested) or not isinstance(
            announced, AnswerAwaited
        ):
            raise AwaitedUnreadable(path)
        return request, announced

    def _keep(self, request: AgentRequested | HealRequested, announced: AnswerAwaited) -> None:
        data = f"{request.model_dump_json()}\n{announced.model_dump_json()}\n".encode()
        name = f"{AWAITED}/{request.event_id}.json"
        write_tree(self._root / request.project_id, {name: (data, REGULAR_FILE_MODE)})
