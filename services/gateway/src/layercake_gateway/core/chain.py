"""Tamper evidence: each recorded event carries the hash of its predecessor and of itself.

Pure. A chain runs through one project's events in version order; editing,
removing or reordering a row breaks it at the first event concerned, and
`first_break` names that event.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

MARK = b"LCC1"
GENESIS = "0" * 64
_HEX = 64
_HEADER = len(MARK) + 2 * _HEX


def link_hash(previous: str, originator_id: str, version: int, topic: str, body: bytes) -> str:
    """The hash of one event, bound to its predecessor's."""
    head = "\0".join((previous, originator_id, str(version), topic)).encode()
    return hashlib.sha256(head + b"\0" + body).hexdigest()


def seal(previous: str, originator_id: str, version: int, topic: str, body: bytes) -> bytes:
    """A stored state that carries its chain link in front of the body."""
    own = link_hash(previous, originator_id, version, topic, body)
    return MARK + previous.encode() + own.encode() + body


def unseal(state: bytes) -> tuple[str, str, bytes] | None:
    """(previous hash, own hash, body) of a sealed state, or None if it carries no link."""
    if not isinstance(state, bytes) or not state.startswith(MARK) or len(state) < _HEADER:
        return None  # a row edited by hand may not even hold bytes any more
    previous = state[len(MARK) : len(MARK) + _HEX].decode("ascii", errors="replace")
    own = state[len(MARK) + _HEX : _HEADER].decode("ascii", errors="replace")
    return previous, own, state[_HEADER:]


@dataclass(frozen=True)
class Break:
    """Where a project's chain breaks, and how."""

    version: int
    reason: str


def first_break(originator_id: str, events: Iterable[tuple[int, str, bytes]]) -> Break | None:
    """The first broken link among (version, topic, state) in version order, or None."""
    expected, previous = 1, GENESIS
    for version, topic, state in events:
        if version != expected:
            return Break(expected, f"event {expected} is missing (removed)")
        link = unseal(state)
        if link is None:
            return Break(version, "the event carries no chain link (edited)")
        claimed_previous, own, body = link
        if claimed_previous != previous:
            return Break(
                version, "its predecessor's hash does not match (edited, removed or reordered)"
            )
        if link_hash(previous, originator_id, version, topic, body) != own:
            return Break(version, "its content does not match its hash (edited)")
        expected, previous = expected + 1, own
    return None
