"""OpenAI-compatible chat completions through the `openai` SDK, with a base URL.

One adapter for OpenAI and for local servers that speak its API (llama.cpp's
server, vLLM, Ollama). Streams with `include_usage`, so the last chunk carries
the token counts; the SDK's retries are off and ours decide, as for Anthropic.
An answer cut at max_tokens (`finish_reason: length`) is continued by a user
turn that asks to go on (`core.continuation`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import openai

from layercake_agent.adapters.provider import Completion, RetryingProvider, status_error
from layercake_agent.core.continuation import CONTINUE, continued
from layercake_agent.errors import ProviderUnavailable
from layercake_contracts.values import Usage

if TYPE_CHECKING:
    from collections.abc import Callable

    from openai.types import CompletionUsage
    from openai.types.chat import ChatCompletionMessageParam

    from layercake_agent.adapters.provider import Endpoint
    from layercake_agent.core.prompt import Prompt

NAME = "openai"
_CUT = "length"


class OpenAIProvider(RetryingProvider[openai.AsyncOpenAI]):
    """Answers from an OpenAI-compatible chat completions endpoint."""

    name = NAME

    def _connect(self, endpoint: Endpoint) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(**endpoint.client_options())

    async def _once(
        self, prompt: Prompt, partial: str, on_text: Callable[[str], None] | None
    ) -> Completion:
        pieces: list[str] = []
        usage = Usage()
        model = self._endpoint.model
        cut = False
        try:
            stream = await self._client.chat.completions.create(
                model=self._endpoint.model,
                max_tokens=self._endpoint.max_tokens,
                messages=_messages(prompt, partial),
                stream=True,
                stream_options={"include_usage": True},
            )
            async for chunk in stream:
                model = chunk.model or model
                text = chunk.choices[0].delta.content if chunk.choices else None
                cut = cut or bool(chunk.choices and chunk.choices[0].finish_reason == _CUT)
                if text:
                    pieces.append(text)
                    if on_text is not None:
                        on_text(text)
                if chunk.usage is not None:
                    usage = _usage(chunk.usage)
        except openai.APIStatusError as exc:
            raise status_error(NAME, exc.status_code, exc.response.headers, exc.message) from exc
        except openai.APIConnectionError as exc:
            raise ProviderUnavailable(NAME, None, exc.message) from exc
        text = continued(partial, "".join(pieces), prefilled=False)
        return Completion(text=text, usage=usage, model=model, truncated=cut)


def _messages(prompt: Prompt, partial: str) -> list[ChatCompletionMessageParam]:
    # Context before task in one message: servers that cache a prompt's prefix reuse it.
    user = f"{prompt.context}\n\n{prompt.task}" if prompt.context else prompt.task
    asked: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": prompt.system},
        {"role": "user", "content": user},
    ]
    if partial:
        asked += [{"role": "assistant", "content": partial}, {"role": "user", "content": CONTINUE}]
    return asked


def _usage(used: CompletionUsage) -> Usage:
    details = used.prompt_tokens_details
    cached = (details.cached_tokens or 0) if details is not None else 0
    return Usage(
        input_tokens=used.prompt_tokens - cached,
        output_tokens=used.completion_tokens,
        cache_read_tokens=cached,
    )
