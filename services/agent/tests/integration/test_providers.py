"""The real `anthropic` and `openai` SDKs against our local model API, through the service."""

from __future__ import annotations

import pytest

from layercake.natsd import free_port
from layercake_agent.adapters.anthropic_api import AnthropicProvider
from layercake_agent.adapters.provider import Endpoint
from layercake_agent.core.retry import RetryPolicy
from layercake_contracts.events import AgentFailed, AgentRequested, CodeGenerated
from layercake_contracts.values import Gate, Role

ANSWER = "Done.\n\n```python:app/main.py\nprint('hello')\n```\n"


def request(attempt: int = 1) -> AgentRequested:
    return AgentRequested(
        project_id="shop",
        role=Role.BACKEND_DEVELOPER,
        gate=Gate.G5,
        attempt=attempt,
        instructions="Build the API.",
    )


async def test_a_429_with_retry_after_then_success_gives_one_code_generated(
    provider, model_api, naps, make_service, blobs
):
    """The first call is refused with 429 and retry-after 7; we wait 7 s, ask again, and answer."""
    model_api.fail(429, "rate_limit_error", retry_after="7")
    model_api.answer(ANSWER)
    outcome = await make_service(provider).answer(request(), blobs)
    assert isinstance(outcome, CodeGenerated)
    assert len(model_api.requests) == 2
    assert naps.waits == [7.0]
    assert (await blobs.get(outcome.answer)).decode() == ANSWER
    assert (outcome.role, outcome.gate, outcome.attempt) == (Role.BACKEND_DEVELOPER, Gate.G5, 1)


async def test_three_529s_give_agent_failed_with_a_retryable_reason(
    provider, model_api, naps, make_service, blobs
):
    """Overloaded three times: our policy's three attempts are spent, and trying later may work."""
    for _ in range(3):
        model_api.fail(529, "overloaded_error")
    outcome = await make_service(provider).answer(request(), blobs)
    assert isinstance(outcome, AgentFailed)
    assert outcome.retryable is True
    assert "HTTP 529" in outcome.reason
    assert "after 3 attempts" in outcome.reason
    assert len(model_api.requests) == 3
    assert naps.waits == [1.0, 2.0], "exponential backoff when no retry-after is given"


async def test_a_400_gives_a_non_retryable_agent_failed_after_one_call(
    provider, model_api, make_service, blobs
):
    """A bad request is not asked again: one call, and AgentFailed says it will not help to retry."""
    model_api.fail(400, "invalid_request_error")
    outcome = await make_service(provider).answer(request(), blobs)
    assert isinstance(outcome, AgentFailed)
    assert outcome.retryable is False
    assert "HTTP 400" in outcome.reason
    assert len(model_api.requests) == 1


async def test_usage_tokens_and_cost_appear_in_the_event(provider, model_api, make_service, blobs):
    """The event carries the tokens the API reported and their cost from the price table."""
    model_api.answer(ANSWER, input_tokens=1000, output_tokens=500, cache_read=2000, cache_write=300)
    outcome = await make_service(provider).answer(request(), blobs)
    assert isinstance(outcome, CodeGenerated)
    usage = outcome.usage
    # OpenAI reports cached reads but has no cache writes to report.
    cache_write = 300 if provider.name == "anthropic" else 0
    assert (usage.input_tokens, usage.output_tokens) == (1000, 500)
    assert (usage.cache_read_tokens, usage.cache_write_tokens) == (2000, cache_write)
    # claude-sonnet-4-6: $3 in, $15 out, $0.30 cache read, $3.75 cache write per million.
    expected = (1000 * 3.0 + 500 * 15.0 + 2000 * 0.30 + cache_write * 3.75) / 1_000_000
    assert usage.cost_usd == pytest.approx(expected)
    assert outcome.model == "claude-sonnet-4-6"
    assert outcome.duration_s > 0


async def test_a_lost_connection_gives_a_retryable_agent_failed(naps, make_service, blobs):
    """Nobody listens on the port: every attempt fails to connect, and the failure is retryable."""
    endpoint = Endpoint(
        api_key="k", model="m", max_tokens=10, base_url=f"http://127.0.0.1:{free_port()}"
    )
    provider = AnthropicProvider(endpoint, RetryPolicy(attempts=2), naps)
    outcome = await make_service(provider).answer(request(), blobs)
    assert isinstance(outcome, AgentFailed)
    assert outcome.retryable is True
    assert "no connection" in outcome.reason
    assert len(naps.waits) == 1


async def test_an_overloaded_error_inside_the_stream_is_retried(
    anthropic_provider, model_api, make_service, blobs
):
    """Anthropic may report overload as an error event in a 200 stream: it counts as a 529."""
    model_api.fail(529, "overloaded_error", mid_stream=True)
    model_api.answer(ANSWER)
    outcome = await make_service(anthropic_provider).answer(request(), blobs)
    assert isinstance(outcome, CodeGenerated)
    assert len(model_api.requests) == 2


async def test_the_anthropic_request_marks_system_and_context_for_caching(
    anthropic_provider, model_api, make_service, blobs
):
    """System prompt and project context carry cache_control; the changing task does not."""
    model_api.answer(ANSWER)
    service = make_service(anthropic_provider)
    readme = await blobs.put(b"# Shop\n")
    base = {"README.md": {"sha256": readme, "size": 7}}
    ask = AgentRequested.model_validate({**request().model_dump(), "base": base})
    await service.answer(ask, blobs)
    [body] = model_api.bodies
    [system] = body["system"]
    assert system["cache_control"] == {"type": "ephemeral"}
    assert "backend developer" in system["text"]
    context, task = body["messages"][0]["content"]
    assert context["cache_control"] == {"type": "ephemeral"}
    assert "README.md" in context["text"]
    assert "cache_control" not in task
    assert "Build the API." in task["text"]
    assert body["stream"] is True
