"""The event catalogue: one frozen model per event and the union of all of them.

An event is a fact, named in the past tense. Every event carries the envelope
(`EventBase`); `follow` builds an event caused by another, so correlation and
causation are never set by hand. The envelope's `producer` is stamped by the
bus that publishes it (`published_by`). Nothing here does I/O.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self, TypeAlias

from pydantic import (
    AwareDatetime,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from layercake_contracts.errors import NotAProducer
from layercake_contracts.producers import Service, producer_problem, usual_producer
from layercake_contracts.values import (
    Diagnostic,
    EarlierAttempt,
    EscalationKind,
    Frozen,
    Gate,
    InfrastructureFault,
    Manifest,
    RejectedPath,
    RemoteUrl,
    Role,
    Sha256,
    Step,
    StepResult,
    Usage,
)

# 2: the envelope names its `producer`.
SCHEMA_VERSION = 2
PRODUCER_SINCE = 2
# The validation context of a message read from the bus (see `parse_event`).
WIRE = "wire"

# A project id is one token of a NATS subject: no dots, wildcards or spaces.
PROJECT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
ProjectId = Annotated[str, Field(pattern=PROJECT_ID_PATTERN)]


def _now() -> datetime:
    return datetime.now(UTC)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class EventBase(Frozen):
    """The envelope every event carries."""

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    project_id: ProjectId
    occurred_at: AwareDatetime = Field(default_factory=_now)
    correlation_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    causation_id: uuid.UUID | None = None
    # Never None once made: `_usual_producer` fills it in or refuses the message.
    producer: Service = Field(default=None, json_schema_extra=_no_default)  # type: ignore[assignment]  # the default only lets code leave it out
    schema_version: int = SCHEMA_VERSION

    @model_validator(mode="before")
    @classmethod
    def _usual_producer(cls, data: Any, info: ValidationInfo) -> Any:  # noqa: ANN401  # whatever pydantic was given
        """Without a producer, made in code or recorded before version 2: the type's usual one.

        A message from the wire of version 2 or later must name its producer.
        """
        kind = cls.model_fields.get("type")
        if not isinstance(data, dict) or "producer" in data or kind is None:
            return data
        version = data.get("schema_version", 1)
        recorded_before = isinstance(version, int) and version < PRODUCER_SINCE
        if info.context == WIRE and not recorded_before:
            msg = f"producer: required since schema version {PRODUCER_SINCE}"
            raise ValueError(msg)
        return {**data, "producer": usual_producer(kind.default)}

    @field_validator("occurred_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @classmethod
    def follow(cls, cause: EventBase, **fields: Any) -> Self:  # noqa: ANN401  # fields are validated by the model
        """An event of this type caused by `cause`, in the same project and run."""
        return cls(
            project_id=cause.project_id,
            correlation_id=cause.correlation_id,
            causation_id=cause.event_id,
            **fields,
        )

    def published_by(self, service: Service) -> Self:
        """This event as `service` publishes it; `NotAProducer` when it may not."""
        event_type: str = getattr(self, "type")  # noqa: B009  # every concrete event has `type`
        if producer_problem(event_type, service) is not None:
            raise NotAProducer(service, event_type)
        return self.model_copy(update={"producer": service})


class ProjectCreated(EventBase):
    """A person described a project (G0 intake)."""

    type: Literal["ProjectCreated"] = "ProjectCreated"
    name: str = Field(min_length=1, max_length=200)
    intake: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    has_ui: bool = False


class IntakeRevised(EventBase):
    """A person revised the intake after G0 was rejected (or before it was approved)."""

    type: Literal["IntakeRevised"] = "IntakeRevised"
    intake: str = Field(min_length=1)
    by: str = Field(min_length=1)
    revision: int = Field(ge=2, description="the intake's number: the first is ProjectCreated's")


class GateOpened(EventBase):
    """A gate began: its agents may now work."""

    type: Literal["GateOpened"] = "GateOpened"
    gate: Gate


class ArtifactRecorded(EventBase):
    """A proof artifact for a gate: a document, a design option, a report."""

    type: Literal["ArtifactRecorded"] = "ArtifactRecorded"
    gate: Gate
    kind: str = Field(min_length=1)
    name: str = Field(min_length=1)
    blob: Sha256 | None = None
    facts: dict[str, str | int | float | bool] = Field(default_factory=dict)


class GateApproved(EventBase):
    """A person approved a gate."""

    type: Literal["GateApproved"] = "GateApproved"
    gate: Gate
    by: str


class GateRejected(EventBase):
    """A person rejected a gate; its agent works again with the reason."""

    type: Literal["GateRejected"] = "GateRejected"
    gate: Gate
    by: str
    reason: str = Field(min_length=1)


class OptionSelected(EventBase):
    """A person chose one of a gate's options (the G4 designs)."""

    type: Literal["OptionSelected"] = "OptionSelected"
    gate: Gate
    option: str = Field(min_length=1)
    by: str


class AgentRequested(EventBase):
    """A role agent is asked to produce its work for a gate."""

    type: Literal["AgentRequested"] = "AgentRequested"
    role: Role
    gate: Gate
    attempt: int = Field(default=1, ge=1)
    instructions: str = ""
    base: Manifest = Field(default_factory=Manifest)


class CodeGenerated(EventBase):
    """A model answered; the answer text is a blob."""

    type: Literal["CodeGenerated"] = "CodeGenerated"
    role: Role
    gate: Gate
    attempt: int = Field(ge=1)
    answer: Sha256
    base: Manifest
    model: str
    usage: Usage
    duration_s: float = Field(ge=0)
    # The answer was still cut at the token limit after every continuation allowed:
    # the parser writes no file the cut left unclosed.
    truncated: bool = False


class AgentFailed(EventBase):
    """A role agent could not answer."""

    type: Literal["AgentFailed"] = "AgentFailed"
    role: Role
    gate: Gate
    attempt: int = Field(ge=1)
    reason: str
    retryable: bool


class FilesWritten(EventBase):
    """Files came out of an answer (or a person) and form a new tree."""

    type: Literal["FilesWritten"] = "FilesWritten"
    role: Role
    gate: Gate
    attempt: int = Field(ge=1)
    manifest: Manifest
    changed: tuple[str, ...] = ()
    rejected: tuple[RejectedPath, ...] = ()
    warnings: tuple[str, ...] = ()


class FilesRejected(EventBase):
    """Nothing usable came out of an answer."""

    type: Literal["FilesRejected"] = "FilesRejected"
    role: Role
    gate: Gate
    attempt: int = Field(ge=1)
    rejected: tuple[RejectedPath, ...] = ()
    warnings: tuple[str, ...] = ()


class BuildRequested(EventBase):
    """Someone asked for steps to run on a tree."""

    type: Literal["BuildRequested"] = "BuildRequested"
    role: Role
    gate: Gate
    attempt: int = Field(default=1, ge=1)
    manifest: Manifest
    steps: tuple[Step, ...] = tuple(Step)


class BuildStarted(EventBase):
    """The builder took a tree and began its steps."""

    type: Literal["BuildStarted"] = "BuildStarted"
    role: Role
    gate: Gate
    attempt: int = Field(ge=1)
    toolchains: tuple[str, ...]
    steps: tuple[Step, ...]


class BuildSucceeded(EventBase):
    """Every step passed."""

    type: Literal["BuildSucceeded"] = "BuildSucceeded"
    role: Role
    gate: Gate
    attempt: int = Field(ge=1)
    manifest: Manifest
    results: tuple[StepResult, ...]


class BuildFailed(EventBase):
    """A step failed; its diagnostics are what the model heals from."""

    type: Literal["BuildFailed"] = "BuildFailed"
    role: Role
    gate: Gate
    attempt: int = Field(ge=1)
    manifest: Manifest
    results: tuple[StepResult, ...]
    failed_step: Step
    # Set when the failed step could not run for a reason outside the project: the
    # ledger retries the build and never asks the model to heal it.
    fault: InfrastructureFault | None = None

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """The diagnostics of the steps that failed for the project's reasons: a heal's subject.

        Not the notes of an audit that could not run, which passed as far as it goes.
        """
        return tuple(d for r in self.results if not r.ok and r.fault is None for d in r.diagnostics)


class HealRequested(EventBase):
    """The ledger asks a role to fix what failed."""

    type: Literal["HealRequested"] = "HealRequested"
    role: Role
    gate: Gate
    attempt: int = Field(ge=2)
    base: Manifest
    failed_step: Step | None = None
    command: str = ""  # the failed step's failing command
    exit_code: int | None = None
    output_tail: str = Field(default="", max_length=20_000)  # the failing command's output, its end
    diagnostics: tuple[Diagnostic, ...] = ()
    rejected: tuple[RejectedPath, ...] = ()
    warnings: tuple[str, ...] = ()  # what the parser said of the last answer (cut, no edits, …)
    history: tuple[EarlierAttempt, ...] = ()


class EscalationRaised(EventBase):
    """A person must decide: healing ran out or an agent cannot go on."""

    type: Literal["EscalationRaised"] = "EscalationRaised"
    role: Role
    gate: Gate
    attempt: int = Field(ge=1)
    reason: str
    kind: EscalationKind = EscalationKind.HEAL_LIMIT


class CommitCreated(EventBase):
    """The git service committed a tree."""

    type: Literal["CommitCreated"] = "CommitCreated"
    gate: Gate
    role: Role
    sha: str = Field(pattern=r"^[0-9a-f]{40}$")
    branch: str
    files_changed: int = Field(ge=0)
    trailer: str


class CommitSkipped(EventBase):
    """A build needed no commit: `sha`, on `branch` or main, holds its tree (a rework, a test run).

    It answers the BuildSucceeded its `causation_id` names, which says whose build it was.
    """

    type: Literal["CommitSkipped"] = "CommitSkipped"
    gate: Gate
    branch: str
    sha: str = Field(pattern=r"^[0-9a-f]{40}$")


class ExportRequested(EventBase):
    """Push the project's repository to a release of its own or to an allowed remote.

    `remote_url` is a release's bare name (such as `v1`) or a URL the git
    service allows; never a local path.
    """

    type: Literal["ExportRequested"] = "ExportRequested"
    remote_url: RemoteUrl
    branch: str = "main"


class PushCompleted(EventBase):
    """The repository reached the remote."""

    type: Literal["PushCompleted"] = "PushCompleted"
    remote_url: str
    branch: str
    sha: str = Field(pattern=r"^[0-9a-f]{40}$")


class PushFailed(EventBase):
    """The push did not happen; `reason` says why."""

    type: Literal["PushFailed"] = "PushFailed"
    remote_url: str
    branch: str
    reason: str


class AnswerAwaited(EventBase):
    """The manual provider wrote out a request's prompt: a person's answer is awaited.

    `number` is the prompt's place among its project's prompts (1, 2, ...), as the
    API lists it; `file` is where the agent wrote the text, on the agent's machine.
    """

    type: Literal["AnswerAwaited"] = "AnswerAwaited"
    request_id: uuid.UUID  # the AgentRequested or HealRequested to be answered
    number: int = Field(ge=1)
    role: Role
    gate: Gate
    attempt: int = Field(ge=1)
    prompt: Sha256  # the prompt's text
    size: int = Field(ge=0)  # the prompt's length in characters
    file: str = ""


class AnswerGiven(EventBase):
    """A person answered an awaited prompt; the agent passes it on as the model's answer."""

    type: Literal["AnswerGiven"] = "AnswerGiven"
    request_id: uuid.UUID
    number: int = Field(ge=1)
    answer: Sha256  # the answer's text (Markdown, as a model writes it)
    size: int = Field(ge=0)
    by: str = Field(min_length=1)


class ProcessingFailed(EventBase):
    """Dead letter: a service gave up on a message, which was terminated."""

    type: Literal["ProcessingFailed"] = "ProcessingFailed"
    service: str
    subject: str
    stream_sequence: int = Field(ge=0)
    deliveries: int = Field(ge=0)
    original_event_id: uuid.UUID | None = None
    original_type: str | None = None
    error: str


Event: TypeAlias = Annotated[
    ProjectCreated
    | IntakeRevised
    | GateOpened
    | ArtifactRecorded
    | GateApproved
    | GateRejected
    | OptionSelected
    | AgentRequested
    | CodeGenerated
    | AgentFailed
    | FilesWritten
    | FilesRejected
    | BuildRequested
    | BuildStarted
    | BuildSucceeded
    | BuildFailed
    | HealRequested
    | EscalationRaised
    | CommitCreated
    | CommitSkipped
    | ExportRequested
    | PushCompleted
    | PushFailed
    | AnswerAwaited
    | AnswerGiven
    | ProcessingFailed,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

EVENT_TYPES: dict[str, type[EventBase]] = {
    cls.model_fields["type"].default: cls for cls in EventBase.__subclasses__()
}


def parse_event(data: bytes | str) -> Event:
    """Decode an event from JSON; a `pydantic.ValidationError` names what was wrong."""
    return EVENT_ADAPTER.validate_json(data, context=WIRE)


def uncatalogued(data: bytes | str) -> tuple[str, EventBase] | None:
    """The type and envelope of an event of a type not in the catalogue, its envelope valid.

    A later version may add event types; a consumer ignores one it does not know,
    as long as it is an event: every envelope field present and valid. None for
    anything else (a known type, not JSON, a broken envelope).
    """
    try:
        fields = json.loads(data)
    except ValueError:
        return None
    if not isinstance(fields, dict):
        return None
    kind = fields.get("type")
    envelope = {name: fields[name] for name in EventBase.model_fields if name in fields}
    if (
        not isinstance(kind, str)
        or kind in EVENT_TYPES
        or len(envelope) < len(EventBase.model_fields)
    ):
        return None
    try:
        return kind, EventBase.model_validate(envelope, context=WIRE)
    except ValidationError:
        return None
