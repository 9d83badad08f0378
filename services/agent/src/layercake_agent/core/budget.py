"""Token estimates, prices and the per-project budget: may this request be sent?

Tokens are estimated as characters / 4, which is close enough for English text
and code to keep a project within its limits without calling a tokenizer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layercake_contracts.values import Usage

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

CHARS_PER_TOKEN = 4
_PER_MILLION = 1_000_000


def estimate_tokens(text: str) -> int:
    """About how many tokens `text` is."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(frozen=True)
class ModelPrice:
    """What a model costs, in USD per million tokens."""

    input: float
    output: float
    cache_read: float = 0.0
    cache_write: float = 0.0


FREE = ModelPrice(input=0.0, output=0.0)


def price_of(prices: Mapping[str, ModelPrice], *models: str) -> ModelPrice:
    """The price of the first of `models` the table knows; free when it knows none (local)."""
    return next((prices[m] for m in models if m in prices), FREE)


def priced(usage: Usage, price: ModelPrice) -> Usage:
    """`usage` with its cost filled in from `price`."""
    cost = (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_read_tokens * price.cache_read
        + usage.cache_write_tokens * price.cache_write
    ) / _PER_MILLION
    return usage.model_copy(update={"cost_usd": cost})


@dataclass(frozen=True)
class Limits:
    """A project's budget; None means no limit."""

    tokens: int | None = None
    cost_usd: float | None = None


def budget_refusal(  # what was spent, the limits, and the request's three sizes
    spent: Usage,
    limits: Limits,
    prompt_tokens: int,
    max_tokens: int,
    price: ModelPrice,
    continuations: int = 0,
) -> str | None:
    """Why a request of `prompt_tokens` (answering up to `max_tokens`) may not be sent, or None.

    The request is judged at its worst: the whole prompt billed as input and
    the longest answer allowed, on every call a cut answer may take (each
    continuation sends the prompt again with the answer so far), so a request
    that is sent cannot pass the limit.
    """
    calls = continuations + 1
    sent = calls * prompt_tokens + max_tokens * continuations * calls // 2
    usage = Usage(input_tokens=sent, output_tokens=calls * max_tokens)
    need = usage.total_tokens
    worst = priced(usage, price).cost_usd
    checks: tuple[tuple[str, float, float | None, float, Callable[[float], str]], ...] = (
        ("token", spent.total_tokens, limits.tokens, need, lambda n: f"{n:.0f} tokens"),
        ("cost", spent.cost_usd, limits.cost_usd, worst, lambda usd: f"${usd:.4f}"),
    )
    for name, used, limit, cost, show in checks:
        if limit is not None and used + cost > limit:
            return (
                f"{name} budget exceeded: the project has spent {show(used)} of {show(limit)}, "
                f"{show(max(limit - used, 0))} remain; this request may take up to {show(cost)} "
                f"({prompt_tokens} prompt + {max_tokens} answer tokens"
                + (f", over up to {calls} calls)" if calls > 1 else ")")
            )
    return None
