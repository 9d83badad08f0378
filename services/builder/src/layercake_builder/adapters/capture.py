"""A step's output, kept within a cap: its head and its tail, and a count of what was cut.

Reads a stream to its end whatever the step prints, so a step can never make the
builder hold more than the cap in memory.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

_READ_CHUNK = 64 * 1024


class Capture:
    """Keeps the head and the tail of a stream up to a cap; counts what it drops."""

    def __init__(self, cap: int) -> None:
        self._half = cap // 2
        self._head = bytearray()
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self.dropped = 0

    async def drain(self, stream: asyncio.StreamReader | None) -> None:
        """Read `stream` to its end, keeping the head and the latest tail."""
        if stream is None:
            return
        while chunk := await stream.read(_READ_CHUNK):
            room = self._half - len(self._head)
            if room > 0:
                self._head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self._tail.append(chunk)
                self._tail_size += len(chunk)
                while self._tail_size - len(self._tail[0]) >= self._half:
                    self._tail_size -= len(dropped := self._tail.popleft())
                    self.dropped += len(dropped)

    def text(self) -> str:
        """What was kept, with a line saying how much was cut from the middle."""
        tail = b"".join(self._tail)
        if len(tail) > self._half:
            self.dropped += len(tail) - self._half
            tail = tail[-self._half :]
        middle = (
            f"\n[... {self.dropped} bytes of output cut ...]\n".encode() if self.dropped else b""
        )
        return (bytes(self._head) + middle + tail).decode("utf-8", errors="replace")
