"""An ASGI app served by uvicorn on a free port, in a thread, for a real client (or browser)."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING

import httpx
import uvicorn

from layercake.natsd import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

    from starlette.types import ASGIApp


@contextlib.contextmanager
def serving(app: ASGIApp, probe: str = "/openapi.json") -> Iterator[str]:
    """`app` on http://127.0.0.1:<free port> (its URL) once `probe` answers; stopped after."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}{probe}", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
