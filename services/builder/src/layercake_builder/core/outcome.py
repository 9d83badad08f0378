"""Which events a build publishes: BuildStarted, then BuildSucceeded or BuildFailed.

A build that could not run (its tree or the sandbox failed under it) still
ends in a BuildFailed whose diagnostic names the cause, so the project never
waits on a build that only became a dead letter; it carries a SANDBOX fault.
A step that failed for a reason outside the project carries its fault (see
`faults.py`): an audit with one leaves the build passing (G7 shows it), any
other fails it with that fault, which the ledger retries and never heals.

A step a toolchain has nothing to run for (no linter configured) is a
skipped result saying why; a build in which every step asked for was skipped
checked nothing, and fails saying so (issue #16), unless its tree holds
documents only (the gates before any code: nothing there to build).

Event ids derive from the request's id, so a request handled twice (a
redelivery, a restart) publishes the same events and the stream keeps one.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import TYPE_CHECKING

from layercake_builder.core.faults import fault_of
from layercake_builder.core.plan import LOOKED_FOR
from layercake_contracts.events import (
    BuildFailed,
    BuildRequested,
    BuildStarted,
    BuildSucceeded,
    FilesWritten,
)
from layercake_contracts.values import (
    Diagnostic,
    FaultCause,
    Severity,
    Step,
    StepResult,
)

if TYPE_CHECKING:
    from collections.abc import Collection

    from layercake_builder.core.plan import Plan

_NAMESPACE = uuid.UUID("b3c1a9d2-5e6f-4a7b-8c9d-0e1f2a3b4c5d")

BuildRequest = FilesWritten | BuildRequested


def derived_id(request: BuildRequest, what: str) -> uuid.UUID:
    """The id of the `what` event answering `request`."""
    return uuid.uuid5(_NAMESPACE, f"builder:{what}:{request.event_id}")


def started(request: BuildRequest, plan: Plan) -> BuildStarted:
    """The event saying the build began, and what it will run."""
    return BuildStarted.follow(
        request,
        event_id=derived_id(request, "started"),
        role=request.role,
        gate=request.gate,
        attempt=request.attempt,
        toolchains=plan.toolchains,
        steps=tuple(dict.fromkeys(p.step for p in plan.steps)),
    )


def finished(
    request: BuildRequest, results: tuple[StepResult, ...]
) -> BuildSucceeded | BuildFailed:
    """BuildSucceeded when every step passed (or only the audit, for want of its service).

    Else BuildFailed naming the first failed step, or the first whose failure
    is a fault: while ours is broken, healing the project's part cannot pass.
    """
    common = {
        "event_id": derived_id(request, "finished"),
        "role": request.role,
        "gate": request.gate,
        "attempt": request.attempt,
        "manifest": request.manifest,
        "results": results,
    }
    failed = blocking(results)
    if not failed:
        return BuildSucceeded.follow(request, **common)
    first = next((r for r in failed if r.fault), failed[0])
    return BuildFailed.follow(request, **common, failed_step=first.step, fault=first.fault)


def blocking(results: tuple[StepResult, ...]) -> list[StepResult]:
    """The results that fail a build: every failed step but an audit its service could not run."""
    return [r for r in results if not r.ok and not (r.step is Step.AUDIT and r.fault)]


class Unchecked(StrEnum):
    """Why a build checked nothing it was asked to: its diagnostic's code."""

    NO_TOOLCHAIN = "no_toolchain"
    EVERY_STEP_SKIPPED = "nothing_checked"


def assessed(
    plan: Plan,
    ran: tuple[StepResult, ...],
    asked: Collection[Step],
    where: str,
    *,
    documents_pass: bool = True,
) -> tuple[StepResult, ...]:
    """What the steps that ran did, with a skipped result for each the plan skipped, in order.

    When the plan runs no step asked for (each was skipped), a failed result of the
    first of them follows it, whose diagnostic says why nothing was checked; `where` names the
    tree in it. A tree of documents only passes, unless `documents_pass` is off.
    """
    several = len(plan.toolchains) > 1  # then each reason names its toolchain
    skipped = tuple(
        StepResult(step=s.step, command=(), exit_code=None, duration_s=0,
                   skipped=f"{s.toolchain}: {s.reason}" if several else s.reason)
        for s in plan.skipped
    )  # fmt: skip
    order = list(Step)
    # A step's skipped results first: the last result of a step is the one that ran (a heal's).
    results = sorted((*skipped, *ran), key=lambda r: order.index(r.step))
    if any(p.step in asked for p in plan.steps) or not skipped:
        return tuple(results)
    if plan.toolchains:
        reasons = "; ".join(
            f"{s.step}{f' of {s.toolchain}' if several else ''}: {s.reason}" for s in plan.skipped
        )
        code = Unchecked.EVERY_STEP_SKIPPED
        message = f"nothing was checked: every step asked for was skipped ({reasons})"
    elif plan.code or not documents_pass:
        code, message = Unchecked.NO_TOOLCHAIN, f"no toolchain found in {where} ({LOOKED_FOR})"
        message += f"; it holds code: {_few(plan.code)}" if plan.code else ""
    else:
        return tuple(results)
    diagnostic = Diagnostic(tool="builder", severity=Severity.ERROR, code=code, message=message)
    # After the first skipped step, which keeps its reason: the result a heal reads for that step.
    results.insert(results.index(skipped[0]) + 1, StepResult(
        step=skipped[0].step, command=(), exit_code=None, duration_s=0, output=message,
        diagnostics=(diagnostic,),
    ))  # fmt: skip
    return tuple(results)


def _few(paths: tuple[str, ...], shown: int = 5) -> str:
    more = f" and {len(paths) - shown} more" if len(paths) > shown else ""
    return ", ".join(paths[:shown]) + more


class Crash(StrEnum):
    """Where a build failed for a reason that is not one of its steps' results."""

    TREE = "tree_unusable"  # the tree could not be materialised
    SANDBOX = "sandbox_failed"  # the steps could not be run


def crashed(
    request: BuildRequest, step: Step, where: Crash, error: BaseException
) -> BuildSucceeded | BuildFailed:
    """BuildFailed at `step`, the first the build was to run, naming what stopped it."""
    what = "materialising the tree" if where is Crash.TREE else "running the steps"
    message = f"the build stopped while {what}: {type(error).__name__}: {error}"
    diagnostic = Diagnostic(tool="builder", severity=Severity.ERROR, code=where, message=message)
    # No exit code: a step that never ran is a failed one.
    fault = fault_of(FaultCause.SANDBOX, f"{where.value}: {message}")
    result = StepResult(
        step=step, command=(), exit_code=None, duration_s=0, output=message,
        diagnostics=(diagnostic,), fault=fault,
    )  # fmt: skip
    return finished(request, (result,))
