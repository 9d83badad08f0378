"""The ledger's record of the prompts the manual provider awaits answers to.

Core: no I/O. `AwaitsAnswers` is a part of the `Project` aggregate: the agent's
`AnswerAwaited` adds a prompt (numbered as the agent numbered it), a person's
`AnswerGiven` marks it answered. Each is recorded once: the same announcement
again (a redelivered request) and a second answer change nothing, so the
ledger's reaction to them adds no event.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, event

from layercake_contracts.events import AnswerAwaited, AnswerGiven

_PROMPTS = "prompts"


class AwaitsAnswers(Aggregate):
    """The prompts of a project written out for a person, and which were answered."""

    @property
    def prompts(self) -> list[dict[str, Any]]:
        """Every prompt announced, by number, answered or not."""
        # Not set in `__init__`: a project recorded before prompts existed has none.
        prompts: list[dict[str, Any]] = self.__dict__.get(_PROMPTS, [])
        return prompts

    def awaited_prompts(self) -> list[dict[str, Any]]:
        """The prompts still waiting for an answer, oldest first."""
        return [p for p in self.prompts if p["answered_at"] is None]

    def prompt(self, number: int) -> dict[str, Any] | None:
        """Prompt `number`, if it was announced."""
        return next((p for p in self.prompts if p["number"] == number), None)

    def record_prompt(self, fact: AnswerAwaited | AnswerGiven) -> None:
        """Keep an announced prompt, or mark one answered; a repeat changes nothing."""
        if isinstance(fact, AnswerAwaited):
            known = {str(p["request_id"]) for p in self.prompts}
            if str(fact.request_id) not in known and self.prompt(fact.number) is None:
                self._prompt_awaited(_entry(fact))
            return
        found = self.prompt(fact.number)
        if found is not None and found["answered_at"] is None:
            self._prompt_answered(fact.number, fact.by, fact.occurred_at.isoformat(), fact.answer)

    @event("PromptAwaited")
    def _prompt_awaited(self, entry: dict[str, Any]) -> None:
        self.__dict__.setdefault(_PROMPTS, []).append(dict(entry))

    @event("PromptAnswered")
    def _prompt_answered(self, number: int, by: str, at: str, answer: str) -> None:
        for entry in self.__dict__.get(_PROMPTS, []):
            if entry["number"] == number:
                entry.update(answered_at=at, answered_by=by, answer=answer)


def _entry(fact: AnswerAwaited) -> dict[str, Any]:
    return {
        "number": fact.number,
        "request_id": str(fact.request_id),
        "awaited_id": str(fact.event_id),
        "correlation_id": str(fact.correlation_id),
        "role": fact.role.value,
        "gate": fact.gate.value,
        "attempt": fact.attempt,
        "prompt": fact.prompt,
        "size": fact.size,
        "file": fact.file,
        "awaited_at": fact.occurred_at.isoformat(),
        "answered_at": None,
        "answered_by": None,
        "answer": None,
    }
