"""Why each thing happened: the cause every recorded decision names, and the chain back.

Core: no I/O. A decision the ledger records names its cause before it is
stored (`caused_by`, `decided_here`), so the relay, reading it back at any
time, announces it with the same `causation_id`: a replay re-issues the same
events. The cause is the bus event the ledger reacted to, or the announcement
of the person's decision that started it (the approval is the cause of the
gate it opens; the gate opened, of its agents' requests). Every bus event the
ledger sees is kept as a `Seen` line, so `causes` can walk back from any of
them to a person's decision or the intake.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from layercake_contracts.events import EventBase

# The attribute a recorded event keeps its cause in (stored with it, unseen by replay:
# the library passes an `@event` method only the arguments it names).
CAUSE = "cause"
_ANNOUNCEMENT = uuid.UUID("0d7c9b1e-3f2a-4c5d-8e6f-7a8b9c0d1e2f")
# The events a person decides: a chain of causes ends at one of these, or at the intake.
DECISIONS = frozenset({"GateApproved", "GateRejected", "OptionSelected", "IntakeRevised"})
INTAKE = "ProjectCreated"


def announcement_id(aggregate_id: uuid.UUID, version: int, index: int) -> uuid.UUID:
    """The bus id of the `index`-th event the record at `version` announces (always the same)."""
    return uuid.uuid5(_ANNOUNCEMENT, f"{aggregate_id}/{version}/{index}")


def caused_by(recorded: Sequence[object], cause: uuid.UUID | None) -> None:
    """Each of `recorded` (decided, not yet stored) names `cause`: the bus event behind it."""
    for domain_event in recorded:
        object.__setattr__(domain_event, CAUSE, None if cause is None else str(cause))


def decided_here(recorded: Sequence[Any], aggregate_id: uuid.UUID) -> None:
    """A person's decision (the first of `recorded`) is a root; what it set going follows it.

    The rest are caused by the decision's announcement (an approval's GateApproved
    causes the GateOpened recorded with it).
    """
    if not recorded:
        return
    first, *rest = recorded
    caused_by([first], None)
    caused_by(rest, announcement_id(aggregate_id, first.originator_version, 0))


@dataclass(frozen=True)
class Seen:
    """One bus event as the ledger saw it: enough to tell what it was and why."""

    event_id: str
    type: str
    cause: str | None
    gate: str | None
    who: str  # the person who decided it (`by`, the owner), or the service that produced it
    sha: str | None = None  # a commit's (CommitCreated); None: another event, or seen before

    @classmethod
    def of(cls, event: EventBase) -> Seen:
        """What the ledger keeps of `event`."""
        fields = event.__dict__
        gate, by, owner, sha = (fields.get(k) for k in ("gate", "by", "owner", "sha"))
        return cls(
            event_id=str(event.event_id),
            type=str(fields["type"]),
            cause=None if event.causation_id is None else str(event.causation_id),
            gate=None if gate is None else str(gate),
            who=str(by or owner or event.producer),
            sha=None if sha is None else str(sha),
        )


SHA_PREFIX_MIN = 7


def named(seen: Mapping[str, Seen], given: str) -> list[str]:
    """The ids of the events `given` names: an event id, or a commit's sha (7 or more of it)."""
    given = given.strip().lower()
    if given in seen:
        return [given]
    if len(given) < SHA_PREFIX_MIN:
        return []
    commits = [s for s in seen.values() if s.sha is not None and s.sha.startswith(given)]
    if len({s.sha for s in commits}) == 1:  # one commit told twice (made, then tagged): the first
        return [commits[0].event_id]
    return [s.event_id for s in commits]


def causes(seen: Mapping[str, Seen], event_id: str) -> list[Seen]:
    """The chain from `event_id` back to its first cause the ledger saw, the event first.

    It ends at an event naming no cause (a person's decision, the intake) or at a
    cause the ledger never saw; `[]` when it never saw `event_id` itself.
    """
    chain: list[Seen] = []
    at: str | None = event_id
    while at is not None and at in seen and all(s.event_id != at for s in chain):
        chain.append(seen[at])
        at = seen[at].cause
    return chain
