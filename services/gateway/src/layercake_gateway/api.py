"""The gateway's HTTP API (first part): projects and gates over the ledger, with JWT auth.

Every write becomes a ledger decision (announced on the bus by the relay);
every read comes from the ledger. A project belongs to its creator, named in
a namespace of the creator's own (`core/names.py`): another user gets 404 for
it, and creating that name makes them a project of their own. Bad input is a
422 naming the field; a gate rule or a concurrent change is a 409 saying what
was expected.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict, deque
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import structlog
from fastapi import FastAPI, Header, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from nats.js.api import ConsumerConfig, DeliverPolicy
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from pydantic import BaseModel, ConfigDict, Field

from layercake_contracts.bus import subject_filter
from layercake_contracts.events import (
    AgentRequested,
    BuildRequested,
    EventBase,
    FilesWritten,
)
from layercake_contracts.rpc import (
    HISTORY_SUBJECT,
    PARSE_SUBJECT,
    HistoryAnswer,
    HistoryQuestion,
    ParseAnswer,
    ParseQuestion,
    Unanswered,
    ask,
)
from layercake_contracts.values import (
    FileEntry,
    Gate,
    Manifest,
    Role,
    Step,
    project_path_problem,
)
from layercake_gateway import dashboard
from layercake_gateway.core.gates import ArtifactKind
from layercake_gateway.core.names import name_of
from layercake_gateway.core.tokens import DEFAULT_TOKEN_TTL_S
from layercake_gateway.dependencies import Decider, GateName, User, Written, owned_project
from layercake_gateway.guard import DEFAULT_MAX_BODY_BYTES, BodyGuard, create_token, issue_token
from layercake_gateway.responses import (
    BODY_RESPONSES,
    BUS,
    CHANGING,
    DECIDED,
    LIMITED,
    OWNED,
    SERVERS,
    SIGNED_IN,
    as_json,
)
from layercake_gateway.routes import escalations, intake, prompts, release, session
from layercake_gateway.routes.projects import ProjectIntake, new_project

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from nats.js import JetStreamContext

    from layercake_contracts.bus import Bus
    from layercake_gateway.adapters.ledger import Ledger
    from layercake_gateway.core.project import Project

# The tokens are signed in `guard.py`; the CLI and the tests have always signed them here.
__all__ = ["create_api", "create_token", "issue_token", "openapi_document"]
_A = TypeVar("_A", bound=BaseModel)
log = structlog.get_logger(__name__)
QUESTION_TIMEOUT_S = 10.0
# Model-written HTML is hostile: shown in a sandbox, with no scripts and nothing fetched.
DESIGN_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
MAX_FILE_CHARS = 400_000
_MINUTE = 60.0


class Rejection(BaseModel):
    """Why a gate is rejected (or its findings accepted)."""

    model_config = ConfigDict(extra="forbid")

    reason: Written = Field(min_length=1, max_length=10_000)


class AgentRun(BaseModel):
    """Which gate a role agent works at, and what it is told."""

    model_config = ConfigDict(extra="forbid")

    gate: GateName
    instructions: str = Field(default="", max_length=100_000)


class BuildRun(BaseModel):
    """Whose tree to build, and which steps (all by default)."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    gate: GateName
    steps: tuple[Step, ...] = tuple(Step)


class FileWrite(BaseModel):
    """A file a person writes into a role's tree at a gate; it becomes the user's tree."""

    model_config = ConfigDict(extra="forbid")

    gate: GateName
    path: str = Field(min_length=1, max_length=4096)
    content: str = Field(max_length=MAX_FILE_CHARS)
    onto: Role = Field(default=Role.USER, description="whose latest tree the file goes into")


class Commit(BaseModel):
    """Whose tree to commit: it is built and tested, and committed only if it passes."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    gate: GateName


class RateLimiter:
    """At most `per_minute` actions per user in any sliding minute."""

    def __init__(self, per_minute: int) -> None:
        self._per_minute = per_minute
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, user: str) -> bool:
        """Count one action of `user` if it fits; False when it does not."""
        now = time.monotonic()
        seen = self._seen[user]
        while seen and now - seen[0] > _MINUTE:
            seen.popleft()
        if len(seen) >= self._per_minute:
            return False
        seen.append(now)
        return True


class Selection(BaseModel):
    """The G4 design option chosen."""

    model_config = ConfigDict(extra="forbid")

    option: str = Field(min_length=1, max_length=200)


def create_api(  # noqa: C901, PLR0915  # one closure per route
    ledger: Ledger,
    secret: str,
    bus: Bus | None = None,
    runs_per_minute: int = 30,
    relay: Callable[[], Awaitable[object]] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    session_ttl_s: int = DEFAULT_TOKEN_TTL_S,
) -> FastAPI:
    """The HTTP API over `ledger`, tokens checked with `secret`, events to and from `bus`.

    `relay` publishes what a decision announces at once (else the relay's loop does, later).
    A request body is read only from a caller with a valid token, and only up to
    `max_body_bytes` (413 past it). A sign-in link's session lasts `session_ttl_s`.
    """
    api = FastAPI(
        title="LayerCake gateway", version="0.1.0", responses=BODY_RESPONSES, servers=SERVERS
    )

    def revoked(jti: str) -> bool:
        # The ledger is reached only when a token is checked: `openapi_document` has none.
        return ledger.is_revoked(jti)

    api.state.jwt_secret, api.state.revoked = secret, revoked
    api.state.ledger, api.state.bus, api.state.relay = ledger, bus, relay
    api.state.session_ttl_s = session_ttl_s
    # The live event streams, ended by `end_streams` when the server stops.
    streams: set[JetStreamContext.PushSubscription] = set()
    api.state.streams = streams
    routers = (prompts, intake, escalations, release, session)
    for router in (module.router for module in routers):
        api.include_router(router)
    dashboard.mount(api)
    # Added before `count`, so it runs inside it: its refusals are counted too.
    api.add_middleware(BodyGuard, secret=secret, limit=max_body_bytes, revoked=revoked)
    registry = CollectorRegistry()
    requests = Counter(
        "layercake_http_requests", "HTTP requests answered", ["method", "route", "status"],
        registry=registry,
    )  # fmt: skip

    @api.middleware("http")
    async def count(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        requests.labels(request.method, path, str(response.status_code)).inc()
        return response

    async def owned(project_id: str, who: str) -> Project:
        return await owned_project(ledger, project_id, who)

    decide = decider = Decider(ledger, relay)

    @api.post("/projects", status_code=status.HTTP_201_CREATED, responses=CHANGING | DECIDED)
    async def create_project(body: ProjectIntake, who: User) -> dict[str, Any]:
        """Create a project from its intake (G0)."""
        return _summary(await new_project(ledger, decider, who, body))

    @api.get("/projects", responses=SIGNED_IN)
    async def list_projects(who: User) -> list[dict[str, Any]]:
        """The caller's projects."""
        projects = await asyncio.to_thread(ledger.projects)
        return [_summary(p) for p in projects if p.owner == who and name_of(who, p.project_id)]

    @api.get("/projects/{project_id}", responses=SIGNED_IN | OWNED)
    async def get_project(project_id: str, who: User) -> dict[str, Any]:
        """One project: its gates and where it stands."""
        return _summary(await owned(project_id, who))

    @api.get("/projects/{project_id}/gates", responses=SIGNED_IN | OWNED)
    async def list_gates(project_id: str, who: User) -> list[dict[str, Any]]:
        """Each gate's state and the proof it still lacks."""
        project = await owned(project_id, who)
        return [
            {
                "gate": g.value,
                "state": project.state_of(g).value,
                "missing": list(project.missing(g)),
            }
            for g in Gate
        ]

    @api.post("/projects/{project_id}/gates/{gate}/approve", responses=CHANGING | OWNED | DECIDED)
    async def approve(project_id: str, gate: GateName, who: User) -> dict[str, Any]:
        """Approve a gate; the next one opens and its agents are asked to work."""
        project = await decide(project_id, who, lambda p: p.approve(gate, who, announce=True))
        return _summary(project)

    @api.post("/projects/{project_id}/gates/{gate}/reject", responses=CHANGING | OWNED | DECIDED)
    async def reject(project_id: str, gate: GateName, body: Rejection, who: User) -> dict[str, Any]:
        """Reject a gate with a reason; its agents work again with that reason."""
        project = await decide(
            project_id, who, lambda p: p.reject(gate, who, body.reason, announce=True)
        )
        return _summary(project)

    @api.post("/projects/{project_id}/findings/accept", responses=CHANGING | OWNED | DECIDED)
    async def accept_findings(project_id: str, body: Rejection, who: User) -> dict[str, Any]:
        """Accept G7's open findings ("audit unavailable: …", high ones) with a reason."""
        project = await decide(project_id, who, lambda p: p.accept_findings(who, body.reason))
        return _summary(project)

    @api.post("/projects/{project_id}/design", responses=CHANGING | OWNED | DECIDED)
    async def select(project_id: str, body: Selection, who: User) -> dict[str, Any]:
        """Choose one of the G4 design options."""
        project = await decide(
            project_id, who, lambda p: p.select_option(body.option, who, announce=True)
        )
        return _summary(project)

    @api.get(
        "/projects/{project_id}/design/{option}",
        response_class=HTMLResponse,
        responses=as_json(BODY_RESPONSES | SIGNED_IN | OWNED | BUS),
    )
    async def design_option(project_id: str, option: str, who: User) -> HTMLResponse:
        """One G4 design option, as the designer wrote it, to look at (scripts cannot run)."""
        project = await owned(project_id, who)
        found = next(
            (a for a in project.artifacts[Gate.G4.value]
             if a["kind"] == ArtifactKind.DESIGN_OPTION and a["name"] == option and a["blob"]),
            None,
        )  # fmt: skip
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no design option {option!r}")
        page = await (await connected().blobs()).get(found["blob"])
        return HTMLResponse(page, headers={"Content-Security-Policy": DESIGN_POLICY})

    limiter = RateLimiter(runs_per_minute)

    async def send(who: str, event: EventBase) -> dict[str, str]:
        if not limiter.allow(who):
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"at most {runs_per_minute} agent runs and builds a minute per user",
            )
        await connected().publish(event)
        return {"event_id": str(event.event_id), "type": type(event).__name__}

    def connected() -> Bus:
        if bus is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the bus is not connected")
        return bus

    async def question(subject: str, asked: BaseModel, answer: type[_A]) -> _A:
        try:
            return await ask(connected().connection, subject, asked, answer, QUESTION_TIMEOUT_S)
        except Unanswered as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc

    @api.post(
        "/projects/{project_id}/agents/{role}",
        status_code=status.HTTP_202_ACCEPTED,
        responses=CHANGING | OWNED | LIMITED | BUS,
    )
    async def run_agent(project_id: str, role: Role, body: AgentRun, who: User) -> dict[str, str]:
        """Ask a role agent to work at a gate; follow the returned event id."""
        project = await owned(project_id, who)
        request = AgentRequested(project_id=project.project_id, role=role, gate=body.gate,
                                 instructions=body.instructions)  # fmt: skip
        return await send(who, request)

    @api.post(
        "/projects/{project_id}/builds",
        status_code=status.HTTP_202_ACCEPTED,
        responses=CHANGING | OWNED | DECIDED | LIMITED | BUS,
    )
    async def build(project_id: str, body: BuildRun, who: User) -> dict[str, str]:
        """Install, build, test, lint, audit (or a choice of them) on a role's latest tree."""
        return await build_tree(project_id, body.role, body.gate, body.steps, who)

    @api.post(
        "/projects/{project_id}/commits",
        status_code=status.HTTP_202_ACCEPTED,
        responses=CHANGING | OWNED | DECIDED | LIMITED | BUS,
    )
    async def commit(project_id: str, body: Commit, who: User) -> dict[str, str]:
        """Commit a role's latest tree: it is validated first; CommitCreated follows a pass."""
        return await build_tree(project_id, body.role, body.gate, tuple(Step), who)

    async def build_tree(
        project_id: str, role: Role, gate: Gate, steps: tuple[Step, ...], who: str
    ) -> dict[str, str]:
        project = await owned(project_id, who)
        manifest = project.manifests.get(f"{gate.value}/{role.value}")
        if manifest is None:
            detail = {"error": f"{role.value} has no tree at {gate.value} yet",
                      "expected": "a gate and role that produced files"}  # fmt: skip
            raise HTTPException(status.HTTP_409_CONFLICT, detail)
        request = BuildRequested(
            project_id=project.project_id, role=role, gate=gate,
            manifest=Manifest.model_validate(manifest), steps=steps,
        )  # fmt: skip
        return await send(who, request)

    @api.get("/projects/{project_id}/commits", responses=SIGNED_IN | OWNED | BUS)
    async def history(
        project_id: str, who: User, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> HistoryAnswer:
        """The project's commits, newest first, each naming its gate, role and event."""
        project = await owned(project_id, who)
        asked = HistoryQuestion(project_id=project.project_id, limit=limit)
        return await question(HISTORY_SUBJECT, asked, HistoryAnswer)

    @api.post("/parse", responses=CHANGING | BUS)
    async def parse(body: ParseQuestion, who: User) -> ParseAnswer:  # noqa: ARG001  # any user
        """Extract the files a model's answer writes (the parser's core, answered at once)."""
        return await question(PARSE_SUBJECT, body, ParseAnswer)

    @api.post(
        "/projects/{project_id}/files",
        status_code=status.HTTP_202_ACCEPTED,
        responses=CHANGING | OWNED | LIMITED | BUS,
    )
    async def write_file(project_id: str, body: FileWrite, who: User) -> dict[str, str]:
        """Write a file into a role's tree; recorded as the user's FilesWritten, then built."""
        if problem := project_path_problem(body.path):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                [{"loc": ["body", "path"], "msg": f"{body.path!r}: {problem}"}],
            )
        project = await owned(project_id, who)
        base = project.manifests.get(f"{body.gate.value}/{body.onto.value}", {})
        data = body.content.encode()
        digest = await (await connected().blobs()).put(data)
        manifest = Manifest.model_validate(base).updated(
            {body.path: FileEntry(sha256=digest, size=len(data))}
        )
        written = FilesWritten(
            project_id=project.project_id, role=Role.USER, gate=body.gate,
            attempt=project.attempt_of(body.gate, Role.USER) + 1,
            manifest=manifest, changed=(body.path,),
        )  # fmt: skip
        return await send(who, written)

    @api.get("/projects/{project_id}/artifacts", responses=SIGNED_IN | OWNED)
    async def artifacts(project_id: str, who: User) -> dict[str, list[dict[str, Any]]]:
        """The proof artifacts recorded for each gate."""
        return dict((await owned(project_id, who)).artifacts)

    @api.get("/projects/{project_id}/errors", responses=SIGNED_IN | OWNED)
    async def errors(
        project_id: str, who: User, resolved: bool | None = None
    ) -> list[dict[str, Any]]:
        """The error history; `resolved=true|false` filters it."""
        entries = (await owned(project_id, who)).errors
        if resolved is None:
            return list(entries)
        return [e for e in entries if (e["resolved_at"] is not None) is resolved]

    @api.get("/projects/{project_id}/events", responses=SIGNED_IN | OWNED | BUS)
    async def events(
        project_id: str,
        who: User,
        last_event_id: Annotated[int | None, Header(ge=0)] = None,
    ) -> StreamingResponse:
        """The project's events as Server-Sent Events, live; resume with Last-Event-ID."""
        project = await owned(project_id, who)
        jetstream = connected().connection.jetstream
        subject = subject_filter(None, project.project_id)
        start = (
            {"deliver_policy": DeliverPolicy.BY_START_SEQUENCE, "opt_start_seq": last_event_id + 1}
            if last_event_id is not None
            else {"deliver_policy": DeliverPolicy.ALL}
        )
        subscription = await jetstream().subscribe(
            subject, ordered_consumer=True, config=ConsumerConfig(**start)
        )
        streams.add(subscription)
        return StreamingResponse(_sse(subscription, streams), media_type="text/event-stream")

    @api.get("/healthz", responses=BUS)
    async def healthz() -> dict[str, str]:
        """The store and the bus answer (503 naming which does not)."""
        try:
            await asyncio.to_thread(ledger.recorder.max_notification_id)
        except Exception as exc:  # any failure of the store is the answer
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"store: {exc}") from exc
        if bus is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "bus: not connected")
        try:
            await bus.connection.jetstream().account_info()
        except Exception as exc:  # any failure of the bus is the answer
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"bus: {exc}") from exc
        return {"status": "ok", "store": "ok", "bus": "ok"}

    @api.get("/metrics")
    async def metrics() -> Response:
        """Prometheus metrics of this gateway."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return api


def openapi_document() -> str:
    """The API's OpenAPI document, as checked in at `docs/openapi.json`."""
    # Routes reach the ledger only when called: the document needs none.
    api = create_api(cast("Ledger", None), "unused")
    return json.dumps(api.openapi(), indent=2, sort_keys=True) + "\n"


async def end_streams(api: FastAPI) -> None:
    """End every live event stream, as a finished response: a stopping server waits for those.

    uvicorn lets open responses finish before it stops, and a live stream never does.
    """
    streams: set[JetStreamContext.PushSubscription] = api.state.streams
    while streams:
        await streams.pop().unsubscribe()  # which ends its loop in `_sse`


async def _sse(
    subscription: JetStreamContext.PushSubscription,
    streams: set[JetStreamContext.PushSubscription],
) -> AsyncIterator[str]:
    """Each message as an SSE frame whose id is its stream sequence, until it is ended."""
    try:
        async for message in subscription.messages:
            sequence = message.metadata.sequence.stream
            event_type = message.subject.rsplit(".", 1)[-1]
            yield f"id: {sequence}\nevent: {event_type}\ndata: {message.data.decode()}\n\n"
    finally:
        if subscription in streams:  # else `end_streams` has ended it
            streams.discard(subscription)
            await subscription.unsubscribe()


def _summary(project: Project) -> dict[str, Any]:
    return {
        "project_id": name_of(project.owner, project.project_id),
        "bus_id": project.project_id,
        "name": project.name,
        "owner": project.owner,
        "has_ui": project.has_ui,
        "version": project.version,
        "gates": dict(project.gates),
    }


if __name__ == "__main__":
    import sys

    sys.stdout.write(openapi_document())
