"""What each route may answer besides its success, for the OpenAPI document (`responses=`).

Every refusal is FastAPI's `{"detail": ...}`: a sentence, or for a refused
decision an object saying what was expected. The sets below are joined per route
(`SIGNED_IN | OWNED | ...`) after what the route's dependencies and body can raise.
Only metadata: nothing here decides a status.
"""

from __future__ import annotations

from typing import Any

from fastapi import status
from pydantic import BaseModel, Field

Responses = dict[int | str, dict[str, Any]]
_SCHEMAS = "#/components/schemas/"

# Where `layercake up` serves the API (LAYERCAKE_HTTP_HOST and LAYERCAKE_HTTP_PORT move it).
SERVERS = [{"url": "http://127.0.0.1:8080", "description": "`layercake up` on this machine"}]


class Refusal(BaseModel):
    """Why the request was refused, in a sentence."""

    detail: str


class Conflict(BaseModel):
    """A decision the ledger refused, and what it expected instead."""

    error: str = Field(description="what is wrong, in a sentence")
    expected: str | None = Field(default=None, description="what the rule or the state wants")
    state: str | None = Field(default=None, description="the gate's state, for a gate rule")
    missing: list[str] | None = Field(default=None, description="proof still missing")


class Refused(BaseModel):
    """A 409: a sentence, or what the ledger expected."""

    detail: Conflict | str


class TooLarge(BaseModel):
    """A 413: the request body was over the limit (`LAYERCAKE_HTTP_MAX_BODY_BYTES`)."""

    detail: str
    limit_bytes: int


def _refusal(description: str, model: type[BaseModel] = Refusal) -> dict[str, Any]:
    return {"model": model, "description": description}


# Every route: the body guard runs before any route is chosen.
BODY_RESPONSES: Responses = {
    status.HTTP_400_BAD_REQUEST: _refusal("A route that takes a body was sent one not JSON."),
    status.HTTP_413_CONTENT_TOO_LARGE: _refusal(
        "The request body is over the limit; nothing past it was read.", TooLarge
    ),
}
# Every route but /healthz, /metrics and the sign-in link's redeeming.
SIGNED_IN: Responses = {
    status.HTTP_401_UNAUTHORIZED: _refusal(
        "No token, or one expired, revoked, forged or malformed (the detail says which)."
    ),
}
# A state-changing route signed in by cookie, from another origin.
CHANGING: Responses = {
    **SIGNED_IN,
    status.HTTP_403_FORBIDDEN: _refusal("Signed in by cookie from another site."),
}
# A route under /projects/{project_id}: another user's project is never shown.
OWNED: Responses = {
    status.HTTP_404_NOT_FOUND: _refusal("No such project of yours (or no such item in it)."),
}
DECIDED: Responses = {
    status.HTTP_409_CONFLICT: _refusal(
        "The ledger refused it: a gate rule, missing proof, or a change since you read.", Refused
    ),
}
# A route that publishes a run (an agent, a build, a file) for the caller.
LIMITED: Responses = {
    status.HTTP_429_TOO_MANY_REQUESTS: _refusal(
        "Over the caller's agent runs and builds a minute."
    ),
}
BUS: Responses = {
    status.HTTP_503_SERVICE_UNAVAILABLE: _refusal(
        "The bus (or the service a question goes to, or the store) does not answer."
    ),
}


def as_json(responses: Responses) -> Responses:
    """`responses` for a route whose success is not JSON (text, HTML): its refusals still are.

    FastAPI files a `model` under the route's own media type; here each names its
    schema under `application/json` (the JSON routes put the models in the document).
    """
    return {
        code: {
            "description": answer["description"],
            "content": {
                "application/json": {"schema": {"$ref": _SCHEMAS + answer["model"].__name__}}
            },
        }
        for code, answer in responses.items()
    }


# A project's page that is not JSON (a prompt's text, a design's HTML), read from the bus.
SHOWN: Responses = as_json(BODY_RESPONSES | SIGNED_IN | OWNED | BUS)
