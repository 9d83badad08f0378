"""What the agent remembers of a project: intake, documents, builds, chosen design, spending.

The agent sees only the requests addressed to it, so it keeps this record from
the events it also follows (ProjectCreated, IntakeRevised, ArtifactRecorded, OptionSelected,
BuildSucceeded: the builder's own account of what passed) and from its own
model calls. Updating is pure and idempotent: the same event
remembered twice gives the same record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from layercake_contracts.events import (
    ArtifactRecorded,
    BuildSucceeded,
    IntakeRevised,
    OptionSelected,
    ProjectCreated,
)
from layercake_contracts.values import Gate, Role, Sha256, Step, Usage

DESIGN_OPTION = "design_option"
# The artifacts a build proves, facts without a text: a role after one is told of it.
BUILD_KINDS = frozenset({"build", "coverage", "audit", "deployment"})
# The kinds of earlier gates' documents each role reads (its own gate's it always reads).
READS: dict[Role, frozenset[str]] = {
    Role.PRODUCT_MANAGER: frozenset({"intake_review"}),
    Role.ARCHITECT: frozenset({"prd"}),
    Role.DESIGNER: frozenset({"prd"}),
    Role.FRONTEND_DEVELOPER: frozenset({"prd", "openapi", DESIGN_OPTION}),
    Role.BACKEND_DEVELOPER: frozenset({"prd", "openapi", "data_schema"}),
    Role.QA_ENGINEER: frozenset({"prd", "openapi"}),
    Role.SECURITY_ENGINEER: frozenset({"openapi", "data_schema"}),
    Role.DEVOPS_ENGINEER: frozenset(),
    Role.USER: frozenset(),
}
Facts = dict[str, str | int | float | bool]
AUDIT_RAN = "ran"


@dataclass(frozen=True)
class Document:
    """An artifact of a gate whose text is a blob: a PRD, an OpenAPI file, a design, a report."""

    gate: Gate
    kind: str
    name: str
    blob: Sha256


@dataclass(frozen=True)
class BuildResult:
    """What a passing build proved at a gate: a build, coverage, an audit, a deployment."""

    gate: Gate
    kind: str
    name: str
    facts: Facts = field(default_factory=dict)


@dataclass(frozen=True)
class ProjectRecord:
    """One project as the agent knows it."""

    name: str = ""
    intake: str = ""
    has_ui: bool = False
    documents: tuple[Document, ...] = ()
    builds: tuple[BuildResult, ...] = ()
    selected_design: str | None = None
    usage: Usage = field(default_factory=Usage)


Remembered = ProjectCreated | IntakeRevised | ArtifactRecorded | OptionSelected | BuildSucceeded


def remember(record: ProjectRecord, event: Remembered) -> ProjectRecord:  # noqa: PLR0911  # a return per kind
    """The record after `event`; an artifact replaces one of the same gate, kind and name."""
    if isinstance(event, ProjectCreated):
        return replace(record, name=event.name, intake=event.intake, has_ui=event.has_ui)
    if isinstance(event, IntakeRevised):  # G0 was rejected: the agents read the new one
        return replace(record, intake=event.intake)
    if isinstance(event, OptionSelected):
        return replace(record, selected_design=event.option)
    if isinstance(event, BuildSucceeded):
        return _with_build(record, BuildResult(event.gate, "build", event.role, _facts(event)))
    if event.blob is None:
        if event.kind not in BUILD_KINDS:
            return record  # facts only, and none a role needs
        return _with_build(
            record, BuildResult(event.gate, event.kind, event.name, dict(event.facts))
        )
    same = (event.gate, event.kind, event.name)
    document = Document(event.gate, event.kind, event.name, event.blob)
    kept = tuple(d for d in record.documents if (d.gate, d.kind, d.name) != same)
    return replace(record, documents=(*kept, document))


def _with_build(record: ProjectRecord, build: BuildResult) -> ProjectRecord:
    same = (build.gate, build.kind, build.name)
    kept = tuple(b for b in record.builds if (b.gate, b.kind, b.name) != same)
    return replace(record, builds=(*kept, build))


def _facts(event: BuildSucceeded) -> Facts:
    """What a role after a passing build is told of it: tests, coverage, audits.

    A tree of two toolchains has two test steps: their counts add up (a live
    walk's later roles saw only the backend's).
    """
    facts: Facts = {"attempt": event.attempt}
    counted = [r.tests for r in event.results if r.tests is not None]
    if counted:
        passed, failed, skipped = (sum(getattr(t, n) for t in counted)
                                   for n in ("passed", "failed", "skipped"))  # fmt: skip
        runs = f" ({len(counted)} test runs)" if len(counted) > 1 else ""
        facts["tests"] = f"{passed} passed, {failed} failed, {skipped} skipped{runs}"
    coverage = [r.coverage_percent for r in event.results if r.coverage_percent is not None]
    if coverage:
        facts["coverage_percent"] = round(min(coverage), 1)
    audits = [r for r in event.results if r.step is Step.AUDIT]
    unavailable = [r.fault for r in audits if r.fault is not None]
    if unavailable:
        facts["audit"] = "; ".join(
            f"could not run ({f.cause}): {f.detail[:160]}" for f in unavailable
        )
    elif audits:
        facts["audit"] = f"{AUDIT_RAN}: {sum(len(r.diagnostics) for r in audits)} finding(s)"
    return facts


def audited(builds: tuple[BuildResult, ...]) -> bool:
    """Whether a dependency audit ran in one of `builds` (not merely was tried)."""
    return any(
        b.kind == "audit" or str(b.facts.get(Step.AUDIT.value, "")).startswith(AUDIT_RAN)
        for b in builds
    )


def spend(record: ProjectRecord, usage: Usage) -> ProjectRecord:
    """The record after a model call that used `usage`."""
    return replace(record, usage=record.usage + usage)


def documents_in_view(record: ProjectRecord, gate: Gate, role: Role) -> tuple[Document, ...]:
    """The documents `role` working at `gate` reads, in gate order.

    Those of this gate (its own earlier version, a report it reviews), and of
    earlier gates those of the kinds the role reads (READS). Of the design
    options only the selected one is shown, and only to those who build it.
    """
    order = list(Gate)
    here = order.index(gate)
    shown = (
        d
        for d in record.documents
        if (order.index(d.gate) == here or (order.index(d.gate) < here and d.kind in READS[role]))
        and (d.kind != DESIGN_OPTION or d.name == record.selected_design or role is Role.DESIGNER)
    )
    return tuple(sorted(shown, key=lambda d: order.index(d.gate)))


def builds_in_view(record: ProjectRecord, gate: Gate) -> tuple[BuildResult, ...]:
    """What the builds of this gate and earlier ones proved, in gate order."""
    order = list(Gate)
    shown = (b for b in record.builds if order.index(b.gate) <= order.index(gate))
    return tuple(sorted(shown, key=lambda b: order.index(b.gate)))
