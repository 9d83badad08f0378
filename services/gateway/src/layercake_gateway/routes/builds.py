"""Runs: agents, builds, commits and files a person sets going, and the commits made so far.

Each run is an event published for the caller (`AgentRequested`,
`BuildRequested`, the user's `FilesWritten`), at most the app's runs a minute
per user (429 past it); follow the returned event id. The commit history and
`/parse` are questions to the git service and the parser, answered at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field

from layercake_contracts.events import AgentRequested, BuildRequested, EventBase, FilesWritten
from layercake_contracts.rpc import (
    HISTORY_SUBJECT,
    PARSE_SUBJECT,
    HistoryAnswer,
    HistoryQuestion,
    ParseAnswer,
    ParseQuestion,
)
from layercake_contracts.values import (
    FileEntry,
    Gate,
    Manifest,
    Role,
    Step,
    project_path_problem,
)
from layercake_gateway.dependencies import (  # FastAPI reads the annotations at runtime
    BusDep,
    GateName,
    LedgerDep,
    LimiterDep,
    User,
    owned_project,
    question,
)
from layercake_gateway.responses import BUS, CHANGING, DECIDED, LIMITED, OWNED, SIGNED_IN

if TYPE_CHECKING:
    from layercake_gateway.core.project import Project

router = APIRouter()
MAX_FILE_CHARS = 400_000
_ACCEPTED = status.HTTP_202_ACCEPTED
_RUN = CHANGING | OWNED | LIMITED | BUS
_BUILT = _RUN | DECIDED


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


class Runs:
    """The caller's runs: each counted against the app's limit (429 past it), then published."""

    def __init__(self, who: User, ledger: LedgerDep, bus: BusDep, limiter: LimiterDep) -> None:
        self.who, self.bus = who, bus
        self._ledger, self._limiter = ledger, limiter

    async def project(self, project_id: str) -> Project:
        """The caller's project `project_id` (404 for any other)."""
        return await owned_project(self._ledger, project_id, self.who)

    async def send(self, event: EventBase) -> dict[str, str]:
        """Publish `event` if the caller is within the limit; its id and type, to follow it."""
        if not self._limiter.allow(self.who):
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"at most {self._limiter.per_minute} agent runs and builds a minute per user",
            )
        await self.bus.publish(event)
        return {"event_id": str(event.event_id), "type": type(event).__name__}

    async def build(
        self, project_id: str, role: Role, gate: Gate, steps: tuple[Step, ...]
    ) -> dict[str, str]:
        """Build `role`'s latest tree at `gate`; 409 when it has none yet."""
        project = await self.project(project_id)
        manifest = project.manifests.get(f"{gate.value}/{role.value}")
        if manifest is None:
            detail = {"error": f"{role.value} has no tree at {gate.value} yet",
                      "expected": "a gate and role that produced files"}  # fmt: skip
            raise HTTPException(status.HTTP_409_CONFLICT, detail)
        return await self.send(BuildRequested(
            project_id=project.project_id, role=role, gate=gate,
            manifest=Manifest.model_validate(manifest), steps=steps,
        ))  # fmt: skip


RunsDep = Annotated[Runs, Depends()]


@router.post("/projects/{project_id}/agents/{role}", status_code=_ACCEPTED, responses=_RUN)
async def run_agent(project_id: str, role: Role, body: AgentRun, runs: RunsDep) -> dict[str, str]:
    """Ask a role agent to work at a gate; follow the returned event id."""
    project = await runs.project(project_id)
    request = AgentRequested(project_id=project.project_id, role=role, gate=body.gate,
                             instructions=body.instructions)  # fmt: skip
    return await runs.send(request)


@router.post("/projects/{project_id}/builds", status_code=_ACCEPTED, responses=_BUILT)
async def build(project_id: str, body: BuildRun, runs: RunsDep) -> dict[str, str]:
    """Install, build, test, lint, audit (or a choice of them) on a role's latest tree."""
    return await runs.build(project_id, body.role, body.gate, body.steps)


@router.post("/projects/{project_id}/commits", status_code=_ACCEPTED, responses=_BUILT)
async def commit(project_id: str, body: Commit, runs: RunsDep) -> dict[str, str]:
    """Commit a role's latest tree: it is validated first; CommitCreated follows a pass."""
    return await runs.build(project_id, body.role, body.gate, tuple(Step))


@router.get("/projects/{project_id}/commits", responses=SIGNED_IN | OWNED | BUS)
async def history(
    project_id: str,
    who: User,
    ledger: LedgerDep,
    bus: BusDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> HistoryAnswer:
    """The project's commits, newest first, each naming its gate, role and event."""
    project = await owned_project(ledger, project_id, who)
    asked = HistoryQuestion(project_id=project.project_id, limit=limit)
    return await question(bus, HISTORY_SUBJECT, asked, HistoryAnswer)


@router.post("/parse", responses=CHANGING | BUS)
async def parse(body: ParseQuestion, who: User, bus: BusDep) -> ParseAnswer:  # noqa: ARG001  # any user
    """Extract the files a model's answer writes (the parser's core, answered at once)."""
    return await question(bus, PARSE_SUBJECT, body, ParseAnswer)


@router.post("/projects/{project_id}/files", status_code=_ACCEPTED, responses=_RUN)
async def write_file(project_id: str, body: FileWrite, runs: RunsDep) -> dict[str, str]:
    """Write a file into a role's tree; recorded as the user's FilesWritten, then built."""
    if problem := project_path_problem(body.path):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body", "path"], "msg": f"{body.path!r}: {problem}"}],
        )
    project = await runs.project(project_id)
    base = project.manifests.get(f"{body.gate.value}/{body.onto.value}", {})
    data = body.content.encode()
    digest = await (await runs.bus.blobs()).put(data)
    manifest = Manifest.model_validate(base).updated(
        {body.path: FileEntry(sha256=digest, size=len(data))}
    )
    return await runs.send(FilesWritten(
        project_id=project.project_id, role=Role.USER, gate=body.gate,
        attempt=project.attempt_of(body.gate, Role.USER) + 1,
        manifest=manifest, changed=(body.path,),
    ))  # fmt: skip
