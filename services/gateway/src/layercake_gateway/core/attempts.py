"""What the ledger keeps of one attempt, for the heal request that follows it.

Pure: bus events' values in, plain JSON dicts out (the aggregate's events store
them as they are, and the outbox turns them into a HealRequested):
- a build's facts: the failed step, its failing command (the last that ran), the
  exit code, the end of its output, and its diagnostics;
- an answer's facts: the files it changed, what the parser warned, the paths refused;
- an earlier attempt: both, in one line of outcome and the top diagnostics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from layercake_contracts.values import RejectedPath, Step, StepResult

OUTPUT_TAIL_CHARS = 6_000  # of a failing command's output, what a heal prompt is shown
TOP_DIAGNOSTICS = 5  # of an earlier attempt's diagnostics, what its history entry keeps
OUTCOME_CHARS = 300


def build_facts(
    step: Step | None, result: StepResult | None, diagnostics: list[dict[str, Any]]
) -> dict[str, Any]:
    """What a failed build says: `result` is the failed step's (None when no step ran)."""
    return {
        "failed_step": step.value if step is not None else None,
        "command": result.command[-1] if result is not None and result.command else "",
        "exit_code": result.exit_code if result is not None else None,
        "output_tail": result.output[-OUTPUT_TAIL_CHARS:] if result is not None else "",
        "diagnostics": diagnostics,
    }


def step_result(results: Iterable[StepResult], step: Step) -> StepResult | None:
    """`step`'s result among `results`: the first that did not pass, else the last.

    Each toolchain (backend, frontend) runs the step in turn: the one that failed is
    what a heal must show, whichever ran last.
    """
    found = None
    for result in results:
        if result.step is step:
            if not result.ok:
                return result
            found = result
    return found


def answer_facts(
    attempt: int, changed: Iterable[str], warnings: Iterable[str], rejected: Iterable[RejectedPath]
) -> dict[str, Any]:
    """What the parser made of one answer."""
    return {
        "attempt": attempt,
        "changed": list(changed),
        "warnings": list(warnings),
        "rejected": [{"path": r.path, "reason": r.reason} for r in rejected],
    }


def changed_paths(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The paths added, changed or deleted from `before` to `after` (two manifests)."""
    return sorted(p for p in {*before, *after} if before.get(p) != after.get(p))


def build_outcome(build: Mapping[str, Any]) -> str:
    """One line: which step failed, its exit code, and its first error (or output line)."""
    head = f"{build['failed_step'] or 'the build'} failed"
    if build["exit_code"] is not None:
        head += f" (exit {build['exit_code']})"
    lines = [line.strip() for line in build["output_tail"].splitlines() if line.strip()]
    first = build["diagnostics"][0]["message"] if build["diagnostics"] else None
    detail = first or (lines[-1] if lines else "")
    return _line(f"{head}: {detail}" if detail else head)


def no_edits_outcome(answer: Mapping[str, Any]) -> str:
    """One line: the answer gave nothing to build, and the parser's reason."""
    return _line(f"the answer had no edits: {refusal(answer)}")


def refusal(answer: Mapping[str, Any]) -> str:
    """Why the parser got nothing from an answer, in its own words."""
    reasons = [*answer["warnings"], *(f"{r['path']}: {r['reason']}" for r in answer["rejected"])]
    return "; ".join(reasons) or "the parser gave no reason"


def earlier_attempt(
    attempt: int,
    answer: Mapping[str, Any] | None,
    build: Mapping[str, Any] | None,
    outcome: str,
) -> dict[str, Any]:
    """One attempt as a later heal's history shows it (an EarlierAttempt's fields)."""
    return {
        "attempt": attempt,
        "changed": list(answer["changed"]) if answer is not None else [],
        "failed_step": build["failed_step"] if build is not None else None,
        "command": build["command"] if build is not None else "",
        "exit_code": build["exit_code"] if build is not None else None,
        "outcome": outcome,
        "diagnostics": list(build["diagnostics"][:TOP_DIAGNOSTICS]) if build is not None else [],
    }


def _line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= OUTCOME_CHARS else flat[: OUTCOME_CHARS - 1] + "…"
