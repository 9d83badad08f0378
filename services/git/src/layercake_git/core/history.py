"""Commit messages, identities and the history read back from them.

Every commit the service makes ends with trailers naming its gate, role, file
count and, last, `LayerCake-Event: <event id>`: the event that caused it. The
same trailers are how a redelivered event finds its commit and how
`layercake log` shows a project's history. Pure: text in, text or values out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uuid

    from layercake_contracts.events import BuildSucceeded, GateApproved
    from layercake_contracts.values import Role

EVENT_TRAILER = "LayerCake-Event"
GATE_TRAILER = "LayerCake-Gate"
ROLE_TRAILER = "LayerCake-Role"
ATTEMPT_TRAILER = "LayerCake-Attempt"
FILES_TRAILER = "LayerCake-Files"
# Fields of one `git log` record, then the end of the record.
LOG_FORMAT = "%H%x1f%D%x1f%aI%x1f%an%x1f%s%x1f%(trailers:only,unfold)%x1e"
_FIELD, _RECORD = "\x1f", "\x1e"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Identity:
    """Who a commit names as its author or committer."""

    name: str
    email: str


COMMITTER = Identity("LayerCake", "git@layercake.invalid")


def author_for(role: Role) -> Identity:
    """The author of a role's commits: `LayerCake backend developer`."""
    return Identity(f"LayerCake {_words(role)}", f"{role.value}@layercake.invalid")


def trailer(event_id: uuid.UUID) -> str:
    """The trailer naming the event that caused a commit."""
    return f"{EVENT_TRAILER}: {event_id}"


def build_message(event: BuildSucceeded, files: int) -> str:
    """The message of a build's commit: gate, role, attempt, file count, then the trailers."""
    subject = (
        f"{event.gate}: {_words(event.role)} build, attempt {event.attempt} "
        f"({_files(files)} changed)"
    )
    return _message(
        subject,
        {
            GATE_TRAILER: event.gate.value,
            ROLE_TRAILER: event.role.value,
            ATTEMPT_TRAILER: str(event.attempt),
            FILES_TRAILER: str(files),
        },
        event.event_id,
    )


def approval_message(
    event: GateApproved, role: Role, documents: int, files: int, *, chosen: str | None = None
) -> str:
    """The message of an approval's commit: who approved, how many documents it adds.

    `chosen`: the design kept when the others were left out.
    """
    by = _CONTROL.sub(" ", event.by).strip() or "someone"  # free text: no forged trailers
    subject = f"{event.gate} approved by {by}: {documents} document(s), {_files(files)} changed"
    if chosen is not None:
        subject += f", only {_CONTROL.sub(' ', chosen)} of the designs"
    trailers = {GATE_TRAILER: event.gate.value, ROLE_TRAILER: role.value, FILES_TRAILER: str(files)}
    return _message(subject, trailers, event.event_id)


def _message(subject: str, trailers: Mapping[str, str], event_id: uuid.UUID) -> str:
    lines = [f"{key}: {value}" for key, value in trailers.items()]
    return f"{subject}\n\n" + "\n".join([*lines, trailer(event_id)]) + "\n"


def _words(role: Role) -> str:
    return role.value.replace("_", " ")


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


@dataclass(frozen=True)
class LogEntry:
    """One commit of a project's history, with the trailers it carries."""

    sha: str
    refs: tuple[str, ...]
    date: str
    author: str
    subject: str
    trailers: Mapping[str, str] = field(default_factory=dict)

    @property
    def gate(self) -> str | None:
        """The gate the commit belongs to."""
        return self.trailers.get(GATE_TRAILER)

    @property
    def role(self) -> str | None:
        """The role whose work the commit holds."""
        return self.trailers.get(ROLE_TRAILER)

    @property
    def event_id(self) -> str | None:
        """The event that caused the commit."""
        return self.trailers.get(EVENT_TRAILER)

    @property
    def files(self) -> int:
        """How many files the commit changed, as its message says."""
        return int(self.trailers.get(FILES_TRAILER, "0"))


def parse_log(output: str) -> list[LogEntry]:
    """The entries of `git log --format=LOG_FORMAT` output, newest first."""
    entries = []
    for record in output.split(_RECORD):
        if not record.strip():
            continue
        sha, refs, date, author, subject, trailers = record.lstrip("\n").split(_FIELD)
        entries.append(
            LogEntry(
                sha=sha,
                refs=tuple(r for r in refs.split(", ") if r),
                date=date,
                author=author,
                subject=subject,
                trailers=parse_trailers(trailers),
            )
        )
    return entries


def parse_trailers(block: str) -> dict[str, str]:
    """`Key: value` lines as a mapping; a later line with the same key wins."""
    pairs = (line.partition(": ") for line in block.splitlines())
    return {key: value for key, sep, value in pairs if sep}


def bounded_patch(patch: str, limit: int) -> tuple[str, bool]:
    """`patch`, or its whole lines within `limit` characters and a note; True when cut."""
    if len(patch) <= limit:
        return patch, False
    kept = patch[:limit]
    if "\n" in kept:
        kept = kept[: kept.rindex("\n") + 1]
    note = f"… {len(patch) - len(kept)} more characters of this diff not shown\n"
    return kept + note, True
