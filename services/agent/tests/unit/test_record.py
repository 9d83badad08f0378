"""The project record: remembering is idempotent, newer artifacts replace older, spending adds up."""

from __future__ import annotations

from layercake_agent.core.record import Document, ProjectRecord, remember, spend
from layercake_contracts.events import ArtifactRecorded, IntakeRevised, ProjectCreated
from layercake_contracts.values import Gate, Usage

CREATED = ProjectCreated(project_id="p", name="Socks", intake="Sell socks.", owner="ada")


def prd(blob: str) -> ArtifactRecorded:
    return ArtifactRecorded.follow(CREATED, gate=Gate.G2, kind="prd", name="prd", blob=blob)


def test_the_same_events_remembered_twice_give_the_same_record():
    """A redelivered fact changes nothing."""
    once = remember(remember(ProjectRecord(), CREATED), prd("a" * 64))
    assert remember(remember(once, CREATED), prd("a" * 64)) == once
    assert (once.name, once.intake) == ("Socks", "Sell socks.")


def test_a_newer_artifact_of_the_same_gate_kind_and_name_replaces_the_older():
    """A PRD reworked after a rejection is shown once, in its latest version."""
    record = remember(remember(ProjectRecord(), prd("a" * 64)), prd("b" * 64))
    assert record.documents == (Document(Gate.G2, "prd", "prd", "b" * 64),)


def test_spending_adds_tokens_and_cost():
    """Each model call's usage is added to the project's total."""
    call = Usage(input_tokens=10, output_tokens=5, cache_read_tokens=2, cost_usd=0.25)
    record = spend(spend(ProjectRecord(), call), call)
    assert record.usage == Usage(
        input_tokens=20, output_tokens=10, cache_read_tokens=4, cost_usd=0.5
    )


def test_a_revised_intake_replaces_the_one_the_project_was_created_with():
    """G0 rejected and revised: the agents read the new intake; the name stays."""
    revised = IntakeRevised.follow(CREATED, intake="Sell wool socks.", by="ada", revision=2)
    record = remember(remember(ProjectRecord(), CREATED), revised)
    assert (record.name, record.intake) == ("Socks", "Sell wool socks.")
