"""Recorded answers, played back: a demo runs offline, with no key and no network.

Recordings come in sets, one folder per recorded project: `<root>/<set>/`
holds `manifest.toml` and the answers, `<role>/<gate>/attempt-<n>.md`, as the
model wrote them. The manifest names the project (`project`) and the sha256 of
the intake it was recorded for (`intake_sha256`, of its UTF-8 text); a set
answers only a project whose intake has that digest. Any other project gets
`NoRecording` at once, not retryable: a user's own project must never be
answered, silently, with another project's answers (a project whose intake the
agent has not seen yet gets it retryable). Adding a recorded demo is adding a folder and
its manifest; a set that keeps its intake as `intake.md` (of that digest) and says
`has_ui` is one `layercake demo --project NAME` can start. Playing an answer costs
nothing, so its usage is zero.
"""

from __future__ import annotations

import asyncio
import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from layercake_agent.adapters.provider import Completion
from layercake_agent.errors import NoRecording, RecordingMissing, RecordingsInvalid
from layercake_contracts.values import Usage

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from layercake_agent.core.prompt import Prompt

NAME = "replay"
MANIFEST = "manifest.toml"
INTAKE = "intake.md"


class Manifest(BaseModel):
    """What a set of recordings answers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project: str = Field(min_length=1)
    intake_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    has_ui: bool = False
    tests: tuple[str, ...] = ()  # how a person runs the released repository's own tests


@dataclass(frozen=True)
class RecordingSet:
    """One recorded project: where its answers are, and what its manifest says."""

    folder: Path
    manifest: Manifest

    def intake(self) -> str:
        """The intake the set was recorded for (`intake.md`); `RecordingsInvalid` if it has none."""
        try:
            return (self.folder / INTAKE).read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise RecordingsInvalid(self.folder, f"no {INTAKE}: the set keeps no intake") from exc


class ReplayProvider:
    """Answers from the set of recordings made for the prompt's project."""

    name = NAME

    def __init__(self, root: Path) -> None:
        self._sets = load_sets(root)

    def set_for(self, prompt: Prompt) -> RecordingSet:
        """The set recorded for `prompt`'s project; `NoRecording` if there is none."""
        digest = hashlib.sha256(prompt.intake.encode()).hexdigest()
        found = self._sets.get(digest)
        if found is None:
            known = tuple(sorted(s.manifest.project for s in self._sets.values()))
            raise NoRecording(prompt.project or "(unnamed)", known, intake_seen=bool(prompt.intake))
        return found

    def path_for(self, prompt: Prompt) -> Path:
        """Where the recorded answer to `prompt` is kept."""
        folder = self.set_for(prompt).folder
        return folder / prompt.role.value / prompt.gate.value / f"attempt-{prompt.attempt}.md"

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


def load_sets(root: Path) -> Mapping[str, RecordingSet]:
    """The sets of recordings under `root` by intake digest (none if `root` does not exist)."""
    sets: dict[str, RecordingSet] = {}
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for folder in folders:
        found = RecordingSet(folder, _manifest(folder))
        digest = found.manifest.intake_sha256
        _check_intake(found)
        if digest in sets:
            raise RecordingsInvalid(
                folder, f"answers the same intake ({digest}) as {sets[digest].folder}"
            )
        sets[digest] = found
    return sets


def recorded_set(root: Path, name: str) -> RecordingSet:
    """The set under `root` recorded for project `name`; `RecordingsInvalid` names the known."""
    sets = {s.manifest.project: s for s in load_sets(root).values()}
    if name not in sets:
        known = ", ".join(sorted(sets)) or "none"
        raise RecordingsInvalid(root / name, f"no set records project {name!r} (sets: {known})")
    return sets[name]


def _check_intake(found: RecordingSet) -> None:
    path = found.folder / INTAKE
    if not path.exists():
        return
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != found.manifest.intake_sha256:
        raise RecordingsInvalid(
            found.folder, f"{INTAKE} has sha256 {digest}, the manifest says another intake"
        )


def _manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    try:
        return Manifest.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise RecordingsInvalid(
            folder, f"no {MANIFEST}: a set of recordings names the intake it answers"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise RecordingsInvalid(folder, f"{MANIFEST} is not TOML: {exc}") from exc
    except ValidationError as exc:
        raise RecordingsInvalid(folder, f"{MANIFEST}: {_problems(exc)}") from exc


def _problems(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'the file'}: {e['msg']}" for e in error.errors()
    )
