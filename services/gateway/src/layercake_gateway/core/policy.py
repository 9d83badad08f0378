"""How the ledger reacts to what happened on the bus: one bus event, one step of the aggregate.

Pure: a project (or None before it exists) and a bus event in; the same
project, its new events pending, out. Events that say nothing to the ledger
leave it untouched; so do decisions the gate machine refuses (an echo of the
ledger's own decision, a late duplicate): the bus is a record of facts, not a
queue of commands.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from layercake_contracts.events import (
    AgentFailed,
    AnswerAwaited,
    AnswerGiven,
    ArtifactRecorded,
    BuildFailed,
    BuildSucceeded,
    CodeGenerated,
    FilesRejected,
    FilesWritten,
    GateApproved,
    GateRejected,
    OptionSelected,
    ProjectCreated,
    PushCompleted,
    PushFailed,
)
from layercake_contracts.values import Gate, Step
from layercake_gateway.core.attempts import answer_facts, build_facts, step_result
from layercake_gateway.core.causes import Seen
from layercake_gateway.core.gates import ArtifactKind
from layercake_gateway.core.project import LedgerError, Project

if TYPE_CHECKING:
    from layercake_contracts.events import EventBase

# What a passing build proves at each gate that builds.
BUILD_PROOF: dict[Gate, ArtifactKind] = {
    Gate.G5: ArtifactKind.BUILD,
    Gate.G6: ArtifactKind.COVERAGE,
    Gate.G7: ArtifactKind.AUDIT,
    Gate.G8: ArtifactKind.DEPLOYMENT,
}
# The documents a gate's agents write (the paths the role templates ask for).
DOCUMENTS: dict[Gate, tuple[tuple[re.Pattern[str], ArtifactKind], ...]] = {
    Gate.G1: ((re.compile(r"^docs/[^/]+\.md$"), ArtifactKind.INTAKE_REVIEW),),
    Gate.G2: ((re.compile(r"^docs/prd\.md$", re.IGNORECASE), ArtifactKind.PRD),),
    Gate.G3: (
        (re.compile(r"^docs/[^/]*openapi[^/]*\.(?:ya?ml|json)$", re.IGNORECASE),
         ArtifactKind.OPENAPI),
        (re.compile(r"^docs/[^/]*schema[^/]*\.(?:sql|json|prisma|ya?ml)$", re.IGNORECASE),
         ArtifactKind.DATA_SCHEMA),
    ),
    Gate.G4: ((re.compile(r"^design/(option-[a-z0-9]+)\.html$", re.IGNORECASE),
               ArtifactKind.DESIGN_OPTION),),
    Gate.G7: ((re.compile(r"^docs/security-review\.md$", re.IGNORECASE),
               ArtifactKind.SECURITY_REVIEW),),
}  # fmt: skip


@dataclass(frozen=True)
class Policy:
    """The settings the ledger decides with."""

    heal_limit: int = 3
    coverage_min: float = 80.0
    build_retries: int = 3  # builds asked again after an infrastructure fault, then escalated


def react(project: Project | None, event: EventBase, policy: Policy) -> Project | None:
    """Apply `event` to `project`; a ProjectCreated makes the project.

    Every bus event of a project is kept as seen (what it was, what caused it), so
    `why` can walk back from it; one that changed the project is remembered too.
    """
    seen = Seen.of(event)
    if isinstance(event, ProjectCreated):
        if project is not None:
            project.mark_seen(seen, changed=False)
            return project
        return Project(
            project_id=event.project_id,
            name=event.name,
            intake=event.intake,
            owner=event.owner,
            has_ui=event.has_ui,
            heal_limit=policy.heal_limit,
            correlation_id=str(event.correlation_id),
            seen=asdict(seen),
        )
    if project is None:
        return None
    if project.has_applied(seen.event_id):
        return project  # the same event again: it changed the project once already
    before = len(project.pending_events)
    with contextlib.suppress(LedgerError):  # refused by the gate machine: a fact it holds
        _apply(project, event, policy)
    project.mark_seen(seen, changed=len(project.pending_events) > before)
    return project


def _apply(project: Project, event: EventBase, policy: Policy) -> None:  # noqa: C901  # a branch per event type
    at = event.occurred_at.isoformat()
    if isinstance(event, ArtifactRecorded):
        project.record_artifact(event.gate, event.kind, event.name, event.blob, dict(event.facts))
    elif isinstance(event, GateApproved):
        project.approve(event.gate, event.by)
    elif isinstance(event, GateRejected):
        project.reject(event.gate, event.by, event.reason)
    elif isinstance(event, OptionSelected):
        project.select_option(event.option, event.by)
    elif isinstance(event, BuildSucceeded):
        _build_passed(project, event, policy, at)
    elif isinstance(event, BuildFailed | FilesRejected | AgentFailed):
        _failed(project, event, policy, at)
    elif isinstance(event, FilesWritten):
        answer = answer_facts(event.attempt, event.changed, event.warnings, event.rejected)
        project.record_tree(event.gate, event.role, event.manifest.model_dump(mode="json"), answer)
        _documents(project, event)
    elif isinstance(event, CodeGenerated):
        project.record_usage(event.usage.total_tokens, event.usage.cost_usd)
    elif isinstance(event, AnswerAwaited | AnswerGiven):
        project.record_prompt(event)
    elif isinstance(event, PushCompleted):
        project.record_push(event.remote_url, event.branch, event.sha, at)
    elif isinstance(event, PushFailed):
        project.record_push_failure(event.remote_url, event.branch, event.reason, at)


def _documents(project: Project, event: FilesWritten) -> None:
    """The documents a gate needs, found among the files an agent wrote (as blobs)."""
    for path in event.changed:
        if path not in event.manifest:
            continue
        for pattern, kind in DOCUMENTS.get(event.gate, ()):
            if found := pattern.match(path):
                name = found.group(1) if found.groups() else path
                project.record_artifact(event.gate, kind, name, event.manifest[path].sha256, {})


def _failed(
    project: Project, event: BuildFailed | FilesRejected | AgentFailed, policy: Policy, at: str
) -> None:
    """Keep what failed; the aggregate decides between a heal, a retry and an escalation."""
    if isinstance(event, AgentFailed):
        project.record_agent_failure(
            event.gate, event.role, event.attempt, event.reason, retryable=event.retryable, at=at
        )
    elif isinstance(event, BuildFailed):
        manifest = event.manifest.model_dump(mode="json")
        if event.fault is not None:  # not the project's failure: built again, never healed
            fault = event.fault.model_dump(mode="json")
            project.record_build_fault(event.gate, event.role, event.attempt, fault, manifest, at,
                                       policy.build_retries)  # fmt: skip
            return
        errors = [_error(d.model_dump(mode="json")) for d in event.diagnostics]
        result = step_result(event.results, event.failed_step)
        build = build_facts(event.failed_step, result, errors)
        project.record_failure(event.gate, event.role, event.attempt, errors, at, manifest, build)
    else:
        answer = answer_facts(event.attempt, (), event.warnings, event.rejected)
        project.record_refused(event.gate, event.role, event.attempt, answer, at)


def _build_passed(project: Project, event: BuildSucceeded, policy: Policy, at: str) -> None:
    proof = BUILD_PROOF.get(event.gate)
    manifest = event.manifest.model_dump(mode="json")
    facts: dict[str, Any] = {"role": event.role.value, "attempt": event.attempt}
    coverage = next((r.coverage_percent for r in event.results if r.coverage_percent), None)
    if coverage is not None:
        facts["coverage_percent"] = coverage
    if proof is ArtifactKind.COVERAGE and (coverage or 0.0) < policy.coverage_min:
        error = {"tool": "coverage", "message": f"coverage {coverage or 0:.1f}% is below "
                 f"{policy.coverage_min:.1f}%"}  # fmt: skip
        build = build_facts(Step.TEST, step_result(event.results, Step.TEST), [error])
        project.record_failure(event.gate, event.role, event.attempt, [error], at, manifest, build)
        return
    audit = step_result(event.results, Step.AUDIT)
    if audit is not None and audit.fault is not None:  # the audit could not run: G7 decides
        facts["audit_unavailable"] = audit.fault.detail
        project.record_finding(
            Gate.G7, f"audit unavailable: {audit.fault.detail}",
            {"cause": audit.fault.cause.value, "seen_at": event.gate.value,
             "role": event.role.value},
        )  # fmt: skip
    project.record_work_done(event.gate, event.role, event.attempt, at, manifest)
    if proof is not None:
        project.record_artifact(event.gate, proof, event.role.value, None, facts)


def _error(diagnostic: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in diagnostic.items() if v is not None}
