"""Request bodies against the API's limit, through real HTTP on a raw socket (issue #14).

A raw socket, because the attack is in how the body is sent: the client keeps
writing while it listens, so a test sees whether the gateway answered before
the body was in. Kernel buffers take a few MiB; the bodies sent are far larger.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from layercake_gateway.core.names import bus_id
from layercake_gateway.routes.builds import MAX_FILE_CHARS

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.nats

LIMIT = 100_000
HUGE = 64 * 2**20  # far beyond what the socket buffers between client and gateway hold
PIECE = b"x" * 2**16


@dataclass(frozen=True)
class Answer:
    """What the gateway answered, and how much of the body had been sent by then."""

    status: int
    body: dict[str, object]
    sent_when_answered: int


async def send(client, head: dict[str, str], pieces: Iterator[bytes]) -> Answer:
    """POST /projects with `head`, writing `pieces` as the body while reading the answer."""
    port = client.base_url.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = ["POST /projects HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in head.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    sent = 0

    async def write_body() -> None:
        nonlocal sent
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            sent += len(piece)

    writing = asyncio.create_task(write_body())
    try:
        status = int((await reader.readline()).split()[1])
        sent_when_answered = sent
        headers = {}
        while (line := await reader.readline()) not in {b"\r\n", b""}:
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers["content-length"]))
    finally:
        writing.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await writing
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return Answer(status, json.loads(body), sent_when_answered)


def plain(size: int) -> Iterator[bytes]:
    """`size` bytes of body, as they come."""
    for _ in range(size // len(PIECE)):
        yield PIECE


def chunked(size: int) -> Iterator[bytes]:
    """`size` bytes of body in HTTP/1.1 chunks (no Content-Length), then the last chunk."""
    for piece in plain(size):
        yield b"%x\r\n%s\r\n" % (len(piece), piece)
    yield b"0\r\n\r\n"


async def test_an_unauthenticated_huge_body_gets_401_before_the_gateway_reads_it(gateway, auth):
    """No token, or a forged one: 401 while most of a 64 MiB body is still unsent."""
    _, client = gateway
    for who in ({}, auth("ada", "a-forged-secret-of-thirty-two-bytes!")):
        head = {**who, "Content-Type": "application/json", "Content-Length": str(HUGE)}
        answer = await send(client, head, plain(HUGE))
        assert answer.status == 401, answer
        assert answer.sent_when_answered < HUGE // 2, answer.sent_when_answered


async def test_an_authenticated_body_over_the_limit_by_its_length_gets_413_at_once(
    start_gateway, auth
):
    """A Content-Length over the limit is refused before the body is read; the answer names the limit."""
    _, client = await start_gateway(http_max_body_bytes=LIMIT)
    head = {**auth("ada"), "Content-Type": "application/json", "Content-Length": str(HUGE)}
    answer = await send(client, head, plain(HUGE))
    assert answer.status == 413, answer
    assert answer.body["limit_bytes"] == LIMIT
    assert str(LIMIT) in str(answer.body["detail"])
    assert answer.sent_when_answered < HUGE // 2, answer.sent_when_answered


async def test_an_authenticated_chunked_body_is_cut_off_at_the_limit_with_413(start_gateway, auth):
    """Without a Content-Length the body is counted as it streams in and refused past the limit."""
    _, client = await start_gateway(http_max_body_bytes=LIMIT)
    head = {**auth("ada"), "Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    answer = await send(client, head, chunked(HUGE))
    assert answer.status == 413, answer
    assert answer.body["limit_bytes"] == LIMIT
    assert answer.sent_when_answered < HUGE // 2, answer.sent_when_answered


async def test_a_body_within_the_limit_is_still_served_plain_or_chunked(start_gateway, auth):
    """A project created with a body under the limit: 201, whether it has a length or is chunked."""
    runtime, client = await start_gateway(http_max_body_bytes=LIMIT)
    intake = {"name": "c", "intake": "i" * (LIMIT // 2)}
    for project_id, framing in (("plain", "length"), ("streamed", "chunked")):
        data = json.dumps({"project_id": project_id, **intake}).encode()
        head = {**auth("ada"), "Content-Type": "application/json"}
        if framing == "length":
            answer = await send(client, {**head, "Content-Length": str(len(data))}, iter([data]))
        else:
            pieces = iter([b"%x\r\n%s\r\n" % (len(data), data), b"0\r\n\r\n"])
            answer = await send(client, {**head, "Transfer-Encoding": "chunked"}, pieces)
        assert answer.status == 201, answer
    assert {p.project_id for p in runtime.ledger.projects()} == {
        bus_id("ada", "plain"),
        bus_id("ada", "streamed"),
    }


async def test_the_largest_file_write_fits_the_default_limit(gateway, auth):
    """A file of MAX_FILE_CHARS characters outside the BMP, each sent as a 12-byte JSON escape: 202."""
    _, client = gateway
    await client.post(
        "/projects", json={"project_id": "calc", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    write = {"gate": "G5", "path": "a" * 255, "content": "\U0001f600" * MAX_FILE_CHARS}
    data = json.dumps(write, ensure_ascii=True).encode()
    assert len(data) > 12 * MAX_FILE_CHARS
    reply = await client.post(
        "/projects/calc/files",
        content=data,
        headers={**auth("ada"), "Content-Type": "application/json"},
    )
    assert reply.status_code == 202, reply.text
