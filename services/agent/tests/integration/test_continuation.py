"""Answers cut at max_tokens, continued: the real SDKs against our local model API."""

from __future__ import annotations

import pytest

from layercake_agent.app import create_provider
from layercake_agent.core.continuation import CONTINUE
from layercake_agent.settings import Settings
from layercake_contracts.events import AgentRequested, CodeGenerated
from layercake_contracts.values import Gate, Role

# The first answer stops at max_tokens inside a file, right after a newline.
CUT = "Done.\n\n```python:app/main.py\nimport sys\n"
# What the Messages API says to a prefill on Claude 4.6 models (seen in public bug reports).
PREFILL_REFUSED = (
    "This model does not support assistant message prefill. "
    "The conversation must end with a user message."
)


def request() -> AgentRequested:
    return AgentRequested(
        project_id="shop", role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=1,
        instructions="Build the API.",
    )  # fmt: skip


def configured(name: str, url: str, continuations: int) -> Settings:
    """Settings that choose provider `name` at `url`, allowing `continuations`."""
    if name == "anthropic":
        return Settings(
            provider="anthropic", anthropic_api_key="k", anthropic_base_url=url,
            max_continuations=continuations,
        )  # fmt: skip
    return Settings(provider="openai", openai_base_url=f"{url}/v1", max_continuations=continuations)


async def test_a_cut_anthropic_answer_is_continued_from_a_prefill_without_trailing_white_space(
    anthropic_provider, model_api, make_service, blobs
):
    """The partial answer goes back as the assistant's turn, its final newline removed (the API
    refuses a prefill ending in white space); what comes is appended to exactly that text."""
    model_api.answer(CUT, input_tokens=100, output_tokens=1000, cache_write=400, cut=True)
    model_api.answer("\nprint(sys.argv)\n```\n", input_tokens=150, output_tokens=20, cache_read=400)
    outcome = await make_service(anthropic_provider).answer(request(), blobs)
    assert isinstance(outcome, CodeGenerated)
    first, second = model_api.bodies
    assert second["messages"][0] == first["messages"][0], "the same question, asked again"
    assert second["messages"][1:] == [{"role": "assistant", "content": CUT.rstrip()}]
    text = (await blobs.get(outcome.answer)).decode()
    assert text == "Done.\n\n```python:app/main.py\nimport sys\nprint(sys.argv)\n```\n"
    assert outcome.truncated is False
    used = outcome.usage
    assert (used.input_tokens, used.output_tokens) == (250, 1020)
    assert (used.cache_read_tokens, used.cache_write_tokens) == (400, 400)


async def test_a_cut_openai_answer_is_continued_by_a_user_turn_and_a_restated_line_is_dropped(
    openai_provider, model_api, make_service, blobs
):
    """The partial answer becomes the assistant's message, a user turn asks to go on; the model
    starts by restating the line it was writing, which appears once in the joined answer."""
    partial = "Done.\n\n```python:app/main.py\nimport sys\nprint(sys.ar"
    model_api.answer(partial, input_tokens=100, output_tokens=1000, cut=True)
    model_api.answer("print(sys.argv)\n```\n", input_tokens=1200, output_tokens=10)
    outcome = await make_service(openai_provider).answer(request(), blobs)
    assert isinstance(outcome, CodeGenerated)
    first, second = model_api.bodies
    assert second["messages"][:2] == first["messages"]
    assert second["messages"][2:] == [
        {"role": "assistant", "content": partial},
        {"role": "user", "content": CONTINUE},
    ]
    text = (await blobs.get(outcome.answer)).decode()
    assert text == "Done.\n\n```python:app/main.py\nimport sys\nprint(sys.argv)\n```\n"
    assert outcome.truncated is False
    assert (outcome.usage.input_tokens, outcome.usage.output_tokens) == (1300, 1010)


@pytest.mark.parametrize("name", ["anthropic", "openai"])
async def test_an_answer_still_cut_after_the_last_continuation_is_truncated(
    name, model_api, make_service, blobs
):
    """LAYERCAKE_MAX_CONTINUATIONS=2: three calls, each cut; the answer keeps all three parts,
    its usage is their sum, and CodeGenerated says it is truncated."""
    for part in ("one\ntwo", "\nthree", "\nfour"):
        model_api.answer(part, input_tokens=10, output_tokens=5, cut=True)
    provider = create_provider(configured(name, model_api.url, continuations=2))
    outcome = await make_service(provider).answer(request(), blobs)
    assert isinstance(outcome, CodeGenerated)
    assert len(model_api.requests) == 3
    assert (await blobs.get(outcome.answer)).decode() == "one\ntwo\nthree\nfour"
    assert outcome.truncated is True
    assert (outcome.usage.input_tokens, outcome.usage.output_tokens) == (30, 15)


@pytest.mark.parametrize("name", ["anthropic", "openai"])
async def test_no_continuations_allowed_leaves_a_cut_answer_truncated_after_one_call(
    name, model_api, make_service, blobs
):
    """LAYERCAKE_MAX_CONTINUATIONS=0: the cut answer is kept as it came, and marked truncated."""
    model_api.answer(CUT, cut=True)
    provider = create_provider(configured(name, model_api.url, continuations=0))
    outcome = await make_service(provider).answer(request(), blobs)
    assert isinstance(outcome, CodeGenerated)
    assert len(model_api.requests) == 1
    assert (await blobs.get(outcome.answer)).decode() == CUT
    assert outcome.truncated is True


async def test_a_continuation_refused_with_429_is_asked_again_keeping_the_first_part(
    provider, model_api, naps, make_service, blobs
):
    """Only the continuation is retried: the part already paid for is not asked for again."""
    model_api.answer("one\ntwo", cut=True)
    model_api.fail(429, "rate_limit_error", retry_after="2")
    model_api.answer("\nthree\n")
    outcome = await make_service(provider).answer(request(), blobs)
    assert isinstance(outcome, CodeGenerated)
    assert len(model_api.requests) == 3
    assert naps.waits == [2.0]
    assert model_api.bodies[1]["messages"] == model_api.bodies[2]["messages"]
    assert (await blobs.get(outcome.answer)).decode() == "one\ntwo\nthree\n"


async def test_a_continuation_refused_keeps_the_part_paid_for_as_a_truncated_answer(
    provider, model_api, make_service, blobs
):
    """The API refuses the continuation (400): the first part, already paid for, is the answer,
    truncated, and its tokens are counted."""
    model_api.answer(CUT, input_tokens=100, output_tokens=1000, cut=True)
    model_api.fail(400, "invalid_request_error")
    outcome = await make_service(provider).answer(request(), blobs)
    assert isinstance(outcome, CodeGenerated)
    assert len(model_api.requests) == 2
    assert (await blobs.get(outcome.answer)).decode() == CUT
    assert outcome.truncated is True
    assert (outcome.usage.input_tokens, outcome.usage.output_tokens) == (100, 1000)


async def test_a_model_that_refuses_prefills_is_continued_by_a_user_turn_from_then_on(
    anthropic_provider, model_api, make_service, blobs
):
    """Claude 4.6 models answer a prefill with 400 "does not support assistant message prefill":
    the continuation is asked again as a user turn, and the next one is asked so at once."""
    model_api.answer("one\ntwo\n", cut=True)
    model_api.fail(400, "invalid_request_error", message=PREFILL_REFUSED)
    model_api.answer("two\nthree", cut=True)
    model_api.answer("\nfour\n")
    outcome = await make_service(anthropic_provider).answer(request(), blobs)
    assert isinstance(outcome, CodeGenerated)
    assert len(model_api.requests) == 4, "one refused prefill, not two"
    asked = model_api.bodies
    assert asked[1]["messages"][1:] == [{"role": "assistant", "content": "one\ntwo"}]
    assert asked[2]["messages"][1:] == [
        {"role": "assistant", "content": "one\ntwo\n"},
        {"role": "user", "content": CONTINUE},
    ]
    assert asked[3]["messages"][1:] == [
        {"role": "assistant", "content": "one\ntwo\nthree"},
        {"role": "user", "content": CONTINUE},
    ]
    assert (await blobs.get(outcome.answer)).decode() == "one\ntwo\nthree\nfour\n"
    assert outcome.truncated is False
