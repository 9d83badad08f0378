"""The project record: which documents a gate has, which are carried, and where they go."""

from __future__ import annotations

from layercake_contracts.events import ArtifactRecorded
from layercake_contracts.values import Gate
from layercake_git.core.record import ProjectRecord, document_path

SHA_A, SHA_B = "a" * 64, "b" * 64


def artifact(
    name: str, blob: str | None, kind: str = "prd", gate: Gate = Gate.G2
) -> ArtifactRecorded:
    return ArtifactRecorded(project_id="p", gate=gate, kind=kind, name=name, blob=blob)


def test_documents_are_recorded_per_gate_and_a_rewrite_replaces_the_first():
    """The rewritten PRD replaces the first; reports without a blob and design options are skipped."""
    record = ProjectRecord()
    for event in (
        artifact("PRD", SHA_A),
        artifact("PRD", SHA_B),
        artifact("coverage", None, kind="coverage"),
        artifact("bold", SHA_A, kind="design_option", gate=Gate.G4),
    ):
        record = record.with_artifact(event)
    assert record.documents(Gate.G2) == {"docs/g2/PRD.md": SHA_B}
    assert record.documents(Gate.G4) == {}


def test_approving_carries_the_gates_documents_and_the_record_round_trips():
    """Carried documents survive being written and read back as JSON."""
    record = ProjectRecord().with_artifact(artifact("PRD", SHA_A)).approving(Gate.G2)
    record = record.with_blob_ids({SHA_A: "c" * 40})
    assert record.carried == {"docs/g2/PRD.md": SHA_A}
    assert ProjectRecord.model_validate_json(record.model_dump_json()) == record


def test_document_names_become_safe_file_names():
    """Unsafe characters become '-', leading dots go, a name without a suffix gets .md."""
    assert document_path(Gate.G3, "openapi.yaml") == "docs/g3/openapi.yaml"
    assert document_path(Gate.G4, "Selected design: Calm") == "docs/g4/Selected-design-Calm.md"
    assert document_path(Gate.G1, "../../.git/config") == "docs/g1/git-config.md"
    assert document_path(Gate.G1, "...") == "docs/g1/document.md"
