"""Per-project budgets: a request that could pass the limit is not sent, and says why."""

from __future__ import annotations

import pytest

from layercake_contracts.events import AgentFailed, AgentRequested, CodeGenerated
from layercake_contracts.values import Gate, Role


def request(project_id: str = "shop") -> AgentRequested:
    return AgentRequested(
        project_id=project_id, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, instructions="Build it."
    )


async def test_a_budget_of_n_tokens_stops_the_request_that_would_pass_it(
    anthropic_provider, model_api, make_service, blobs
):
    """2500 tokens: the first request fits; after it spent 1500, the next could pass 2500.
    (With no continuation allowed: each request is one call.)"""
    model_api.answer("first", input_tokens=1400, output_tokens=100)
    model_api.answer("never sent")
    first = await make_service(
        anthropic_provider, project_token_limit=2500, max_continuations=0
    ).answer(request(), blobs)
    # A new service instance: the spending is kept on disk, per project.
    second = await make_service(
        anthropic_provider, project_token_limit=2500, max_continuations=0
    ).answer(request(), blobs)
    assert isinstance(first, CodeGenerated)
    assert isinstance(second, AgentFailed)
    assert not second.retryable
    assert "spent 1500 tokens of 2500 tokens, 1000 tokens remain" in second.reason
    assert "+ 1000 answer tokens" in second.reason
    assert len(model_api.requests) == 1


@pytest.mark.parametrize(
    ("limit", "reason"),
    [
        ({"project_token_limit": 500}, "token budget exceeded: the project has spent 0 tokens of 500"),
        ({"project_cost_limit_usd": 0.001}, "cost budget exceeded: the project has spent $0.0000 of $0.0010"),
    ],
)  # fmt: skip
async def test_a_request_larger_than_the_whole_budget_makes_no_model_call(
    anthropic_provider, model_api, make_service, blobs, limit, reason
):
    """A prompt plus 1000 answer tokens fits neither 500 tokens nor a tenth of a cent."""
    outcome = await make_service(anthropic_provider, **limit).answer(request(), blobs)
    assert isinstance(outcome, AgentFailed)
    assert outcome.reason.startswith(f"project shop: {reason}")
    assert model_api.requests == []


async def test_one_projects_spending_leaves_another_projects_budget_whole(
    anthropic_provider, model_api, make_service, blobs
):
    """Two projects each spend 1500 of their own 2500 tokens."""
    for _ in range(2):
        model_api.answer("done", input_tokens=1400, output_tokens=100)
    service = make_service(anthropic_provider, project_token_limit=2500, max_continuations=0)
    answered = [await service.answer(request(p), blobs) for p in ("shop", "blog")]
    assert [type(a) for a in answered] == [CodeGenerated, CodeGenerated]
    assert len(model_api.requests) == 2
