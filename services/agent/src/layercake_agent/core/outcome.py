"""The event that answers a request: CodeGenerated or AgentFailed, with a derived id.

The outcome's event id is a uuid5 of the request's, so answering the same
request twice publishes the same event, which the stream stores once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from layercake_contracts.events import AgentFailed, CodeGenerated
from layercake_contracts.values import Usage

if TYPE_CHECKING:
    from layercake_contracts.events import AgentRequested, HealRequested

Outcome = TypeVar("Outcome", CodeGenerated, AgentFailed)

_OUTCOME_NAMESPACE = uuid.UUID("3f0c9a7e-5d1b-4c8e-9b2a-6e7f8d9c0a1b")


@dataclass(frozen=True)
class Answer:
    """A model's paid-for answer to one request: its text, who wrote it, what it cost, how long."""

    text: str
    model: str
    usage: Usage
    duration_s: float
    truncated: bool = False  # still cut at max_tokens after every continuation allowed


def outcome_id(request: AgentRequested | HealRequested) -> uuid.UUID:
    """The event id of whatever answers `request`."""
    return uuid.uuid5(_OUTCOME_NAMESPACE, str(request.event_id))


def generated(request: AgentRequested | HealRequested, answer: Answer, blob: str) -> CodeGenerated:
    """The model answered `request`; `blob` holds the answer's text."""
    return _answering(
        CodeGenerated, request, answer=blob, base=request.base, model=answer.model,
        usage=answer.usage, duration_s=answer.duration_s, truncated=answer.truncated,
    )  # fmt: skip


def failed(request: AgentRequested | HealRequested, *, reason: str, retryable: bool) -> AgentFailed:
    """`request` got no answer, for `reason`."""
    return _answering(AgentFailed, request, reason=reason, retryable=retryable)


def _answering(
    outcome: type[Outcome],
    request: AgentRequested | HealRequested,
    **fields: Any,  # noqa: ANN401  # validated by the event model
) -> Outcome:
    return outcome.follow(
        request,
        event_id=outcome_id(request),
        role=request.role,
        gate=request.gate,
        attempt=request.attempt,
        **fields,
    )
