"""The egress proxy: the only way out of a network step, an HTTP CONNECT proxy on a Unix socket.

Shell around `core.egress`: it reads a request head, lets the core decide, resolves the
name itself and connects to the very address the core checked (no second lookup, so no
DNS rebinding), then relays bytes. Each network step gets its own listening socket, made
for it and removed after it, owned by the step's user; the sandbox shows the step only
that socket (its network namespace has nothing but its own loopback). When the builder
itself must go through a proxy (`upstream`), tunnels are chained through it by name.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import structlog

from layercake_builder.adapters.forwarder import pump
from layercake_builder.core.egress import EgressPolicy, Target, admit, vet_addresses
from layercake_builder.errors import EgressRefused

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

log = structlog.get_logger(__name__)

_HEAD_LIMIT = 16 * 1024
_HEAD_TIMEOUT_S = 30.0
_CONNECT_TIMEOUT_S = 30.0
_END_OF_HEAD = b"\r\n\r\n"


class _Unreachable(Exception):  # internal: becomes a 502, never leaves the module
    """The target (or the upstream proxy) did not answer."""


@dataclass(frozen=True)
class Upstream:
    """A proxy the builder's own traffic must go through (HTTPS_PROXY of the builder)."""

    host: str
    port: int
    authorization: str | None = None

    @classmethod
    def parse(cls, url: str) -> Upstream:
        """`http://[user:password@]host:port` as the environment variable spells it."""
        parts = urlsplit(url if "://" in url else f"http://{url}")
        credentials = None
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            credentials = "Basic " + base64.b64encode(pair.encode()).decode()
        return cls(parts.hostname or "", parts.port or 3128, credentials)


class EgressProxy:
    """Serves one Unix socket per network step; refuses what the policy does not allow."""

    def __init__(self, policy: EgressPolicy, upstream: Upstream | None = None) -> None:
        self._policy = policy
        self._upstream = upstream

    @contextlib.asynccontextmanager
    async def serve(self, owner: int | None) -> AsyncIterator[str]:
        """A fresh socket only `owner` (a slot uid; None: ourselves) may connect to; its path."""
        folder = tempfile.mkdtemp(prefix="lc-egress-")  # short: a socket path has 108 bytes
        path = os.path.join(folder, "egress.sock")  # noqa: PTH118
        tasks: set[asyncio.Task[None]] = set()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            if task is not None:
                tasks.add(task)
            try:
                await self._tunnel(reader, writer)
            finally:
                if task is not None:
                    tasks.discard(task)

        server = await asyncio.start_unix_server(handle, path, limit=_HEAD_LIMIT)
        try:
            os.chmod(path, 0o600)  # noqa: PTH101
            if owner is not None:
                os.chown(path, owner, owner)
                os.chmod(folder, 0o711)  # noqa: PTH101, S103  # search only: reach the socket, no listing
            yield path
        finally:
            server.close()
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.wait_closed()
            shutil.rmtree(folder, ignore_errors=True)

    async def _tunnel(self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        try:
            try:
                head = await asyncio.wait_for(client.readuntil(_END_OF_HEAD), _HEAD_TIMEOUT_S)
                target = admit(head.decode("latin-1"), self._policy)
                reader, writer = await self._open(target)
            except EgressRefused as refused:
                log.warning("egress_refused", target=refused.target, reason=refused.reason)
                await _answer(to_client, "403 Forbidden", refused.reason)
                return
            except _Unreachable as exc:
                log.warning("egress_unreachable", error=str(exc))
                await _answer(to_client, "502 Bad Gateway", str(exc))
                return
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                await _answer(to_client, "400 Bad Request", "no complete request head")
                return
            log.info("egress_opened", target=str(target))
            to_client.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            try:
                await asyncio.gather(pump(client, writer), pump(reader, to_client))
            finally:
                writer.close()
        finally:
            to_client.close()

    async def _open(self, target: Target) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to `target`: direct to a checked address, or tunnelled via upstream."""
        try:
            if self._upstream is None:
                loop = asyncio.get_running_loop()
                infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
                addresses = vet_addresses(target, [str(info[4][0]) for info in infos])
                return await _connect_any(addresses, target.port)
            return await asyncio.wait_for(self._via_upstream(target), _CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, EOFError, asyncio.LimitOverrunError) as exc:
            raise _Unreachable(f"{target}: {exc or type(exc).__name__}") from exc

    async def _via_upstream(
        self, target: Target
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """The upstream resolves the (allow-listed) name: it, not we, knows the way out."""
        upstream = self._upstream
        if upstream is None:  # only called with one; keeps mypy precise without assert
            raise _Unreachable("no upstream proxy")
        reader, writer = await asyncio.open_connection(upstream.host, upstream.port)
        auth = upstream.authorization
        lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
        lines += [f"Proxy-Authorization: {auth}"] if auth else []
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await reader.readuntil(_END_OF_HEAD)
        status = head.split(b"\r\n", 1)[0].decode("latin-1")
        if status.split(" ")[1:2] != ["200"]:
            writer.close()
            raise _Unreachable(f"upstream proxy answered {status!r} for {target}")
        return reader, writer


async def _connect_any(
    addresses: tuple[str, ...], port: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """The first of the checked addresses that answers (one family may have no route)."""
    failure: OSError | TimeoutError = OSError("no address")
    for address in addresses:
        try:
            return await asyncio.wait_for(
                asyncio.open_connection(address, port), _CONNECT_TIMEOUT_S
            )
        except (OSError, TimeoutError) as exc:
            failure = exc
    raise failure


async def _answer(writer: asyncio.StreamWriter, status: str, reason: str) -> None:
    body = f"{reason}\n".encode()
    writer.write(
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n".encode()
        + body
    )
    with contextlib.suppress(OSError):
        await writer.drain()
