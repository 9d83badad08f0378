"""The model is never paid twice for one request, even when something fails after it answered."""

from __future__ import annotations

import pytest

from layercake_agent.adapters.state import ProjectStore
from layercake_contracts.errors import BlobMissing
from layercake_contracts.events import AgentRequested, CodeGenerated
from layercake_contracts.values import Gate, Role

ANSWER = "```python:app/main.py\nprint('paid once')\n```\n"


class FlakyBlobs:
    """A blob store whose first put fails, as when NATS drops the connection."""

    def __init__(self, blobs) -> None:
        self.blobs = blobs
        self.failures_left = 1

    async def get(self, digest: str) -> bytes:
        return await self.blobs.get(digest)

    async def put(self, data: bytes) -> str:
        if self.failures_left:
            self.failures_left -= 1
            raise BlobMissing("unreachable")
        return await self.blobs.put(data)


def request() -> AgentRequested:
    return AgentRequested(project_id="shop", role=Role.ARCHITECT, gate=Gate.G3)


async def test_a_request_answered_twice_gives_the_same_event_from_one_model_call(
    anthropic_provider, model_api, make_service, blobs
):
    """The second answer is the kept one: same event id, same blob, no second call."""
    model_api.answer(ANSWER)
    service, ask = make_service(anthropic_provider), request()
    first, again = await service.answer(ask, blobs), await service.answer(ask, blobs)
    assert isinstance(first, CodeGenerated)
    assert again == first
    assert len(model_api.requests) == 1


async def test_an_answer_is_not_paid_again_when_the_blob_store_failed_after_it_arrived(
    anthropic_provider, model_api, make_service, blobs, tmp_path
):
    """The put fails, the handler fails and the message is redelivered: the kept answer is used."""
    model_api.answer(ANSWER, input_tokens=1000, output_tokens=100)
    service, ask = make_service(anthropic_provider), request()
    with pytest.raises(BlobMissing):
        await service.answer(ask, FlakyBlobs(blobs))
    outcome = await service.answer(ask, blobs)
    assert isinstance(outcome, CodeGenerated)
    assert (await blobs.get(outcome.answer)).decode() == ANSWER
    assert (outcome.usage.input_tokens, outcome.usage.output_tokens) == (1000, 100)
    assert len(model_api.requests) == 1
    spent = ProjectStore(tmp_path / "agent").record("shop").usage
    assert spent.total_tokens == 1100, "the project is charged once"
