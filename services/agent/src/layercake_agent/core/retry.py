"""When to retry a model call and how long to wait first.

Our policy, not the SDKs': 429, 408, 409, 5xx (529 "overloaded" among them) and
lost connections are worth another try; other 4xx answers are not. A server's
`retry-after` (or `retry-after-ms`) is honoured, up to the policy's ceiling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

_RETRYABLE_4XX = frozenset({408, 409, 429})
_SERVER_ERRORS = 500


def is_retryable(status: int | None) -> bool:
    """True when an answer with `status` (None: no connection) may succeed if asked again."""
    return status is None or status in _RETRYABLE_4XX or status >= _SERVER_ERRORS


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """The wait a server asked for, in seconds; None when it asked for none we can read."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            continue  # an HTTP date: reading it needs a clock, so back off as usual
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """How many times a call is tried and how long to wait in between."""

    attempts: int = 3
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0

    def delay(self, failures: int, retry_after: float | None) -> float:
        """The wait after `failures` failed attempts: the server's word, else exponential."""
        wanted = retry_after if retry_after is not None else self.base_delay_s * 2 ** (failures - 1)
        return min(wanted, self.max_delay_s)
