"""What the agent remembers of a project: intake, documents, chosen design, spending.

The agent sees only the requests addressed to it, so it keeps this record from
the events it also follows (ProjectCreated, ArtifactRecorded, OptionSelected)
and from its own model calls. Updating is pure and idempotent: the same event
remembered twice gives the same record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from layercake_contracts.events import ArtifactRecorded, OptionSelected, ProjectCreated
from layercake_contracts.values import Gate, Sha256, Usage

DESIGN_OPTION = "design_option"


@dataclass(frozen=True)
class Document:
    """An artifact of a gate whose text is a blob: a PRD, an OpenAPI file, a design, a report."""

    gate: Gate
    kind: str
    name: str
    blob: Sha256


@dataclass(frozen=True)
class ProjectRecord:
    """One project as the agent knows it."""

    name: str = ""
    intake: str = ""
    documents: tuple[Document, ...] = ()
    selected_design: str | None = None
    usage: Usage = field(default_factory=Usage)


def remember(
    record: ProjectRecord, event: ProjectCreated | ArtifactRecorded | OptionSelected
) -> ProjectRecord:
    """The record after `event`; an artifact replaces one of the same gate, kind and name."""
    if isinstance(event, ProjectCreated):
        return replace(record, name=event.name, intake=event.intake)
    if isinstance(event, OptionSelected):
        return replace(record, selected_design=event.option)
    if event.blob is None:
        return record  # facts only: nothing to show a model
    document = Document(event.gate, event.kind, event.name, event.blob)
    kept = tuple(
        d
        for d in record.documents
        if (d.gate, d.kind, d.name) != (event.gate, event.kind, event.name)
    )
    return replace(record, documents=(*kept, document))


def spend(record: ProjectRecord, usage: Usage) -> ProjectRecord:
    """The record after a model call that used `usage`."""
    return replace(record, usage=record.usage + usage)


def documents_in_view(record: ProjectRecord, gate: Gate) -> tuple[Document, ...]:
    """The documents a role working at `gate` reads, in gate order.

    Those of earlier gates (a gate opens only once the one before is approved)
    and reports of this one, such as the audit the security engineer reviews.
    Of the design options only the selected one is shown.
    """
    order = list(Gate)
    shown = (
        d
        for d in record.documents
        if order.index(d.gate) <= order.index(gate)
        and (d.kind != DESIGN_OPTION or d.name == record.selected_design)
    )
    return tuple(sorted(shown, key=lambda d: order.index(d.gate)))
