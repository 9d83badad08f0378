"""The AsyncAPI document of the whole bus, assembled from the five services' own brokers.

`python -m layercake.asyncapi` prints it; `docs/asyncapi.json` is that output, and a
test fails when the two differ. FastStream describes what each broker subscribes to;
this module adds what a broker cannot tell: which service owns a channel, one message
per event type, what each service publishes (read from the code that makes the
events) and the questions and answers of `lc.rpc`. It builds each runtime and never
starts one: nothing here connects to NATS.
"""

from __future__ import annotations

import ast
import inspect
import json
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args
from urllib.parse import quote, unquote

import structlog
from faststream.specification import AsyncAPI

from layercake_agent import app as agent_app
from layercake_agent import handlers as agent_handlers
from layercake_agent.adapters.manual import ManualDesk
from layercake_agent.service import AgentService
from layercake_agent.settings import Settings as AgentSettings
from layercake_builder import app as builder_app
from layercake_builder import handlers as builder_handlers
from layercake_builder.core import outcome
from layercake_builder.settings import Settings as BuilderSettings
from layercake_contracts.bus import MSG_ID_HEADER, STREAM_NAME, SUBJECT_ROOT
from layercake_contracts.events import EVENT_TYPES, PROJECT_ID_PATTERN
from layercake_contracts.producers import PRODUCERS
from layercake_contracts.rpc import (
    HISTORY_SUBJECT,
    PARSE_SUBJECT,
    RPC_ROOT,
    HistoryAnswer,
    HistoryQuestion,
    ParseAnswer,
    ParseQuestion,
)
from layercake_contracts.runtime import ServiceRuntime
from layercake_gateway import app as gateway_app
from layercake_gateway import handlers as gateway_handlers
from layercake_gateway.core import outbox
from layercake_gateway.routes import builds as build_routes
from layercake_gateway.routes import prompts as prompt_routes
from layercake_gateway.settings import Settings as GatewaySettings
from layercake_git import app as git_app
from layercake_git import handlers as git_handlers
from layercake_git.service import GitService
from layercake_git.settings import Settings as GitSettings
from layercake_parser import app as parser_app
from layercake_parser import handlers as parser_handlers
from layercake_parser.service import parse_generated
from layercake_parser.settings import Settings as ParserSettings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from types import ModuleType

    from pydantic import BaseModel
    from pydantic.json_schema import JsonSchemaMode

Json = dict[str, Any]
SCHEMAS = "#/components/schemas/"
# What `answer_questions` is given (the question) and `ask` expects back (the answer).
QUESTIONS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
    PARSE_SUBJECT: (ParseQuestion, ParseAnswer),
    HISTORY_SUBJECT: (HistoryQuestion, HistoryAnswer),
}
ABOUT = f"""Every event of LayerCake, on NATS JetStream.

An event is published on `{SUBJECT_ROOT}.<project_id>.<Type>` with the header \
`{MSG_ID_HEADER}` set to its `event_id` (the other headers sent are listed with each \
message), and kept in the stream `{STREAM_NAME}` (`{SUBJECT_ROOT}.>`). Each service \
reads through durable pull consumers; the tags name the service that subscribes or \
publishes. A consumer acks and ignores an event whose `type` is not in this catalogue \
(a later version's) when its envelope is valid; a message that does not validate is \
answered with `ProcessingFailed`. Questions answered at once (no stream) are on \
`{RPC_ROOT}.<service>.<operation>`."""


class DocumentError(Exception):
    """The services' descriptions do not fit into one document."""


class Clash(DocumentError):
    """Two parts describe the same name differently."""

    def __init__(self, section: str, key: str) -> None:
        super().__init__(f"{section} {key!r} is described twice, differently")
        self.section, self.key = section, key


class UnknownQuestion(DocumentError):
    """A service answers questions on a subject whose question and answer are not known here."""

    def __init__(self, subject: str) -> None:
        super().__init__(f"no question and answer are known for {subject}: add it to QUESTIONS")
        self.subject = subject


class NoEventFound(DocumentError):
    """The code said to make a service's events names none."""

    def __init__(self, where: str) -> None:
        super().__init__(f"{where} names no event type")
        self.where = where


@dataclass(frozen=True)
class Service:
    """One service as the document shows it."""

    name: str
    runtime: ServiceRuntime
    about: str
    publishes: frozenset[str]


def load_services(root: Path) -> list[Service]:
    """Every service built from its defaults, its files (folders, a ledger) under `root`.

    `model_construct` takes each default as written, so the environment and a `.env`
    file cannot change the document; the builder's sandbox is not probed.
    """
    built = (
        (parser_handlers, parser_app.create_runtime(ParserSettings.model_construct())),
        (
            builder_handlers,
            builder_app.create_runtime(
                BuilderSettings.model_construct(sandbox="none", builder_root=root / "builder")
            ),
        ),
        (
            agent_handlers,
            agent_app.create_runtime(AgentSettings.model_construct(agent_root=root / "agent")),
        ),
        (
            git_handlers,
            git_app.create_runtime(GitSettings.model_construct(workspaces_root=root / "git")),
        ),
        (
            gateway_handlers,
            gateway_app.create_runtime(
                GatewaySettings.model_construct(ledger_url=f"sqlite:///{root / 'ledger.db'}")
            ),
        ),
    )
    made, dead_letters = publishes(), constructed(ServiceRuntime.dead_letter)
    return [
        Service(r.service, r, _first_line(edge), made[r.service] | dead_letters)
        for edge, r in built
    ]


def publishes() -> dict[str, frozenset[str]]:
    """The event types each service's handlers publish, read from the code that makes them.

    Where a function's return type names its events, that; the gateway's outbox and
    HTTP API build events in lists typed `EventBase`, so the classes they call.
    Dead letters (`ProcessingFailed`) are every runtime's and added by the caller.
    """
    return {
        parser_app.SERVICE: returned(parse_generated),
        builder_app.SERVICE: returned(outcome.started, outcome.finished),
        agent_app.SERVICE: returned(AgentService.answer, ManualDesk.request),
        git_app.SERVICE: returned(GitService.commit_build, GitService.approve, GitService.export),
        gateway_app.SERVICE: constructed(outbox, build_routes, prompt_routes),
    }


def returned(*functions: Callable[..., object]) -> frozenset[str]:
    """The event types named in the return types of `functions`."""
    found: set[str] = set()
    for function in functions:
        names = _event_names(inspect.signature(function).return_annotation)
        if not names:
            raise NoEventFound(function.__qualname__)
        found |= names
    return frozenset(found)


def _event_names(annotation: object) -> set[str]:
    if isinstance(annotation, str):  # postponed: read the expression, resolve nothing
        tree = ast.parse(annotation, mode="eval")
        return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} & set(EVENT_TYPES)
    if isinstance(annotation, type):
        name = annotation.__name__
        return {name} if EVENT_TYPES.get(name) is annotation else set()
    return set().union(*(_event_names(arg) for arg in get_args(annotation)))


def constructed(*places: ModuleType | Callable[..., object]) -> frozenset[str]:
    """The event types whose model `places` call (`Event(...)` or `Event.follow(...)`)."""
    found: set[str] = set()
    for place in places:
        tree = ast.parse(textwrap.dedent(inspect.getsource(place)))
        calls = {_called(node) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        events = calls & set(EVENT_TYPES)
        if not events:
            raise NoEventFound(place.__name__)
        found |= events
    return frozenset(found)


def _called(call: ast.Call) -> str:
    """The name a call is made on: `X` of `X(...)` and `X.follow(...)`, else ""."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "follow":
        func = func.value
    return func.id if isinstance(func, ast.Name) else ""


def _first_line(documented: object) -> str:
    return (inspect.getdoc(documented) or "").splitlines()[0]


def build_document(services: Sequence[Service]) -> Json:
    """One AsyncAPI 3 document: every service's part, then the event catalogue."""
    doc: Json = {
        "info": {
            "title": "LayerCake bus",
            "version": version("layercake-contracts"),
            "description": ABOUT,
            "tags": [{"name": s.name, "description": s.about} for s in services],
        },
        "servers": {},
        "channels": {},
        "operations": {},
        "components": {"messages": {}, "schemas": {}},
    }
    for service in services:
        part = AsyncAPI(service.runtime.broker).to_specification().to_jsonable()
        _tag(part, service.name)
        _describe_questions(part)
        _merge(doc, part)
    _add_events(doc, services)
    _add_security(doc)
    return doc


SECURITY = """Every connection signs in with an NATS nkey (an Ed25519 key pair: the \
server sends a nonce, the client signs it); a client without one is refused. \
`layercake up` issues one per service (`.layercake/creds/<service>.nk`, mode 0600; \
`layercake creds init` for a cluster) and the server holds each to its part: it \
publishes only the event types it produces (the operations tagged with it) and \
`ProcessingFailed`, creates and reads only its own durable consumers, answers only \
its own `lc.rpc.<service>.*` (only the gateway asks), and writes blobs only if it \
makes them. No one but the admin reads the stream message by message.

Outside systems get read-only credentials: `layercake creds create NAME --read-only \
[--project P]` prints the path of a file that holds the nkey seed alone (`SU…`). \
They may read the account's and the stream's info, create, read and ack one durable \
consumer, named NAME, on the stream `LC_EVENTS` with exactly the filter `lc.evt.>` \
(or `lc.evt.P.>`), or subscribe to those subjects live, with the inbox prefix \
`_INBOX_<NAME>`; any other publish, an event above all, is refused. Each payload \
validates against the JSON Schema (2020-12) named for its `type` in \
`contracts/schemas/`. A system that acts does it through the HTTP API, as a user."""


def _add_security(doc: Json) -> None:
    """The nkey sign-in every server requires, and what each kind of user may do."""
    doc["components"]["securitySchemes"] = {
        "nkey": {"type": "asymmetricEncryption", "description": SECURITY}
    }
    for server in doc["servers"].values():
        server["security"] = [{"$ref": _pointer("components", "securitySchemes", "nkey")}]


def _tag(part: Json, service: str) -> None:
    for channel in part["channels"].values():
        channel["tags"] = [{"name": service}]
        said = channel.get("description")
        channel["description"] = f"The {service} service subscribes." + (f" {said}" if said else "")
    for operation in part["operations"].values():
        operation["tags"] = [{"name": service}]


def _describe_questions(part: Json) -> None:
    """Give each `lc.rpc` channel its question, and its operation the reply."""
    for channel in list(part["channels"].values()):
        subject = channel["address"]
        if not subject.startswith(f"{RPC_ROOT}."):
            continue
        if subject not in QUESTIONS:
            raise UnknownQuestion(subject)
        question, answer = QUESTIONS[subject]
        _add_model(part, question)
        _add_model(part, answer)
        for message_ref in channel["messages"].values():
            message = resolve(part, message_ref["$ref"])
            old = message["payload"]["$ref"]
            message["payload"] = {"$ref": SCHEMAS + question.__name__}
            _drop_if_unused(part, old)
        reply = f"{subject}.reply"
        _put(part["components"], "schemas", reply, _reply_schema(answer))
        _put(
            part["components"],
            "messages",
            reply,
            {"name": reply, "payload": {"$ref": SCHEMAS + reply}},
        )
        _put(part, "channels", reply, _reply_channel(subject, reply, channel))
        for operation in part["operations"].values():
            if resolve(part, operation["channel"]["$ref"]) is channel:
                operation["reply"] = {
                    "channel": {"$ref": _pointer("channels", reply)},
                    "messages": [{"$ref": _pointer("channels", reply, "messages", "Reply")}],
                }


def _reply_channel(subject: str, reply: str, asked: Json) -> Json:
    return {
        "address": None,  # the asker's inbox, a new one per question
        "description": f"The answer to a question on {subject}, sent to its reply subject.",
        "messages": {"Reply": {"$ref": _pointer("components", "messages", reply)}},
        "servers": asked.get("servers", []),
        "tags": asked["tags"],
    }


def _reply_schema(answer: type[BaseModel]) -> Json:
    return {
        "title": f"{answer.__name__}Reply",
        "description": "The answer, or what was wrong with the question.",
        "oneOf": [
            _only("answer", {"$ref": SCHEMAS + answer.__name__}),
            _only("error", {"type": "string", "description": "The field and its problem."}),
        ],
    }


def _only(field: str, schema: Json) -> Json:
    return {
        "type": "object",
        "properties": {field: schema},
        "required": [field],
        "additionalProperties": False,
    }


def _add_events(doc: Json, services: Sequence[Service]) -> None:
    """A message and a channel per event type; an operation per service that publishes it."""
    servers = [{"$ref": _pointer("servers", name)} for name in sorted(doc["servers"])]
    _add_sent_schemas(doc)
    for name, model in sorted(EVENT_TYPES.items()):
        summary = _first_line(model)
        by = [s.name for s in services if name in s.publishes]
        _put(doc["components"], "messages", name, _event_message(name, summary))
        _put(doc, "channels", name, {
            "address": f"{SUBJECT_ROOT}.{{project_id}}.{name}",
            "title": name,
            "description": f"{summary} Published by: {_producers(name, by)}.",
            "parameters": {"project_id": {"description": f"The project: {PROJECT_ID_PATTERN}"}},
            "messages": {name: {"$ref": _pointer("components", "messages", name)}},
            "servers": servers,
            "x-producers": by,
        })  # fmt: skip
        for service in by:
            _put(doc, "operations", f"{service}.publish.{name}", {
                "action": "send",
                "channel": {"$ref": _pointer("channels", name)},
                "messages": [{"$ref": _pointer("channels", name, "messages", name)}],
                "tags": [{"name": service}],
            })  # fmt: skip


# Every header `Bus.publish` sends (a test reads them off a real publish).
HEADERS: Json = {
    MSG_ID_HEADER: {
        "type": "string",
        "format": "uuid",
        "description": "The event_id: a retried publish is stored once.",
    },
    "Nats-Expected-Stream": {
        "type": "string",
        "const": STREAM_NAME,
        "description": "The server refuses the publish unless this stream takes it.",
    },
    "content-type": {
        "type": "string",
        "const": "",
        "description": "Sent empty: the body is given as bytes. It is always the event as JSON.",
    },
    "correlation_id": {
        "type": "string",
        "format": "uuid",
        "description": "FastStream's id of this one publish, new each time. Not the event's "
        "`correlation_id`: that is the payload's, and the one to follow a run by.",
    },
}


def _producers(name: str, by: Sequence[str]) -> str:
    """Who publishes `name`, as the code does; for one no code makes, who may."""
    if by:
        return ", ".join(by)
    allowed = ", ".join(PRODUCERS[name])
    return f"no service yet: none makes one today, though the bus would take one from {allowed}"


def _event_message(name: str, summary: str) -> Json:
    return {
        "name": name,
        "title": name,
        "summary": summary,
        "contentType": "application/json",
        "correlationId": {"location": "$message.payload#/correlation_id"},
        "headers": {"type": "object", "properties": HEADERS, "required": sorted(HEADERS)},
        "payload": {"$ref": SCHEMAS + name},
    }


def _add_sent_schemas(doc: Json) -> None:
    """Every event's schema as it is sent, in place of the ones FastStream gave its subscribers.

    FastStream describes what a handler accepts, defaults and all. What a consumer
    receives is a published event, which carries every field: the envelope's and
    the event's own are all `required` here.
    """
    sent: Json = {"components": {"schemas": {}}}
    for model in EVENT_TYPES.values():
        _add_model(sent, model, mode="serialization")
    doc["components"]["schemas"].update(sent["components"]["schemas"])


def _add_model(doc: Json, model: type[BaseModel], mode: JsonSchemaMode = "validation") -> None:
    """Put `model`'s JSON Schema (and the ones it refers to) among the schemas."""
    schema = model.model_json_schema(ref_template=SCHEMAS + "{model}", mode=mode)
    found = {**schema.pop("$defs", {}), model.__name__: schema}
    for name, each in found.items():
        _put(doc["components"], "schemas", name, each)


def _merge(doc: Json, part: Json) -> None:
    for section in ("servers", "channels", "operations"):
        for key, value in part[section].items():
            _put(doc, section, key, value)
    for section in ("messages", "schemas"):
        for key, value in part["components"].get(section, {}).items():
            _put(doc["components"], section, key, value)
    for key in ("asyncapi", "defaultContentType"):
        if doc.setdefault(key, part[key]) != part[key]:
            raise Clash("document", key)


def _put(owner: Json, section: str, key: str, value: Any) -> None:  # noqa: ANN401  # JSON
    found = owner[section].setdefault(key, value)
    if found != value:
        raise Clash(section, key)


def _pointer(*parts: str) -> str:
    """A JSON pointer into the document, escaped as FastStream escapes its own."""
    return "#/" + "/".join(
        quote(p.replace("~", "~0").replace("/", "~1"), safe="~:._-") for p in parts
    )


def resolve(doc: Json, pointer: str) -> Any:  # noqa: ANN401  # JSON
    """What a `$ref` of the document points at (KeyError when nothing)."""
    found: Any = doc
    for part in pointer.removeprefix("#/").split("/"):
        found = found[unquote(part).replace("~1", "/").replace("~0", "~")]
    return found


def refs(node: Any) -> Iterator[str]:  # noqa: ANN401  # JSON
    """Every `$ref` in `node`, depth first."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def _drop_if_unused(doc: Json, pointer: str) -> None:
    if pointer not in refs(doc):
        del doc["components"]["schemas"][pointer.removeprefix(SCHEMAS)]


def render() -> str:
    """The document as `docs/asyncapi.json` holds it: sorted keys, two-space indent."""
    with tempfile.TemporaryDirectory() as root:
        document = build_document(load_services(Path(root)))
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> None:
    """Print the document; logs (the builder's sandbox warning) go to stderr."""
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
