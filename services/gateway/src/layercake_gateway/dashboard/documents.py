"""The documents section: the intake, PRD, reviews, OpenAPI document and schema, rendered.

The ledger names each gate's documents (`project.artifacts`, with the blob of
their content); their text is read from the blob store. Markdown is rendered
with raw HTML off, an OpenAPI document becomes a reference, anything else (the
schema SQL) is highlighted. G4's design options are shown by the G4 panel, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from markupsafe import Markup

from layercake_contracts.values import Gate
from layercake_gateway.core.gates import ArtifactKind
from layercake_gateway.dashboard.markup import code, markdown
from layercake_gateway.dashboard.openapi import NotOpenApi, Reference, reference

if TYPE_CHECKING:
    from layercake_gateway.dashboard.source import Source

# Shown elsewhere (G4's options side by side), or not documents at all.
NOT_DOCUMENTS = frozenset({ArtifactKind.DESIGN_OPTION, ArtifactKind.SELECTED_DESIGN})
KIND_TITLES = {
    ArtifactKind.INTAKE: "Intake",
    ArtifactKind.INTAKE_REVIEW: "Intake review",
    ArtifactKind.PRD: "Product requirements",
    ArtifactKind.OPENAPI: "OpenAPI document",
    ArtifactKind.DATA_SCHEMA: "Data schema",
    ArtifactKind.SECURITY_REVIEW: "Security review",
}


@dataclass(frozen=True)
class Document:
    """One document as a section shows it: rendered, a reference, or a sentence saying why not."""

    gate: str
    title: str
    name: str
    html: Markup | None = None
    reference: Reference | None = None
    problem: str = ""  # why it is not shown as it should be (with `html` its source, if any)


async def documents(source: Source) -> dict[str, object]:
    """The template context: every document of the project, gate by gate."""
    project = source.project
    shown = [Document(Gate.G0.value, "Intake", "intake", html=markdown(project.intake))]
    for gate in Gate:
        for artifact in project.artifacts[gate.value]:
            kind, blob = artifact["kind"], artifact.get("blob")
            if kind in NOT_DOCUMENTS or not blob:
                continue
            name = str(artifact["name"])
            title = KIND_TITLES.get(kind, str(kind).replace("_", " ").capitalize())
            text = await source.text(blob)
            shown.append(_document(gate.value, title, name, kind, text))
    return {"documents": shown}


def _document(gate: str, title: str, name: str, kind: str, text: str | None) -> Document:
    if text is None:
        return Document(gate, title, name, problem="its content could not be read")
    if kind == ArtifactKind.OPENAPI:
        try:
            return Document(gate, title, name, reference=reference(text))
        except NotOpenApi as exc:
            problem = f"not a readable OpenAPI document: {exc.reason}"
            return Document(gate, title, name, html=code(text, name), problem=problem)
    if name.lower().endswith((".md", ".markdown")):
        return Document(gate, title, name, html=markdown(text))
    return Document(gate, title, name, html=code(text, name))
