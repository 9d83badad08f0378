"""Fixtures of the agent's tests: a local model API, a recording sleep, services on a temp folder.

`model_api` is an HTTP server of ours on 127.0.0.1 that speaks the Anthropic
Messages API and OpenAI chat completions, streaming included. A test scripts
its replies in order (an answer cut at max_tokens, an error with its message)
and reads back every request it received.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from layercake_agent.adapters.anthropic_api import AnthropicProvider
from layercake_agent.adapters.folder import MemoryBlobs
from layercake_agent.adapters.openai_api import OpenAIProvider
from layercake_agent.adapters.provider import Endpoint
from layercake_agent.adapters.state import ProjectStore
from layercake_agent.adapters.templates import load_templates
from layercake_agent.core.retry import RetryPolicy
from layercake_agent.service import AgentService
from layercake_agent.settings import SHIPPED_RECORDINGS, Settings

MODEL = "claude-sonnet-4-6"


@dataclass(frozen=True)
class Success:
    """A streamed answer, in whichever API the request spoke."""

    text: str
    input_tokens: int
    output_tokens: int
    cache_read: int
    cache_write: int
    cut: bool = False  # stopped at max_tokens: Anthropic's stop_reason, OpenAI's finish_reason


@dataclass(frozen=True)
class Failure:
    """An error answer; `mid_stream` sends it as an SSE error event inside a 200 stream."""

    status: int
    error_type: str
    retry_after: str | None = None
    mid_stream: bool = False
    message: str | None = None  # the error's text; by default "scripted <status>"


@dataclass
class ModelApi:
    """The scripted replies and every request received, as (path, headers, JSON body)."""

    url: str = ""
    replies: deque[Success | Failure] = field(default_factory=deque)
    requests: list[tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=list)

    def answer(
        self, text, *, input_tokens=100, output_tokens=50, cache_read=0, cache_write=0, cut=False
    ) -> None:
        self.replies.append(
            Success(text, input_tokens, output_tokens, cache_read, cache_write, cut)
        )

    def fail(
        self, status, error_type="api_error", *, retry_after=None, mid_stream=False, message=None
    ) -> None:
        self.replies.append(Failure(status, error_type, retry_after, mid_stream, message))

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [body for _, _, body in self.requests]


def _sse(events: list[tuple[str | None, object]]) -> list[bytes]:
    return [
        (f"event: {name}\n" if name else "").encode()
        + f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()
        for name, data in events
    ]


def _pieces(text: str) -> list[str]:
    third = max(len(text) // 3, 1)
    return [text[i : i + third] for i in range(0, len(text), third)] or [""]


def _anthropic_stream(reply: Success) -> list[bytes]:
    usage = {
        "input_tokens": reply.input_tokens,
        "output_tokens": 1,
        "cache_read_input_tokens": reply.cache_read,
        "cache_creation_input_tokens": reply.cache_write,
    }
    message = {
        "id": "msg_1", "type": "message", "role": "assistant", "model": MODEL,
        "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage,
    }  # fmt: skip
    deltas = [
        ("content_block_delta",
         {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}})
        for p in _pieces(reply.text)
    ]  # fmt: skip
    return _sse([
        ("message_start", {"type": "message_start", "message": message}),
        ("content_block_start",
         {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        *deltas,
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta",
                           "delta": {"stop_reason": "max_tokens" if reply.cut else "end_turn",
                                     "stop_sequence": None},
                           "usage": {"output_tokens": reply.output_tokens}}),
        ("message_stop", {"type": "message_stop"}),
    ])  # fmt: skip


def _openai_stream(reply: Success) -> list[bytes]:
    def chunk(choices: list[object], **extra: object) -> dict[str, object]:
        return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": MODEL,
                "choices": choices, **extra}  # fmt: skip

    pieces = [
        chunk([{"index": 0, "delta": {"content": p}, "finish_reason": None}])
        for p in _pieces(reply.text)
    ]
    usage = {
        "prompt_tokens": reply.input_tokens + reply.cache_read,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.input_tokens + reply.cache_read + reply.output_tokens,
        "prompt_tokens_details": {"cached_tokens": reply.cache_read},
    }
    return _sse([
        *((None, p) for p in pieces),
        (None, chunk([{"index": 0, "delta": {}, "finish_reason": "length" if reply.cut else "stop"}])),
        (None, chunk([], usage=usage)),
        (None, "[DONE]"),
    ])  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    api: ModelApi

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.api.requests.append((self.path, dict(self.headers), body))
        anthropic = self.path.endswith("/v1/messages")
        if not self.api.replies:
            self._send(
                400, {}, [b'{"error": {"type": "invalid_request_error", "message": "unscripted"}}']
            )
            return
        reply = self.api.replies.popleft()
        if isinstance(reply, Success):
            self._send(200, {"content-type": "text/event-stream"},
                       _anthropic_stream(reply) if anthropic else _openai_stream(reply))  # fmt: skip
            return
        error = {"type": reply.error_type, "message": reply.message or f"scripted {reply.status}"}
        if reply.mid_stream:
            self._send(200, {"content-type": "text/event-stream"},
                       _sse([("error", {"type": "error", "error": error})]))  # fmt: skip
            return
        headers = {"content-type": "application/json"}
        if reply.retry_after is not None:
            headers["retry-after"] = reply.retry_after
        self._send(reply.status, headers, [json.dumps({"type": "error", "error": error}).encode()])

    def _send(self, status: int, headers: dict[str, str], chunks: list[bytes]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("connection", "close")
        self.end_headers()
        for piece in chunks:  # one write per event: the client reads a real stream
            self.wfile.write(piece)
            self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002  # the base class's name
        """Quiet: the test reads `requests` instead."""


@pytest.fixture
def model_api():
    """A local HTTP server speaking the Anthropic and OpenAI APIs, scripted by the test."""
    api = ModelApi()
    handler = type("Handler", (_Handler,), {"api": api})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    api.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield api
    server.shutdown()
    server.server_close()


class Naps:
    """A sleep that only notes how long it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def naps():
    """The waits the retry policy asked for, without waiting."""
    return Naps()


@pytest.fixture
def anthropic_provider(model_api, naps):
    """The Anthropic provider, on the real SDK, pointed at `model_api`."""
    endpoint = Endpoint(api_key="test-key", model=MODEL, max_tokens=1000, base_url=model_api.url)
    return AnthropicProvider(endpoint, RetryPolicy(attempts=3), naps)


@pytest.fixture
def openai_provider(model_api, naps):
    """The OpenAI-compatible provider, on the real SDK, pointed at `model_api`."""
    endpoint = Endpoint(
        api_key="test-key", model=MODEL, max_tokens=1000, base_url=f"{model_api.url}/v1"
    )
    return OpenAIProvider(endpoint, RetryPolicy(attempts=3), naps)


@pytest.fixture(params=["anthropic", "openai"])
def provider(request):
    """Each real SDK provider in turn."""
    return request.getfixturevalue(f"{request.param}_provider")


@pytest.fixture
def templates():
    """The shipped prompt templates."""
    return load_templates()


@pytest.fixture
def make_service(tmp_path, templates):
    """Build an AgentService around a provider, keeping its state under a temp folder."""

    def make(provider, **settings):
        config = Settings(agent_root=tmp_path / "agent", max_tokens=1000, **settings)
        return AgentService(provider, ProjectStore(config.agent_root), templates, config)

    return make


@pytest.fixture
def blobs():
    """An in-memory blob store."""
    return MemoryBlobs()


@pytest.fixture
def recordings():
    """The recordings shipped with the agent service."""
    return SHIPPED_RECORDINGS
