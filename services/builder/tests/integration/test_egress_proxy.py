"""The egress proxy on a real Unix socket: what it refuses, what it logs, how it chains.

Every target here is on this machine's loopback or refused before any packet is sent.
"""

from __future__ import annotations

import asyncio
import os
import stat

import pytest
import structlog

from layercake_builder.adapters.egress import EgressProxy, Upstream
from layercake_builder.core.egress import EgressPolicy


async def ask(path: str, head: str, then: bytes = b"") -> tuple[str, bytes]:
    """Send a request head over the proxy's socket; its status line and what came back."""
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(head.encode())
    answer = await reader.readuntil(b"\r\n\r\n")
    body = b""
    if then:
        writer.write(then)
        body = await reader.readexactly(len(then))
    else:
        body = await reader.read()
    writer.close()
    return answer.decode().split("\r\n")[0], body


def connect(authority: str) -> str:
    return f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n"


@pytest.fixture
async def loopback_server():
    """A TCP server on 127.0.0.1 that echoes; `seen` holds the heads it was sent first."""
    seen: list[bytes] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        while chunk := await reader.read(1024):
            writer.write(chunk)
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1], seen
    server.close()
    await server.wait_closed()


async def test_a_refusal_answers_403_with_its_reason_and_is_logged():
    with structlog.testing.capture_logs() as logs:
        async with EgressProxy(EgressPolicy()).serve(None) as path:
            status, body = await ask(path, connect("example.com:443"))
    assert status == "HTTP/1.1 403 Forbidden"
    assert body == b"host not on the allow-list\n"
    refused = [e for e in logs if e["event"] == "egress_refused"]
    assert refused == [
        {
            "event": "egress_refused",
            "log_level": "warning",
            "target": "example.com:443",
            "reason": "host not on the allow-list",
        }
    ]


async def test_a_plain_http_request_is_refused():
    async with EgressProxy(EgressPolicy()).serve(None) as path:
        status, body = await ask(path, "GET http://pypi.org/simple/ HTTP/1.1\r\n\r\n")
    assert status == "HTTP/1.1 403 Forbidden"
    assert body == b"GET is not CONNECT\n"


async def test_an_allow_listed_name_resolving_to_loopback_is_refused_and_never_reached(
    loopback_server,
):
    """Even a name on the list is refused when it resolves to 127.0.0.1: nothing connects."""
    port, seen = loopback_server
    policy = EgressPolicy(hosts=frozenset({"localhost"}), ports=frozenset({port}))
    async with EgressProxy(policy).serve(None) as path:
        status, body = await ask(path, connect(f"localhost:{port}"))
    assert status == "HTTP/1.1 403 Forbidden"
    assert body.decode().endswith(", loopback\n")
    assert seen == []


async def test_a_tunnel_chains_through_the_upstream_proxy_by_name(loopback_server):
    """With an upstream proxy, the CONNECT goes to it, by name, and the bytes flow both ways."""
    port, seen = loopback_server
    proxy = EgressProxy(EgressPolicy(), Upstream("127.0.0.1", port, "Basic dTpw"))
    async with proxy.serve(None) as path:
        status, echoed = await ask(path, connect("pypi.org:443"), then=b"hello through")
    assert status == "HTTP/1.1 200 Connection established"
    assert echoed == b"hello through"
    head = b"CONNECT pypi.org:443 HTTP/1.1\r\nHost: pypi.org:443\r\n"
    assert seen == [head + b"Proxy-Authorization: Basic dTpw\r\n\r\n"]


async def test_an_upstream_that_refuses_answers_502():
    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
        writer.close()

    upstream = await asyncio.start_server(refuse, "127.0.0.1", 0)
    port = upstream.sockets[0].getsockname()[1]
    async with EgressProxy(EgressPolicy(), Upstream("127.0.0.1", port)).serve(None) as path:
        status, body = await ask(path, connect("pypi.org:443"))
    upstream.close()
    assert status == "HTTP/1.1 502 Bad Gateway"
    assert b"407" in body


@pytest.mark.skipif(os.geteuid() != 0, reason="handing the socket to a slot user needs root")
async def test_the_socket_belongs_to_the_steps_user_alone_and_goes_with_the_step():
    async with EgressProxy(EgressPolicy()).serve(61999) as path:
        info, folder = os.stat(path), os.stat(os.path.dirname(path))
        assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (61999, 0o600)
        assert stat.S_IMODE(folder.st_mode) == 0o711
    with pytest.raises(FileNotFoundError):
        os.stat(os.path.dirname(path))


def test_the_upstream_url_is_read_as_the_environment_spells_it():
    assert Upstream.parse("http://user:p%40ss@proxy.internal:8080") == Upstream(
        "proxy.internal", 8080, "Basic dXNlcjpwQHNz"
    )
    assert Upstream.parse("proxy.internal:3128") == Upstream("proxy.internal", 3128)
