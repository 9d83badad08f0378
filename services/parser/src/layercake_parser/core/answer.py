"""Model answers arrive as bytes: decode them without ever failing."""

from __future__ import annotations

REPLACEMENT = "\ufffd"


def decode_answer(data: bytes) -> tuple[str, tuple[str, ...]]:
    """The answer as text, and a warning when some bytes were not UTF-8."""
    try:
        return data.decode("utf-8"), ()
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        bad = text.count(REPLACEMENT) - data.count(REPLACEMENT.encode())
        return text, (f"the answer is not valid UTF-8: {bad} undecodable bytes were replaced",)
