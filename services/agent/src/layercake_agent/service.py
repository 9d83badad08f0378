"""The agent's shell: build the prompt, check the budget, ask the model, keep the outcome.

Each request is answered once: the model's answer is kept on disk as soon as it
arrives, the outcome before it is published, both under the request's event id;
a redelivered request gets what was kept, so the model is never paid twice for
one request. Requests of one project are answered one at a time, which keeps
its spending exact.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

import structlog

from layercake_agent.core.budget import budget_refusal, price_of, priced
from layercake_agent.core.context import Context, choose_files, selected_design_file
from layercake_agent.core.fit import ARCHITECTURE, product_kind
from layercake_agent.core.heal import heal_files
from layercake_agent.core.outcome import Answer, failed, generated
from layercake_agent.core.prompt import build_prompt
from layercake_agent.core.record import (
    Remembered,
    builds_in_view,
    documents_in_view,
    remember,
    spend,
)
from layercake_agent.errors import AgentError, BudgetExceeded
from layercake_contracts.events import HealRequested

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from layercake_agent.adapters.provider import Provider
    from layercake_agent.adapters.state import ProjectStore
    from layercake_agent.core.prompt import Prompt, Templates
    from layercake_agent.core.record import ProjectRecord
    from layercake_agent.settings import Settings
    from layercake_contracts.events import (
        AgentFailed,
        AgentRequested,
        CodeGenerated,
    )

log = structlog.get_logger(__name__)


class Blobs(Protocol):
    """The blob store as the agent uses it (the bus's, or one in memory)."""

    async def get(self, digest: str) -> bytes:
        """The bytes stored under `digest`."""
        ...

    async def put(self, data: bytes) -> str:
        """Store `data`; its sha256."""
        ...


class AgentService:
    """Answers agent and heal requests, and remembers what it learns of each project."""

    def __init__(
        self, provider: Provider, store: ProjectStore, templates: Templates, settings: Settings
    ) -> None:
        self._provider = provider
        self._store = store
        self._templates = templates
        self._settings = settings
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def answer(
        self, request: AgentRequested | HealRequested, blobs: Blobs
    ) -> CodeGenerated | AgentFailed:
        """The event answering `request`: the kept one if it was answered before."""
        async with self._locks[request.project_id]:
            kept = self._store.outcome(request.project_id, request.event_id)
            if kept is not None:
                log.info("request_already_answered", outcome=kept.type)
                return kept
            try:
                outcome: CodeGenerated | AgentFailed = await self._ask(request, blobs)
            except AgentError as exc:
                log.warning("request_failed", reason=str(exc), retryable=exc.retryable)
                outcome = failed(request, reason=str(exc), retryable=exc.retryable)
            self._store.keep(request.event_id, outcome)
            return outcome

    async def remember(self, event: Remembered) -> None:
        """Add what `event` says to its project's record."""
        async with self._locks[event.project_id]:
            record = self._store.record(event.project_id)
            self._store.save(event.project_id, remember(record, event))

    async def _ask(self, request: AgentRequested | HealRequested, blobs: Blobs) -> CodeGenerated:
        answer = self._store.paid(request.project_id, request.event_id)
        if answer is None:
            answer = await self._pay(request, blobs)
        return generated(request, answer, await blobs.put(answer.text.encode()))

    async def _pay(self, request: AgentRequested | HealRequested, blobs: Blobs) -> Answer:
        settings = self._settings
        record = self._store.record(request.project_id)
        prompt = await assemble_prompt(
            self._templates, request, record, blobs, settings.context_budget(request.role)
        )
        refusal = budget_refusal(
            record.usage,
            settings.limits(),
            prompt.estimated_tokens,
            settings.max_tokens,
            price_of(settings.prices, settings.model),
            continuations=settings.max_continuations,
        )
        if refusal is not None:
            raise BudgetExceeded(request.project_id, refusal)
        answer = await ask_model(self._provider, prompt, settings)
        self._store.keep_paid(request.project_id, request.event_id, answer)
        self._store.save(request.project_id, spend(record, answer.usage))
        _log_answer(answer)
        return answer


async def assemble_prompt(
    templates: Templates,
    request: AgentRequested | HealRequested,
    record: ProjectRecord,
    blobs: Blobs,
    context_tokens: int,
) -> Prompt:
    """Fetch what the prompt for `request` shows, within `context_tokens`, and build it.

    A tree file whose text a shown document holds is listed, not shown again; the
    product's kind is read from the tree's architecture document.
    """
    documents = documents_in_view(record, request.gate, request.role)
    texts = await _texts(blobs, [d.blob for d in documents])
    architecture = (
        (await _texts(blobs, [request.base[ARCHITECTURE].sha256]))[0]
        if ARCHITECTURE in request.base
        else ""
    )
    context = Context(
        name=record.name,
        intake=record.intake,
        documents=tuple(zip(documents, texts, strict=True)),
        selected_design=record.selected_design,
        sizes={path: entry.size for path, entry in request.base.items()},
        files={},
        kind=product_kind(architecture, record.intake, has_ui=record.has_ui),
        builds=builds_in_view(record, request.gate),
    )
    shown = {d.blob for d in documents}
    readable = {p: e.size for p, e in request.base.items() if e.sha256 not in shown}
    healing = heal_files(request) if isinstance(request, HealRequested) else ()
    design = selected_design_file(request.role, record.selected_design, documents, readable)
    chosen = choose_files(
        request.role, readable, context_tokens - context.document_tokens, (*healing, *design)
    )
    wanted = list(dict.fromkeys((*chosen, *healing)))
    fetched = dict(
        zip(wanted, await _texts(blobs, [request.base[p].sha256 for p in wanted]), strict=True)
    )
    context = replace(context, files={p: fetched[p] for p in chosen})
    return build_prompt(templates, request, context, {p: fetched[p] for p in healing})


async def ask_model(
    provider: Provider,
    prompt: Prompt,
    settings: Settings,
    on_text: Callable[[str], None] | None = None,
) -> Answer:
    """The model's answer to `prompt`, timed and priced."""
    started = time.monotonic()
    completion = await provider.complete(prompt, on_text)
    price = price_of(settings.prices, completion.model, settings.model)
    return Answer(
        text=completion.text,
        model=completion.model,
        usage=priced(completion.usage, price),
        duration_s=time.monotonic() - started,
        truncated=completion.truncated,
    )


async def _texts(blobs: Blobs, digests: Sequence[str]) -> list[str]:
    contents = await asyncio.gather(*(blobs.get(d) for d in digests))
    return [data.decode("utf-8", errors="replace") for data in contents]


def _log_answer(answer: Answer) -> None:
    used = answer.usage
    log.info(
        "model_answered", model=answer.model, input_tokens=used.input_tokens,
        output_tokens=used.output_tokens, cache_read_tokens=used.cache_read_tokens,
        cache_write_tokens=used.cache_write_tokens, cost_usd=round(used.cost_usd, 6),
        duration_s=round(answer.duration_s, 3),
    )  # fmt: skip
