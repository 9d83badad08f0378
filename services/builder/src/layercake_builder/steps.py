"""Running a plan's steps in the sandbox: install (unless cached), build, then the rest at once.

Shell: it runs commands, reads the reports the tools wrote, and turns each
step into a `StepResult` with the help of the pure core (`interpret`,
`sandbox_findings`, and `classify`: whether its last command failed for a
reason outside the project, the step's `fault`). What the builder reads back
lives where no other step can write (issue #14): install keys in a folder of
its own the sandbox never sees, a test's reports in a folder made fresh for
that one command, outside the project. Both are read as regular files only,
never through a link, off the event loop.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from layercake_builder.adapters.own_files import private_folder, read_regular, write_atomically
from layercake_builder.core.confinement import CACHE, WORKSPACE, workdir
from layercake_builder.core.faults import classify
from layercake_builder.core.findings import sandbox_findings
from layercake_builder.core.plan import (
    REPORTS,
    Command,
    Plan,
    StepPlan,
    file_name,
    project_file,
)
from layercake_builder.core.reports import named_failure
from layercake_builder.errors import InstallPathUnknown
from layercake_contracts.values import Diagnostic, Severity, Step, StepResult
from layercake_contracts.walk import remove_entry

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from layercake_builder.adapters.sandbox import Completed, Sandbox
    from layercake_builder.core.reports import Interpret

EVENT_OUTPUT_CHARS = 4000
MAX_REPORT_BYTES = 20 * 1024 * 1024
MAX_KEY_BYTES = 256  # a sha256 in hex, with room
INSTALL_KEY_FILE = "install.key"


@dataclass(frozen=True)
class StepSettings:
    """Time limits, whether network steps get out, and the search paths inside the sandbox."""

    timeout_s: float
    install_timeout_s: float
    install_network: bool  # install and audit steps may reach the registries (via the proxy)
    path: tuple[str, ...]  # a local step's, after its toolchain's own bin folders
    tool_path: tuple[str, ...]  # a network step's: only our read-only tools, none of the project's


@dataclass(frozen=True)
class _Where:
    """Where one build's commands run: its slot, its folders, and its report folders' parent."""

    slot: int
    tree: Path
    cache: Path
    reports: Path


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
        self, plan: Plan, tree: Path, cache: Path, install_key: str, own: Path
    ) -> tuple[StepResult, ...]:
        """Every step's result, in order; a failed install or build stops the rest.

        `own` is the builder's folder for this project, beside `tree` and
        `cache` and never shown to the sandbox: install keys, report folders.
        """
        keys, reports = await asyncio.to_thread(_own_folders, own)
        await asyncio.to_thread(_clear_reports, tree)
        async with self._sandbox.slot(tree, cache) as slot:
            where = _Where(slot, tree, cache, reports)
            results: list[StepResult] = []
            for step_plan in plan.of(Step.INSTALL):
                key_file = keys / f"{file_name(step_plan.toolchain)}.{INSTALL_KEY_FILE}"
                if await asyncio.to_thread(
                    _install_cached, where, key_file, step_plan, install_key
                ):
                    results.append(_cached(step_plan))
                    continue
                result = await self._step(step_plan, where)
                results.append(result)
                if result.ok:
                    await asyncio.to_thread(write_atomically, key_file, install_key.encode())
            if not all(r.ok for r in results):
                return tuple(results)
            results += [await self._step(p, where) for p in plan.of(Step.BUILD)]
            if not all(r.ok for r in results):
                return tuple(results)
            later = [p for p in plan.steps if p.step not in {Step.INSTALL, Step.BUILD}]
            results += await asyncio.gather(*(self._step(p, where) for p in later))
            return tuple(results)

    async def _step(self, step_plan: StepPlan, where: _Where) -> StepResult:
        diagnostics: list[Diagnostic] = []
        outputs: list[str] = []
        duration = 0.0
        last: Completed | None = None
        argv: tuple[str, ...] = ()
        parsed_tests = None
        coverage = None
        ok = True
        for command in step_plan.commands:
            last, report, coverage_report = await self._command(command, step_plan, where)
            argv = command.argv
            duration += last.duration_s
            outputs.append(f"$ {' '.join(command.argv)}\n{last.output}")
            root = workdir(step_plan.folder)
            parsed = self._interpret(command.parser, last.output, report, coverage_report, root)
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
            diagnostics += [*found, *_from_root(parsed.diagnostics, step_plan.folder)]
            parsed_tests = parsed.tests or parsed_tests
            coverage = parsed.coverage if parsed.coverage is not None else coverage
            ok = ok and _command_ok(command, last, parsed.diagnostics)
            if not ok:
                named = (*found, *parsed.diagnostics)
                diagnostics += named_failure(command.argv, last.output, last.exit_code, named, root)
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
            fault=None
            if last is None
            else classify(
                step_plan.step, argv, last.exit_code, timed_out=last.timed_out, output=last.output
            ),
        )

    async def _command(
        self, command: Command, step_plan: StepPlan, where: _Where
    ) -> tuple[Completed, str | None, str | None]:
        """What `command` did in its toolchain's folder, and the reports it wrote into its own."""
        network = command.network and self._settings.install_network
        folder = None
        if command.report or command.coverage:
            folder = Path(await asyncio.to_thread(tempfile.mkdtemp, dir=where.reports))
            self._sandbox.hand_over(folder, where.slot)
        path = (
            self._settings.tool_path if command.network else (*step_plan.bins, *self._settings.path)
        )
        done = await self._sandbox.run(
            command.argv, slot=where.slot, project=where.tree, cache=where.cache,
            network=network, timeout_s=self._timeout(step_plan.step), path=path,
            env=dict(command.env), reports=folder, folder=step_plan.folder,
        )  # fmt: skip
        if folder is None:
            return done, None, None
        report, coverage = await asyncio.to_thread(_collect_reports, folder, command)
        return done, report, coverage

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


def _own_folders(own: Path) -> tuple[Path, Path]:
    """The builder's key folder (private) and report folders' parent (passable, not listable)."""
    private_folder(own, 0o711)  # a slot's user must reach its report folder inside
    return private_folder(own / "keys"), private_folder(own / "reports", 0o711)


def _install_cached(where: _Where, key_file: Path, step_plan: StepPlan, key: str) -> bool:
    """Same key as the last install, and what it installed is still there (tree or cache)."""
    same_key = read_regular(key_file.parent, key_file.name, MAX_KEY_BYTES) == key.encode()
    return same_key and all(_on_host(path, where).is_dir() for path in step_plan.installs)


def _on_host(sandbox_path: str, where: _Where) -> Path:
    """The host path of a path in the project or the cache as the sandbox sees them."""
    for inside, outside in ((WORKSPACE, where.tree), (CACHE, where.cache)):
        if sandbox_path.startswith(f"{inside}/"):
            return outside / sandbox_path.removeprefix(f"{inside}/")
    raise InstallPathUnknown(sandbox_path)


def _from_root(diagnostics: tuple[Diagnostic, ...], folder: str) -> list[Diagnostic]:
    """A toolchain's diagnostics with their files named from the project's root, not its folder."""
    return [
        d.model_copy(update={"file": project_file(folder, d.file)}) if d.file else d
        for d in diagnostics
    ]


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
    """A fresh, real scratch folder (the audit's): whatever the project put at `.layercake` goes."""
    fd = os.open(tree, os.O_RDONLY | os.O_DIRECTORY)
    try:  # iterative and link-blind: a step may have left any depth of folders there
        remove_entry(REPORTS.split("/", 1)[0], fd)
    finally:
        os.close(fd)
    (tree / REPORTS).mkdir(parents=True)


def _collect_reports(folder: Path, command: Command) -> tuple[str | None, str | None]:
    """The command's report and coverage texts; its folder goes with them."""
    try:
        texts = [
            read_regular(folder, name, MAX_REPORT_BYTES) if name else None
            for name in (command.report, command.coverage)
        ]
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # rmtree never follows a link out
    report, coverage = (t.decode("utf-8", errors="replace") if t else None for t in texts)
    return report, coverage
