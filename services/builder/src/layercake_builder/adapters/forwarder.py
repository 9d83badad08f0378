"""A network step's way out: 127.0.0.1:PORT inside its namespace, relayed to the egress socket.

Runs inside the sandbox as the step's first process (`python3 -I -S forwarder.py SOCKET
PORT -- COMMAND...`): it listens on its namespace's own loopback, starts the step's
command, relays every connection to the builder's egress proxy on the Unix socket the
sandbox shows it, and exits with the command's status. It decides nothing: the proxy
on the other side of the socket does. It must stay importable by a bare interpreter
(`python3 -I -S`): standard library only, no LayerCake imports.
"""

from __future__ import annotations

import asyncio
import sys

_CHUNK = 64 * 1024


async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy until end of file, then half-close, so the other direction can finish."""
    try:
        while chunk := await source.read(_CHUNK):
            sink.write(chunk)
            await sink.drain()
        if sink.can_write_eof():
            sink.write_eof()
    except OSError:
        sink.close()


async def _relay(
    socket_path: str, client: asyncio.StreamReader, to_client: asyncio.StreamWriter
) -> None:
    try:
        proxy, to_proxy = await asyncio.open_unix_connection(socket_path)
    except OSError:
        to_client.close()
        return
    try:
        await asyncio.gather(pump(client, to_proxy), pump(proxy, to_client))
    finally:
        to_proxy.close()
        to_client.close()


async def _run(socket_path: str, port: int, command: list[str]) -> int:
    server = await asyncio.start_server(lambda r, w: _relay(socket_path, r, w), "127.0.0.1", port)
    async with server:
        # The step is its own process: the forwarder's descriptors stay out of it.
        step = await asyncio.create_subprocess_exec(*command)
        return await step.wait()


def main() -> None:
    """Listen, run the step, exit as it did."""
    socket_path, port, separator, *command = sys.argv[1:]
    if separator != "--" or not command:
        sys.exit("usage: forwarder.py SOCKET PORT -- COMMAND...")
    code = asyncio.run(_run(socket_path, int(port), command))
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
