"""An OpenAPI document (YAML or JSON, as the architect wrote it) as a reference to browse.

Pure: text in, values out. Every string in the result is the model's and is
escaped by the template, but descriptions, which OpenAPI writes in CommonMark,
are rendered as Markdown (raw HTML off); schemas are shown as indented JSON. A document that
does not parse, or is not an OpenAPI object, is `NotOpenApi` naming why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints; safe_load is Any
from markupsafe import Markup

from layercake_gateway.dashboard.markup import MAX_TEXT_CHARS, markdown

# YAML aliases nest a small text into a huge tree: a schema is shown up to this many characters.
MAX_SCHEMA_CHARS = 20_000
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class NotOpenApi(Exception):
    """The text is not an OpenAPI document: `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Parameter:
    """One parameter of an operation."""

    name: str
    where: str
    required: bool
    description: str
    schema: str


@dataclass(frozen=True)
class Body:
    """A request body or a response: its description and a schema per media type."""

    label: str  # "request body", or the status code
    description: str
    content: tuple[tuple[str, str], ...]  # (media type, schema as JSON)


@dataclass(frozen=True)
class Operation:
    """One path and method."""

    method: str
    path: str
    summary: str
    description: Markup
    parameters: tuple[Parameter, ...]
    request: Body | None
    responses: tuple[Body, ...]


@dataclass(frozen=True)
class Reference:
    """What a reader browses: the title, the operations, the named schemas."""

    title: str
    version: str
    description: Markup
    operations: tuple[Operation, ...]
    schemas: tuple[tuple[str, str], ...]  # (name, schema as JSON)


def reference(text: str) -> Reference:
    """The reference of an OpenAPI document; `NotOpenApi` naming what is wrong."""
    if len(text) > MAX_TEXT_CHARS:
        raise NotOpenApi(f"it is over {MAX_TEXT_CHARS} characters, too long to browse")
    try:
        document = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as exc:
        raise NotOpenApi(f"it does not parse as YAML or JSON: {exc}") from exc
    if not isinstance(document, dict) or not ("openapi" in document or "swagger" in document):
        raise NotOpenApi("it has no `openapi` field at its top")
    info = _mapping(document.get("info"))
    paths = _mapping(document.get("paths"))
    operations = tuple(
        _operation(path, method, _mapping(item.get(method)), _list(item.get("parameters")))
        for path, item in ((str(p), _mapping(i)) for p, i in paths.items())
        for method in METHODS
        if method in item
    )
    schemas = _mapping(_mapping(document.get("components")).get("schemas"))
    return Reference(
        title=_text(info.get("title")) or "untitled",
        version=_text(info.get("version")),
        description=markdown(_text(info.get("description"))),
        operations=operations,
        schemas=tuple((str(name), _json(schema)) for name, schema in schemas.items()),
    )


def _operation(path: str, method: str, operation: dict[str, Any], shared: list[Any]) -> Operation:
    parameters = tuple(
        Parameter(
            name=_text(p.get("name")),
            where=_text(p.get("in")),
            required=bool(p.get("required", False)),
            description=_text(p.get("description")),
            schema=_json(p["schema"]) if "schema" in p else "",
        )
        for p in (_mapping(raw) for raw in [*shared, *_list(operation.get("parameters"))])
    )
    request = (
        _body("request body", _mapping(operation["requestBody"]))
        if "requestBody" in operation
        else None
    )
    responses = tuple(
        _body(str(code), _mapping(answer))
        for code, answer in _mapping(operation.get("responses")).items()
    )
    return Operation(
        method=method.upper(), path=path, summary=_text(operation.get("summary")),
        description=markdown(_text(operation.get("description"))), parameters=parameters,
        request=request, responses=responses,
    )  # fmt: skip


def _body(label: str, body: dict[str, Any]) -> Body:
    content = tuple(
        (str(media), _json(_mapping(spec).get("schema", {})))
        for media, spec in _mapping(body.get("content")).items()
    )
    if "$ref" in body:
        content = (*content, ("$ref", _text(body["$ref"])))
    return Body(label=label, description=_text(body.get("description")), content=content)


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _json(value: object) -> str:
    """`value` as indented JSON, cut at MAX_SCHEMA_CHARS (encoded lazily: it may be huge)."""
    encoder = json.JSONEncoder(indent=2, ensure_ascii=False, default=str, check_circular=False)
    parts, size = [], 0
    for chunk in encoder.iterencode(value):
        parts.append(chunk)
        size += len(chunk)
        if size > MAX_SCHEMA_CHARS:
            return "".join(parts)[:MAX_SCHEMA_CHARS] + "\n… (the rest of this schema is not shown)"
    return "".join(parts)
