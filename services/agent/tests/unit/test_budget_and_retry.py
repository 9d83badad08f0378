"""Budgets, prices and retry timing: the arithmetic the shell acts on."""

from __future__ import annotations

import pytest

from layercake_agent.core.budget import (
    FREE,
    Limits,
    ModelPrice,
    budget_refusal,
    estimate_tokens,
    price_of,
    priced,
)
from layercake_agent.core.retry import RetryPolicy, is_retryable, retry_after_s
from layercake_contracts.values import Usage

SONNET = ModelPrice(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)


def test_tokens_are_estimated_as_characters_over_four_rounded_up():
    """Eight characters are two tokens, nine are three."""
    assert (estimate_tokens("12345678"), estimate_tokens("123456789"), estimate_tokens("")) == (
        2,
        3,
        0,
    )


def test_usage_is_priced_per_million_tokens_of_each_kind():
    """Input, output, cache reads and cache writes each at their own price."""
    usage = priced(Usage(input_tokens=10**6, output_tokens=10**6, cache_read_tokens=10**6,
                         cache_write_tokens=10**6), SONNET)  # fmt: skip
    assert usage.cost_usd == pytest.approx(3.0 + 15.0 + 0.3 + 3.75)


def test_an_unknown_model_is_free_and_the_first_known_name_sets_the_price():
    """A local model has no price; a dated model name falls back to the configured one."""
    prices = {"claude-sonnet-4-6": SONNET}
    assert price_of(prices, "llama3") is FREE
    assert price_of(prices, "claude-sonnet-4-6-20260101", "claude-sonnet-4-6") is SONNET


def test_a_request_that_fits_the_token_limit_exactly_is_allowed():
    """Spent plus prompt plus the longest answer may reach the limit, not pass it."""
    spent = Usage(input_tokens=600, output_tokens=400)
    assert budget_refusal(spent, Limits(tokens=2000), 500, 500, SONNET) is None
    refusal = budget_refusal(spent, Limits(tokens=1999), 500, 500, SONNET)
    assert refusal == (
        "token budget exceeded: the project has spent 1000 tokens of 1999 tokens, 999 tokens "
        "remain; this request may take up to 1000 tokens (500 prompt + 500 answer tokens)"
    )


def test_a_request_is_judged_over_every_continuation_a_cut_answer_may_take():
    """Two continuations: three calls, each sending the prompt and the answer so far, each
    answering up to max_tokens (3 x 500 + 0 + 500 + 1000 in, 3 x 500 out: 4500 tokens)."""
    assert budget_refusal(Usage(), Limits(tokens=4500), 500, 500, SONNET, continuations=2) is None
    refusal = budget_refusal(Usage(), Limits(tokens=4499), 500, 500, SONNET, continuations=2)
    assert refusal is not None
    assert "may take up to 4500 tokens (500 prompt + 500 answer tokens, over up to 3 calls)" in (
        refusal
    )


def test_a_request_whose_worst_cost_passes_the_cost_limit_is_refused():
    """The worst case, the whole prompt as input and the longest answer, is what counts."""
    refusal = budget_refusal(Usage(cost_usd=0.5), Limits(cost_usd=0.51), 1000, 1000, SONNET)
    assert refusal is not None
    assert "spent $0.5000 of $0.5100" in refusal
    assert "may take up to $0.0180" in refusal
    assert budget_refusal(Usage(), Limits(), 10**9, 10**9, SONNET) is None


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(None, True), (408, True), (429, True), (500, True), (529, True),
     (400, False), (401, False), (403, False), (404, False), (422, False)],
)  # fmt: skip
def test_busy_and_unreachable_apis_are_retried_refusals_are_not(status, retryable):
    """429, 5xx and lost connections may pass later; 400, 401, 403, 404 never will."""
    assert is_retryable(status) is retryable


def test_retry_after_is_read_in_seconds_or_milliseconds_and_dates_are_ignored():
    """retry-after-ms wins over retry-after; an HTTP date gives no wait to honour."""
    assert retry_after_s({"retry-after": "7"}) == 7.0
    assert retry_after_s({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after_s({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}) is None
    assert retry_after_s({}) is None


def test_the_wait_is_the_servers_or_exponential_and_never_past_the_ceiling():
    """1, 2, 4 s without a server's word; retry-after as asked, capped at the maximum."""
    policy = RetryPolicy(attempts=5, base_delay_s=1.0, max_delay_s=10.0)
    assert [policy.delay(n, None) for n in (1, 2, 3, 5)] == [1.0, 2.0, 4.0, 10.0]
    assert policy.delay(1, 7.0) == 7.0
    assert policy.delay(1, 120.0) == 10.0
