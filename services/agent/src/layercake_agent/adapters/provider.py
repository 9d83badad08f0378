"""The one interface every model provider keeps, and the retry and continuation loops they share.

A provider streams its answer (each piece of text goes to `on_text` as it
arrives) and returns the whole text, the tokens it used and the model that
answered. Cost is not the provider's business: the caller prices the usage.
An answer cut at max_tokens is continued, up to the endpoint's
`max_continuations` times; each call is retried on its own, so a part already
paid for is never asked for again. A continuation that fails for good leaves
the answer as far as it got, truncated: that part was paid for and is counted.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypedDict, TypeVar

import structlog

from layercake_agent.core.retry import is_retryable, retry_after_s
from layercake_agent.errors import ProviderRejected, ProviderUnavailable, RetriesExhausted
from layercake_contracts.values import Usage

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from layercake_agent.core.prompt import Prompt
    from layercake_agent.core.retry import RetryPolicy

log = structlog.get_logger(__name__)

Client = TypeVar("Client")


@dataclass(frozen=True)
class Completion:
    """A model's whole answer: its text, the tokens it used (not priced yet), who answered."""

    text: str
    usage: Usage
    model: str
    truncated: bool = False  # stopped at max_tokens (after every continuation allowed)


class Provider(Protocol):
    """A source of model answers."""

    name: str

    async def complete(
        self, prompt: Prompt, on_text: Callable[[str], None] | None = None
    ) -> Completion:
        """Answer `prompt`, passing each piece of text to `on_text` as it streams."""
        ...


def status_error(
    provider: str, status: int | None, headers: Mapping[str, str], message: str
) -> ProviderUnavailable | ProviderRejected:
    """Our error for an API's answer: worth retrying or not, by our policy."""
    if is_retryable(status):
        return ProviderUnavailable(provider, status, message, retry_after_s(headers))
    return ProviderRejected(provider, status, message)


async def with_retries(
    provider: str,
    call: Callable[[], Awaitable[Completion]],
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Completion:
    """`call()`, tried again after each `ProviderUnavailable` while the policy allows."""
    failures = 0
    while True:
        try:
            return await call()
        except ProviderUnavailable as exc:
            failures += 1
            if failures >= policy.attempts:
                raise RetriesExhausted(provider, failures, exc) from exc
            delay = policy.delay(failures, exc.retry_after_s)
            log.warning(
                "model_call_retrying", provider=provider, failures=failures,
                status=exc.status, delay_s=delay,
            )  # fmt: skip
            await sleep(delay)


class ClientOptions(TypedDict):
    """What both SDKs' clients are built with."""

    api_key: str
    base_url: str | None
    timeout: float
    max_retries: int


@dataclass(frozen=True)
class Endpoint:
    """Where a model API is, which model to ask, and how long an answer may be."""

    api_key: str
    model: str
    max_tokens: int
    base_url: str | None = None
    timeout_s: float = 600.0
    max_continuations: int = 3

    def client_options(self) -> ClientOptions:
        """The SDK client's options; its own retries are off, so that ours alone decide."""
        return ClientOptions(
            api_key=self.api_key, base_url=self.base_url, timeout=self.timeout_s, max_retries=0
        )


class RetryingProvider(ABC, Generic[Client]):
    """A provider over an HTTP API: one streamed call, repeated by our retry policy."""

    name: str

    def __init__(
        self,
        endpoint: Endpoint,
        retry: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._endpoint = endpoint
        self._retry = retry
        self._sleep = sleep
        self._client = self._connect(endpoint)

    @abstractmethod
    def _connect(self, endpoint: Endpoint) -> Client:
        """The SDK's client for `endpoint`, with the SDK's own retries off."""

    async def complete(
        self, prompt: Prompt, on_text: Callable[[str], None] | None = None
    ) -> Completion:
        """Stream the answer to `prompt`, continuing it while cut and retrying each call."""
        answer = await self._call(prompt, "", on_text)
        for continuation in range(1, self._endpoint.max_continuations + 1):
            if not answer.truncated or not answer.text.strip():
                break  # whole, or cut before any text: nothing to continue from
            log.info(
                "answer_cut_continuing", provider=self.name, continuation=continuation,
                chars=len(answer.text),
            )  # fmt: skip
            try:
                more = await self._call(prompt, answer.text, on_text)
            except (ProviderRejected, RetriesExhausted) as exc:
                log.warning("answer_continuation_failed", provider=self.name, reason=str(exc))
                break
            answer = Completion(
                text=more.text,
                usage=answer.usage + more.usage,
                model=more.model,
                truncated=more.truncated,
            )
        if answer.truncated:
            log.warning("answer_truncated", provider=self.name, chars=len(answer.text))
        return answer

    async def _call(
        self, prompt: Prompt, partial: str, on_text: Callable[[str], None] | None
    ) -> Completion:
        return await with_retries(
            self.name, lambda: self._once(prompt, partial, on_text), self._retry, self._sleep
        )

    @abstractmethod
    async def _once(
        self, prompt: Prompt, partial: str, on_text: Callable[[str], None] | None
    ) -> Completion:
        """One call, continuing `partial` unless it is empty.

        The answer so far, `partial` included (`truncated` when this call stopped
        at max_tokens; `usage` this call's alone), or `ProviderUnavailable` /
        `ProviderRejected`.
        """
