"""Value types that travel inside events: manifests, diagnostics, step results, usage.

Pure data with validation; nothing here touches the disk or the network.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel, model_validator

# Re-exported (explicitly, for mypy): services name the one path rule from here too.
from layercake_contracts.paths import project_path_problem as project_path_problem  # noqa: PLC0414

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

SHA256_PATTERN = r"^[0-9a-f]{64}$"
Sha256 = Annotated[str, Field(pattern=SHA256_PATTERN)]

FileMode = Literal[0o644, 0o755]
REGULAR_FILE_MODE: FileMode = 0o644
EXECUTABLE_FILE_MODE: FileMode = 0o755


class Frozen(BaseModel):
    """Base of every wire model: immutable, and unknown fields are an error."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        # Serialised events always carry every field: say so to integrators.
        json_schema_serialization_defaults_required=True,
        # A refusal names the field and why, never the value: a dead letter must not
        # repeat a secret (a URL's password) or a megabyte of forged text.
        hide_input_in_errors=True,
    )


class Gate(StrEnum):
    """The ten gates a project passes, in order."""

    G0 = "G0"
    G1 = "G1"
    G2 = "G2"
    G3 = "G3"
    G4 = "G4"
    G5 = "G5"
    G6 = "G6"
    G7 = "G7"
    G8 = "G8"
    G9 = "G9"


class Role(StrEnum):
    """Who wrote something: a role agent or a person."""

    PRODUCT_MANAGER = "product_manager"
    ARCHITECT = "architect"
    DESIGNER = "designer"
    FRONTEND_DEVELOPER = "frontend_developer"
    BACKEND_DEVELOPER = "backend_developer"
    QA_ENGINEER = "qa_engineer"
    SECURITY_ENGINEER = "security_engineer"
    DEVOPS_ENGINEER = "devops_engineer"
    USER = "user"


class FileEntry(Frozen):
    """One file of a manifest: its content address, size and mode."""

    sha256: Sha256
    size: int = Field(ge=0)
    mode: FileMode = REGULAR_FILE_MODE


class ManifestDiff(Frozen):
    """What changed between two manifests, each list sorted."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when the two manifests describe the same tree."""
        return not (self.added or self.changed or self.deleted)


class Manifest(RootModel[dict[str, FileEntry]]):
    """A project tree as `path -> FileEntry`; contents live in the blob store."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    root: dict[str, FileEntry] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _paths_are_safe(self) -> Manifest:
        for path in self.root:
            problem = project_path_problem(path)
            if problem is not None:
                msg = f"manifest path {path!r}: {problem}"
                raise ValueError(msg)
        return self

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]  # a manifest iterates its paths, like a dict
        return iter(self.root)

    def __len__(self) -> int:
        return len(self.root)

    def __contains__(self, path: object) -> bool:
        return path in self.root

    def __getitem__(self, path: str) -> FileEntry:
        return self.root[path]

    def items(self) -> Iterator[tuple[str, FileEntry]]:
        """Pairs of path and entry, in path order."""
        return iter(sorted(self.root.items()))

    def diff(self, newer: Manifest) -> ManifestDiff:
        """What `newer` adds, changes (content or mode) and deletes relative to this."""
        old, new = self.root, newer.root
        return ManifestDiff(
            added=tuple(sorted(new.keys() - old.keys())),
            changed=tuple(sorted(p for p in new.keys() & old.keys() if new[p] != old[p])),
            deleted=tuple(sorted(old.keys() - new.keys())),
        )

    def updated(
        self, changes: Mapping[str, FileEntry], deleted: frozenset[str] = frozenset()
    ) -> Manifest:
        """A new manifest with `changes` applied and `deleted` removed."""
        merged = {p: e for p, e in self.root.items() if p not in deleted}
        merged.update(changes)
        return Manifest(merged)


class Severity(StrEnum):
    """How bad a diagnostic is."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Diagnostic(Frozen):
    """One finding of a tool, located in the project when the tool says where."""

    tool: str
    severity: Severity
    file: str | None = None
    line: int | None = Field(default=None, ge=1)
    column: int | None = Field(default=None, ge=1)
    code: str | None = None
    message: str


class Step(StrEnum):
    """The build steps, in the order they run."""

    INSTALL = "install"
    BUILD = "build"
    LINT = "lint"
    TEST = "test"
    AUDIT = "audit"


class FaultCause(StrEnum):
    """Why a step could not run for a reason outside the project: never the model's to heal."""

    REGISTRY = "registry"  # a package registry refused or could not be reached
    ADVISORY = "advisory"  # the advisory (audit) service refused or could not be reached
    NETWORK = "network"  # the network itself: DNS, connection refused, reset, TLS
    TOOLCHAIN = "toolchain"  # a tool the builder needs is missing on this machine
    SANDBOX = "sandbox"  # the sandbox (or the tree under it) failed
    TIMEOUT = "timeout"  # a download or install ran out of time


class InfrastructureFault(Frozen):
    """A step that did not say anything about the project, because something of ours failed."""

    cause: FaultCause
    detail: str = Field(min_length=1, max_length=2000)


class TestCounts(Frozen):
    """How many tests passed, failed and were skipped."""

    __test__ = False  # a value type, not a pytest class

    passed: int = Field(default=0, ge=0)
    failed: int = Field(default=0, ge=0)
    skipped: int = Field(default=0, ge=0)


class StepResult(Frozen):
    """What one build step did."""

    step: Step
    command: tuple[str, ...]
    exit_code: int | None
    duration_s: float = Field(ge=0)
    timed_out: bool = False
    cached: bool = False
    output: str = ""
    log_blob: Sha256 | None = None
    tests: TestCounts | None = None
    coverage_percent: float | None = Field(default=None, ge=0, le=100)
    diagnostics: tuple[Diagnostic, ...] = ()
    # Set when the step could not run for a reason outside the project (see FaultCause);
    # an audit that could not run leaves the build passing, with this as G7's finding.
    fault: InfrastructureFault | None = None
    # Set when the step did not run because nothing of the project's asks for it (no
    # linter configured, no toolchain found): why. It has no command and no exit code.
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        """True when the step exited 0 within its time, or was skipped (it failed nothing)."""
        return self.skipped is not None or (self.exit_code == 0 and not self.timed_out)


class Usage(Frozen):
    """Tokens and cost of model calls."""

    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    cache_read_tokens: int = Field(default=0, ge=0)
    cache_write_tokens: int = Field(default=0, ge=0)
    cost_usd: float = Field(default=0.0, ge=0)

    @property
    def total_tokens(self) -> int:
        """Every token counted against a budget."""
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
        )

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )


class EarlierAttempt(Frozen):
    """One earlier attempt of a role at a gate, as a heal prompt shows it."""

    attempt: int = Field(ge=1)
    changed: tuple[str, ...] = ()  # the files that attempt's answer wrote or edited
    failed_step: Step | None = None
    command: str = ""
    exit_code: int | None = None
    outcome: str = Field(min_length=1)  # one line: what then failed, or why nothing was built
    diagnostics: tuple[Diagnostic, ...] = ()  # the top few of what then failed


class EscalationKind(StrEnum):
    """Why a person must decide."""

    HEAL_LIMIT = "heal_limit"  # the heal rounds ran out
    AGENT = "agent"  # the agent cannot answer (model unreachable, budget, no recording)
    INFRASTRUCTURE = "infrastructure"  # a build could not run, again and again, for our reasons
    PUSH = "push"  # the approved release could not be pushed (the git service's PushFailed)


class RejectedPath(Frozen):
    """A path that was refused, and why."""

    path: str
    reason: str


# `scheme://user:password@…`: an authority with a colon before its `@`.
_URL_WITH_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*:[^/?#@]*@")


def without_password(url: str) -> str:
    """`url`, unless it carries a password: no event may hold one (the ledger keeps them all)."""
    if _URL_WITH_PASSWORD.match(url):
        msg = "the remote URL carries a password; the git service's token is the only credential"
        raise ValueError(msg)
    return url


RemoteUrl = Annotated[str, AfterValidator(without_password)]
