from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from layercake.asyncapi import load_services, refs, render, resolve
from layercake_contracts.events import EVENT_TYPES, EventBase, GateOpened
from layercake_contracts.producers import PRODUCERS
from layercake_contracts.rpc import RPC_ROOT
from layercake_contracts.values import Gate

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "asyncapi.json"
REGENERATE = "uv run --frozen python -m layercake.asyncapi > docs/asyncapi.json"


@pytest.fixture(scope="module")
def rendered() -> str:
    return render()


@pytest.fixture(scope="module")
def document(rendered: str) -> dict:
    return json.loads(rendered)


@pytest.fixture(scope="module")
def subscriptions() -> dict[str, set[str]]:
    """Each service's subscriber subjects, as its own runtime declares them."""
    with tempfile.TemporaryDirectory() as root:
        return {
            service.name: {sub.subject.broker_address for sub in service.runtime.broker.subscribers}
            for service in load_services(Path(root))
        }


def test_checked_in_document_is_what_the_code_generates(rendered):
    """docs/asyncapi.json matches the services' brokers and the event models."""
    assert DOCUMENT.read_text(encoding="utf-8") == rendered, (
        f"docs/asyncapi.json is stale; regenerate it with `{REGENERATE}`"
    )


def test_every_event_type_is_a_message_with_its_model_as_payload(document):
    """Each event in the catalogue has a message whose payload is that event's JSON Schema."""
    messages = document["components"]["messages"]
    missing = sorted(set(EVENT_TYPES) - set(messages))
    assert not missing, f"event types without a message: {missing}"
    for name, model in EVENT_TYPES.items():
        payload = resolve(document, messages[name]["payload"]["$ref"])
        assert payload["properties"]["type"]["const"] == name
        assert set(payload["properties"]) == set(model.model_fields), name


def test_every_service_of_the_workspace_is_described(document, subscriptions):
    """The document is built from every folder under services/, each a tag."""
    folders = {p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists()}
    assert set(subscriptions) == folders
    assert {tag["name"] for tag in document["info"]["tags"]} == folders


def test_every_subscriber_subject_is_a_channel_of_its_service(document, subscriptions):
    """Each subject a service's runtime subscribes to is a channel tagged with that service."""
    channels = {
        (channel["address"], tag["name"])
        for channel in document["channels"].values()
        for tag in channel.get("tags", [])
    }
    absent = sorted(
        (subject, service)
        for service, subjects in subscriptions.items()
        for subject in subjects
        if (subject, service) not in channels
    )
    assert not absent, f"subscriptions missing from the document: {absent}"


def test_every_question_has_its_model_and_a_reply(document):
    """An lc.rpc channel carries the question's schema, and its operation says what comes back."""
    questions = {
        key: channel
        for key, channel in document["channels"].items()
        if (channel["address"] or "").startswith(f"{RPC_ROOT}.")
    }
    assert questions, "no lc.rpc channel in the document"
    for channel in questions.values():
        for message in channel["messages"].values():
            payload = resolve(document, resolve(document, message["$ref"])["payload"]["$ref"])
            assert payload.get("properties"), f"{channel['address']}: empty question"
    replied = {
        resolve(document, op["channel"]["$ref"])["address"]
        for op in document["operations"].values()
        if "reply" in op
    }
    assert replied == {channel["address"] for channel in questions.values()}


def test_every_reference_points_into_the_document(document):
    """No `$ref` dangles, so a reader or a code generator can follow each one."""
    dangling = []
    for pointer in set(refs(document)):
        try:
            resolve(document, pointer)
        except KeyError:
            dangling.append(pointer)
    assert not dangling, f"dangling references: {sorted(dangling)}"


def test_each_service_publishes_as_itself_only_what_the_producer_table_gives_it():
    """The events each service's code makes are its own in contracts' table, and its bus names it as their producer."""
    with tempfile.TemporaryDirectory() as root:
        services = load_services(Path(root))
    for service in services:
        assert service.runtime.bus.producer == service.name
        outside = {name for name in service.publishes if service.name not in PRODUCERS[name]}
        assert not outside, f"{service.name} publishes {outside}, which the table gives others"


def test_every_event_message_requires_the_envelope_fields(document):
    """A published event carries its whole envelope, so each event's schema lists every envelope field as required."""
    envelope = set(EventBase.model_fields)
    for name in EVENT_TYPES:
        payload = resolve(document, document["components"]["messages"][name]["payload"]["$ref"])
        missing = envelope - set(payload["required"])
        assert not missing, f"{name} does not require {sorted(missing)}"


def test_an_event_no_service_makes_says_so(document):
    """A channel of an event no code publishes names no producer and says none makes one (ArtifactRecorded today)."""
    unmade = {
        name: channel
        for name, channel in document["channels"].items()
        if name in EVENT_TYPES and not channel["x-producers"]
    }
    assert "ArtifactRecorded" in unmade
    for name, channel in unmade.items():
        assert "no service yet" in channel["description"], name
        assert not [op for op in document["operations"] if op.endswith(f".publish.{name}")]


@pytest.mark.nats
async def test_every_header_a_publish_sends_is_documented(bus, document):
    """The headers of an event published through the bus are exactly the ones each event message documents, and all are required."""
    event = GateOpened(project_id="wire", gate=Gate.G1)
    await bus.publish(event)
    stored = await bus.connection.jetstream().get_last_msg("LC_EVENTS", "lc.evt.wire.GateOpened")
    sent = stored.headers or {}
    for name in EVENT_TYPES:
        headers = document["components"]["messages"][name]["headers"]
        assert set(headers["properties"]) == set(sent), name
        assert set(headers["required"]) == set(sent), name
    assert sent["Nats-Msg-Id"] == str(event.event_id)
    assert sent["Nats-Expected-Stream"] == headers["properties"]["Nats-Expected-Stream"]["const"]
    assert sent["content-type"] == headers["properties"]["content-type"]["const"]


def test_each_event_names_as_producers_every_service_the_table_allows_that_makes_one(document):
    """The producers a channel names are contracts' table for its type, but for a type no code makes yet."""
    differ = {
        name: (channel["x-producers"], list(PRODUCERS[name]))
        for name, channel in document["channels"].items()
        if name in EVENT_TYPES and set(channel["x-producers"]) != set(PRODUCERS[name])
    }
    assert differ == {"ArtifactRecorded": ([], ["gateway"])}
