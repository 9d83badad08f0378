"""Recorded answers, played back: the whole system runs offline, with no key and no network.

A recording is a file `<folder>/<role>/<gate>/attempt-<n>.md` holding a model's
answer as it was written. Playing one costs nothing, so its usage is zero.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from layercake_agent.adapters.provider import Completion
from layercake_agent.errors import RecordingMissing
from layercake_contracts.values import Usage

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from layercake_agent.core.prompt import Prompt

NAME = "replay"


class ReplayProvider:
    """Answers from a folder of recordings."""

    name = NAME

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def path_for(self, prompt: Prompt) -> Path:
        """Where the recorded answer to `prompt` is kept."""
        return self._folder / prompt.role.value / prompt.gate.value / f"attempt-{prompt.attempt}.md"

    async def complete(
        self, prompt: Prompt, on_text: Callable[[str], None] | None = None
    ) -> Completion:
        """The recorded answer to `prompt`; `RecordingMissing` names the key and the path."""
        path = self.path_for(prompt)
        try:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        except FileNotFoundError as exc:
            raise RecordingMissing(prompt.key, path) from exc
        if on_text is not None:
            on_text(text)
        return Completion(text=text, usage=Usage(), model=NAME)
