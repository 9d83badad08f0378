"""Claude through the official `anthropic` SDK: streaming, prompt caching, our retries.

The SDK's own retries are off (`max_retries=0`) so that one policy, ours,
decides. The system prompt and the project context are marked
`cache_control: ephemeral`: they stay the same across a role's attempts, so
later calls read them from the cache at a tenth of the price. An answer cut at
max_tokens is continued from a prefill (`core.continuation`); a model that
refuses prefills (400 "does not support assistant message prefill", the 4.6
family) is asked by a continue turn instead, from then on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anthropic
import structlog

from layercake_agent.adapters.provider import Completion, RetryingProvider, status_error
from layercake_agent.core.continuation import CONTINUE, continued, prefill
from layercake_agent.errors import ProviderRejected, ProviderUnavailable
from layercake_contracts.values import Usage

if TYPE_CHECKING:
    from collections.abc import Callable

    from anthropic.types import Message, MessageParam, TextBlockParam

    from layercake_agent.adapters.provider import Endpoint
    from layercake_agent.core.prompt import Prompt

log = structlog.get_logger(__name__)

NAME = "anthropic"
# An error event inside a stream arrives on a 200 response: its type says what it was.
_STREAM_ERROR_STATUS = {"rate_limit_error": 429, "overloaded_error": 529}
_STREAM_ERROR_DEFAULT = 500
_CUT = "max_tokens"
_PREFILL = "prefill"  # in the message of a 400 that refuses one


class AnthropicProvider(RetryingProvider[anthropic.AsyncAnthropic]):
    """Answers from the Anthropic Messages API."""

    name = NAME
    _prefills = True  # until the model refuses one

    def _connect(self, endpoint: Endpoint) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(**endpoint.client_options())

    async def _once(
        self, prompt: Prompt, partial: str, on_text: Callable[[str], None] | None
    ) -> Completion:
        prefilled = bool(partial) and self._prefills
        try:
            return await self._stream(prompt, partial, on_text, prefilled=prefilled)
        except ProviderRejected as exc:
            if not prefilled or _PREFILL not in exc.message.lower():
                raise
            log.info("prefill_refused_continuing_by_turn", model=self._endpoint.model)
            self._prefills = False
            return await self._stream(prompt, partial, on_text, prefilled=False)

    async def _stream(
        self,
        prompt: Prompt,
        partial: str,
        on_text: Callable[[str], None] | None,
        *,
        prefilled: bool,
    ) -> Completion:
        pieces: list[str] = []
        try:
            async with self._client.messages.stream(
                model=self._endpoint.model,
                max_tokens=self._endpoint.max_tokens,
                system=[_cached(prompt.system)],
                messages=_messages(prompt, partial, prefilled=prefilled),
            ) as stream:
                async for text in stream.text_stream:
                    pieces.append(text)
                    if on_text is not None:
                        on_text(text)
                message = await stream.get_final_message()
        except anthropic.APIStatusError as exc:
            status = exc.status_code
            if status < 400:  # noqa: PLR2004  # an error event inside a 200 stream
                status = _STREAM_ERROR_STATUS.get(exc.type or "", _STREAM_ERROR_DEFAULT)
            raise status_error(NAME, status, exc.response.headers, exc.message) from exc
        except anthropic.APIConnectionError as exc:
            raise ProviderUnavailable(NAME, None, exc.message) from exc
        return Completion(
            text=continued(partial, "".join(pieces), prefilled=prefilled),
            usage=_usage(message),
            model=message.model,
            truncated=message.stop_reason == _CUT,
        )


def _cached(text: str) -> TextBlockParam:
    return {"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}


def _messages(prompt: Prompt, partial: str, *, prefilled: bool) -> list[MessageParam]:
    task: TextBlockParam = {"type": "text", "text": prompt.task}
    blocks = [_cached(prompt.context), task] if prompt.context else [task]
    asked: list[MessageParam] = [{"role": "user", "content": blocks}]
    if partial and prefilled:
        asked.append({"role": "assistant", "content": prefill(partial)})
    elif partial:
        asked += [{"role": "assistant", "content": partial}, {"role": "user", "content": CONTINUE}]
    return asked


def _usage(message: Message) -> Usage:
    used = message.usage
    return Usage(
        input_tokens=used.input_tokens,
        output_tokens=used.output_tokens,
        cache_read_tokens=used.cache_read_input_tokens or 0,
        cache_write_tokens=used.cache_creation_input_tokens or 0,
    )
