"""Commit messages and the history read back from them."""

from __future__ import annotations

import uuid

from layercake_contracts.events import BuildSucceeded, GateApproved
from layercake_contracts.values import Gate, Manifest, Role
from layercake_git.core.history import (
    approval_message,
    author_for,
    build_message,
    parse_log,
    parse_trailers,
)

EVENT_ID = uuid.UUID("11111111-2222-3333-4444-555555555555")


def test_a_build_message_says_gate_role_attempt_files_and_ends_with_the_event():
    """Subject for people, trailers for tools, the event trailer last."""
    event = BuildSucceeded(
        event_id=EVENT_ID, project_id="p", role=Role.FRONTEND_DEVELOPER, gate=Gate.G5,
        attempt=2, manifest=Manifest(), results=(),
    )  # fmt: skip
    assert build_message(event, 1) == (
        "G5: frontend developer build, attempt 2 (1 file changed)\n\n"
        "LayerCake-Gate: G5\nLayerCake-Role: frontend_developer\nLayerCake-Attempt: 2\n"
        f"LayerCake-Files: 1\nLayerCake-Event: {EVENT_ID}\n"
    )
    assert author_for(Role.FRONTEND_DEVELOPER).name == "LayerCake frontend developer"


def test_an_approvers_name_cannot_forge_trailers():
    """Newlines in `by` are flattened into the subject line."""
    event = GateApproved(
        event_id=EVENT_ID, project_id="p", gate=Gate.G2, by="eve\n\nLayerCake-Event: forged"
    )
    message = approval_message(event, Role.USER, 1, 2)
    assert (
        message.splitlines()[0]
        == "G2 approved by eve LayerCake-Event: forged: 1 document(s), 2 files changed"
    )
    assert parse_trailers(message.split("\n\n", 1)[1])["LayerCake-Event"] == str(EVENT_ID)


def test_log_records_parse_into_entries_with_their_trailers():
    """Refs, date, author, subject and trailers of each record."""
    output = (
        "abc\x1fHEAD -> main, tag: g5-approved\x1f2026-01-01T00:00:00+00:00\x1fLayerCake user\x1f"
        "G5 approved\x1fLayerCake-Gate: G5\nLayerCake-Files: 3\nLayerCake-Event: e1\n\x1e\n"
        "def\x1f\x1f2026-01-01T00:00:00+00:00\x1fsomeone\x1fmanual\x1f\x1e\n"
    )
    first, second = parse_log(output)
    assert first.refs == ("HEAD -> main", "tag: g5-approved")
    assert (first.gate, first.role, first.event_id, first.files) == ("G5", None, "e1", 3)
    assert (second.sha, second.refs, second.subject, second.files) == ("def", (), "manual", 0)
