from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from layercake_contracts.bus import subject_for
from layercake_contracts.errors import NotAProducer
from layercake_contracts.events import (
    EVENT_TYPES,
    BuildFailed,
    ExportRequested,
    GateOpened,
    ProjectCreated,
    parse_event,
)
from layercake_contracts.producers import PRODUCERS, Service
from layercake_contracts.values import Gate


def test_the_samples_cover_every_event_type(every_event):
    """Every event type in the catalogue has a sample, so round-trip tests see them all."""
    assert {e.type for e in every_event} == set(EVENT_TYPES)
    assert len(EVENT_TYPES) >= 22


def test_every_event_round_trips_through_json(every_event):
    """Encoding then parsing through the union gives an equal model of the same class."""
    for event in every_event:
        back = parse_event(event.model_dump_json())
        assert back == event
        assert type(back) is type(event)


def test_events_are_frozen(every_event):
    """An event cannot be changed after it is made."""
    with pytest.raises(ValidationError):
        every_event[0].project_id = "other"  # type: ignore[misc]


def test_follow_carries_project_correlation_and_causation():
    """An event made with follow belongs to its cause's project and run."""
    root = ProjectCreated(project_id="p1", name="n", intake="i", owner="o")
    child = GateOpened.follow(root, gate=Gate.G0)
    assert child.project_id == "p1"
    assert child.correlation_id == root.correlation_id
    assert child.causation_id == root.event_id
    assert child.event_id != root.event_id


def test_occurred_at_is_stored_in_utc():
    """A time given in another zone is kept as the same instant in UTC."""
    local = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    event = GateOpened(project_id="p1", gate=Gate.G0, occurred_at=local)
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert event.occurred_at.hour == 10


def test_naive_time_is_refused():
    """A time without a zone is ambiguous, so it is an error naming the field."""
    with pytest.raises(ValidationError, match="occurred_at"):
        GateOpened(project_id="p1", gate=Gate.G0, occurred_at=datetime(2026, 1, 1))  # noqa: DTZ001


@pytest.mark.parametrize("bad", ["a.b", "a*", ">", "", "x" * 65, "a b"])
def test_project_id_that_would_break_a_subject_is_refused(bad):
    """Dots, wildcards and spaces cannot reach a subject token."""
    with pytest.raises(ValidationError, match="project_id"):
        GateOpened(project_id=bad, gate=Gate.G0)


def test_unknown_type_names_the_discriminator():
    """A message with a type not in the catalogue says which tag was wrong."""
    with pytest.raises(ValidationError, match="Nope"):
        parse_event('{"type": "Nope", "project_id": "p"}')


def test_missing_field_is_named():
    """A missing field appears by name in the error."""
    payload = GateOpened(project_id="p", gate=Gate.G0).model_dump(mode="json")
    del payload["gate"]
    with pytest.raises(ValidationError, match="gate"):
        parse_event(json.dumps(payload))


def test_unknown_field_is_refused():
    """The contract is closed: an extra field is an error, not silently dropped."""
    payload = GateOpened(project_id="p", gate=Gate.G0).model_dump_json()
    with pytest.raises(ValidationError, match="surprise"):
        parse_event(payload[:-1] + ', "surprise": 1}')


def test_subject_names_project_and_type():
    """Events go to lc.evt.<project_id>.<Type>."""
    event = GateOpened(project_id="p-9", gate=Gate.G3, event_id=uuid.uuid4())
    assert subject_for(event) == "lc.evt.p-9.GateOpened"


def test_build_failed_lists_the_diagnostics_of_every_step(every_event):
    """BuildFailed.diagnostics gathers the diagnostics of all its step results."""
    failed = next(e for e in every_event if isinstance(e, BuildFailed))
    assert [d.code for d in failed.diagnostics] == ["TS2307"]


@pytest.mark.parametrize(
    "remote",
    ["https://ada:hunter2@forge.example/calc.git", "ssh://git:pw@forge.example:22/calc.git"],
)
def test_an_export_request_never_holds_a_password(remote):
    """The ledger keeps every event: a URL with a password is refused, naming why."""
    with pytest.raises(ValidationError, match="carries a password"):
        ExportRequested(project_id="calc", remote_url=remote)


@pytest.mark.parametrize(
    "remote",
    ["v1", "https://forge.example:8443/calc.git", "git@forge.example:ada/calc.git",
     "ssh://git@forge.example:22/calc.git"],
)  # fmt: skip
def test_an_export_request_takes_a_release_or_a_url_without_password(remote):
    """A release name, a port, an ssh user: none of them is a password."""
    assert ExportRequested(project_id="calc", remote_url=remote).remote_url == remote


def of_type(events, kind: str):
    """The sample event of type `kind`."""
    return next(e for e in events if e.type == kind)


def test_every_event_type_has_its_producers_in_the_table():
    """The producer table names at least one service for every event type, and no other type."""
    assert set(PRODUCERS) == set(EVENT_TYPES)
    assert all(PRODUCERS[name] for name in EVENT_TYPES)


def test_an_event_recorded_before_schema_version_2_reads_as_from_its_types_usual_producer(
    every_event,
):
    """A version 1 message has no producer: a BuildSucceeded reads as the builder's, a FilesWritten as the parser's."""
    for event, usual in (
        (of_type(every_event, "BuildSucceeded"), Service.BUILDER),
        (of_type(every_event, "FilesWritten"), Service.PARSER),
    ):
        payload = json.loads(event.model_dump_json())
        del payload["producer"]
        payload["schema_version"] = 1
        assert parse_event(json.dumps(payload)).producer is usual


def test_a_current_message_without_a_producer_is_refused_naming_the_field(every_event):
    """From version 2 on the producer is required on the wire: leaving it out is no way to claim the usual one."""
    payload = json.loads(of_type(every_event, "GateApproved").model_dump_json())
    del payload["producer"]
    with pytest.raises(ValidationError, match="producer"):
        parse_event(json.dumps(payload))


def test_an_event_published_by_a_service_that_does_not_produce_it_is_refused(every_event):
    """`published_by` names the producer, and refuses a type the service does not make."""
    approval = of_type(every_event, "GateApproved")
    assert approval.published_by(Service.GATEWAY).producer is Service.GATEWAY
    with pytest.raises(NotAProducer, match="builder does not produce GateApproved"):
        approval.published_by(Service.BUILDER)
