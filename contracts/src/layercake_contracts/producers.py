"""Which service produces which event type: the table every consumer checks an envelope against.

The server's permissions (one set of credentials per service) are what stop a
forger; this table lets each consumer also refuse an event whose `producer` is
not one of its type's, so a misconfigured server is caught rather than obeyed.
The `producer` field is what the publisher says, not a signature. Pure data:
nothing here does I/O.
"""

from __future__ import annotations

import contextlib
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping


class Service(StrEnum):
    """The five services that publish on the bus."""

    GATEWAY = "gateway"
    AGENT = "agent"
    PARSER = "parser"
    BUILDER = "builder"
    GIT = "git"


_GATEWAY, _AGENT, _PARSER, _BUILDER, _GIT = (
    (Service.GATEWAY,),
    (Service.AGENT,),
    (Service.PARSER,),
    (Service.BUILDER,),
    (Service.GIT,),
)

# Event type -> the services that may publish it, the usual one first. What a
# person does through the HTTP API (a gate decision, files written, a build or
# an export asked for) the gateway publishes. ArtifactRecorded is the ledger's
# (no service publishes one yet). Any service may give up on a message.
PRODUCERS: Mapping[str, tuple[Service, ...]] = MappingProxyType({
    "ProjectCreated": _GATEWAY,
    "IntakeRevised": _GATEWAY,
    "GateOpened": _GATEWAY,
    "ArtifactRecorded": _GATEWAY,
    "GateApproved": _GATEWAY,
    "GateRejected": _GATEWAY,
    "OptionSelected": _GATEWAY,
    "AgentRequested": _GATEWAY,
    "CodeGenerated": _AGENT,
    "AgentFailed": _AGENT,
    "FilesWritten": (Service.PARSER, Service.GATEWAY),
    "FilesRejected": _PARSER,
    "BuildRequested": _GATEWAY,
    "BuildStarted": _BUILDER,
    "BuildSucceeded": _BUILDER,
    "BuildFailed": _BUILDER,
    "HealRequested": _GATEWAY,
    "EscalationRaised": _GATEWAY,
    "CommitCreated": _GIT,
    "CommitSkipped": _GIT,
    "ExportRequested": _GATEWAY,
    "PushCompleted": _GIT,
    "PushFailed": _GIT,
    "AnswerAwaited": _AGENT,
    "AnswerGiven": _GATEWAY,
    "ProcessingFailed": tuple(Service),
})  # fmt: skip


def usual_producer(event_type: str) -> Service | None:
    """Who publishes `event_type` as a rule (None for a type not in the catalogue)."""
    producers = PRODUCERS.get(event_type, ())
    return producers[0] if producers else None


def producer_problem(event_type: str, producer: Service) -> str | None:
    """Why `producer` may not publish `event_type`, or None when it may."""
    allowed = PRODUCERS.get(event_type, ())
    if producer in allowed:
        return None
    said = producer.value
    return f"producer: {event_type} is produced by {', '.join(allowed)}, message says {said!r}"


def service_named(name: str) -> Service | None:
    """The service called `name`; None for any other name (a test's stand-in, a benchmark)."""
    with contextlib.suppress(ValueError):
        return Service(name)
    return None
