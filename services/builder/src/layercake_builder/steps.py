"""Running a plan's steps in the sandbox: install (unless cached), build, then the rest at once.

Shell: it runs commands, reads the reports the tools wrote (never following a
link the project planted), and turns each step into a `StepResult` with the
help of the pure core (`interpret`, `sandbox_findings`).
"""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layercake_builder.core.findings import sandbox_findings
from layercake_builder.core.plan import REPORTS, Command, Plan, StepPlan
from layercake_contracts.values import Diagnostic, Severity, Step, StepResult

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from layercake_builder.adapters.sandbox import Completed, Sandbox
    from layercake_builder.core.reports import Interpret

EVENT_OUTPUT_CHARS = 4000
MAX_REPORT_BYTES = 20 * 1024 * 1024
INSTALL_KEY_FILE = "install.key"


@dataclass(frozen=True)
class StepSettings:
    """Time limits and the folders' search path inside the sandbox."""

    timeout_s: float
    install_timeout_s: float
    install_network: bool
    path: tuple[str, ...]


class StepRunner:
    """Runs one build's steps for one project, holding a sandbox slot throughout."""

    def __init__(
        self,
        sandbox: Sandbox,
        settings: StepSettings,
        interpret: Interpret,
        store_log: Callable[[bytes], Awaitable[str]],
    ) -> None:
        self._sandbox = sandbox
        self._settings = settings
        self._interpret = interpret
        self._store_log = store_log

    async def run(
        self, plan: Plan, tree: Path, cache: Path, install_key: str
    ) -> tuple[StepResult, ...]:
        """Every step's result, in order; a failed install or build stops the rest."""
        _clear_reports(tree)
        async with self._sandbox.slot(tree, cache) as slot:
            results: list[StepResult] = []
            for step_plan in plan.of(Step.INSTALL):
                if _install_cached(tree, cache, step_plan, install_key):
                    results.append(_cached(step_plan))
                    continue
                result = await self._step(step_plan, slot, tree, cache)
                results.append(result)
                if result.ok:
                    (cache / f"{step_plan.toolchain}.{INSTALL_KEY_FILE}").write_text(install_key)
            if not all(r.ok for r in results):
                return tuple(results)
            results += [await self._step(p, slot, tree, cache) for p in plan.of(Step.BUILD)]
            if not all(r.ok for r in results):
                return tuple(results)
            later = [p for p in plan.steps if p.step not in {Step.INSTALL, Step.BUILD}]
            results += await asyncio.gather(*(self._step(p, slot, tree, cache) for p in later))
            return tuple(results)

    async def _step(self, step_plan: StepPlan, slot: int, tree: Path, cache: Path) -> StepResult:
        diagnostics: list[Diagnostic] = []
        outputs: list[str] = []
        duration = 0.0
        last: Completed | None = None
        parsed_tests = None
        coverage = None
        ok = True
        for command in step_plan.commands:
            last = await self._command(command, step_plan.step, slot, tree, cache)
            duration += last.duration_s
            outputs.append(f"$ {' '.join(command.argv)}\n{last.output}")
            report = _read_report(tree, command.report) if command.report else None
            coverage_report = _read_report(tree, command.coverage) if command.coverage else None
            parsed = self._interpret(command.parser, last.output, report, coverage_report)
            timeout = self._timeout(step_plan.step)
            found = sandbox_findings(
                exit_code=last.exit_code,
                signal_number=last.signal,
                timed_out=last.timed_out,
                timeout_s=timeout,
                output=last.output,
                dropped_bytes=last.dropped_bytes,
                oom_killed=last.oom_killed,
                disk_full=last.disk_full,
            )
            diagnostics += [*found, *parsed.diagnostics]
            parsed_tests = parsed.tests or parsed_tests
            coverage = parsed.coverage if parsed.coverage is not None else coverage
            ok = ok and _command_ok(command, last, parsed.diagnostics)
            if not ok:
                break
        log = "\n".join(outputs)
        return StepResult(
            step=step_plan.step,
            command=tuple(" ".join(c.argv) for c in step_plan.commands),
            exit_code=(last.exit_code if last else None)
            if ok or last is None
            else _failed_code(last),
            duration_s=duration,
            timed_out=bool(last and last.timed_out),
            output=log[-EVENT_OUTPUT_CHARS:],
            log_blob=await self._store_log(log.encode()),
            tests=parsed_tests,
            coverage_percent=coverage,
            diagnostics=tuple(diagnostics),
        )

    async def _command(
        self, command: Command, step: Step, slot: int, tree: Path, cache: Path
    ) -> Completed:
        network = command.network and (step is not Step.INSTALL or self._settings.install_network)
        return await self._sandbox.run(
            command.argv,
            slot=slot,
            project=tree,
            cache=cache,
            network=network,
            timeout_s=self._timeout(step),
            path=self._settings.path,
        )

    def _timeout(self, step: Step) -> float:
        if step is Step.INSTALL:
            return self._settings.install_timeout_s
        return self._settings.timeout_s


def _command_ok(command: Command, done: Completed, diagnostics: tuple[Diagnostic, ...]) -> bool:
    if done.timed_out:
        return False
    if command.tolerate_exit:
        return done.exit_code is not None and not any(
            d.severity is Severity.ERROR for d in diagnostics
        )
    return done.exit_code == 0


def _failed_code(done: Completed) -> int | None:
    """A failed step never reports 0, even when only its diagnostics failed it."""
    return done.exit_code if done.exit_code not in (0, None) else (None if done.timed_out else 1)


def _install_cached(tree: Path, cache: Path, step_plan: StepPlan, key: str) -> bool:
    """Same key as the last install, and what it installed is still in the tree."""
    marker = cache / f"{step_plan.toolchain}.{INSTALL_KEY_FILE}"
    try:
        same_key = marker.read_text() == key
    except OSError:
        return False
    return same_key and all((tree / path).is_dir() for path in step_plan.installs)


def _cached(step_plan: StepPlan) -> StepResult:
    return StepResult(
        step=Step.INSTALL,
        command=tuple(" ".join(c.argv) for c in step_plan.commands),
        exit_code=0,
        duration_s=0.0,
        cached=True,
        output="dependencies unchanged: install skipped",
    )


def _clear_reports(tree: Path) -> None:
    """A fresh, real reports folder: whatever the project put at `.layercake` goes first."""
    top = tree / REPORTS.split("/", 1)[0]
    if top.is_symlink() or (top.exists() and not top.is_dir()):
        top.unlink()
    elif top.exists():
        shutil.rmtree(top)  # rmtree removes links inside, never what they point to
    (tree / REPORTS).mkdir(parents=True)


def _read_report(tree: Path, relative: str) -> str | None:
    """A report the tool wrote, read without following links (the project may plant them)."""
    fd = os.open(tree, os.O_RDONLY | os.O_DIRECTORY)
    try:
        *folders, name = relative.split("/")
        for folder in folders:
            next_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        file_fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
    except OSError as exc:
        if exc.errno in {errno.ENOENT, errno.ELOOP, errno.ENOTDIR}:
            return None
        raise
    finally:
        os.close(fd)
    with os.fdopen(file_fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None
        return handle.read(MAX_REPORT_BYTES).decode("utf-8", errors="replace")
