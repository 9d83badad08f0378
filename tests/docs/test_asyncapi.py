from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from layercake.asyncapi import load_services, refs, render, resolve
from layercake_contracts.events import EVENT_TYPES
from layercake_contracts.producers import PRODUCERS
from layercake_contracts.rpc import RPC_ROOT

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
