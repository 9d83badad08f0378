"""`layercake build DIR` and `layercake builder run`: the builder's commands."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from pathlib import Path  # noqa: TC003  # Typer reads the annotation at runtime
from typing import Annotated

import structlog
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from layercake_builder.app import create_runner, create_runtime
from layercake_builder.core.outcome import Unchecked, assessed, blocking
from layercake_builder.core.plan import cache_key, manifest_paths, plan_build
from layercake_builder.service import toolchain_versions
from layercake_builder.settings import Settings
from layercake_contracts.heartbeat import report
from layercake_contracts.materialise import project_files, write_tree
from layercake_contracts.runtime import run_worker
from layercake_contracts.values import Step, StepResult

app = typer.Typer(help="The builder service (see its README).", no_args_is_help=True)


@app.command()
def run() -> None:
    """Start the builder service's bus worker; Ctrl-C drains and stops it."""
    run_worker(lambda: create_runtime(Settings()))


@app.command()
def health() -> None:
    """Exit 0 while the worker's heartbeat is fresh (a container's health check), else 1."""
    report(Settings().heartbeat_file)


@app.command()
def build(
    folder: Annotated[
        Path, typer.Argument(help="The project to build.", exists=True, file_okay=False)
    ],
    steps: Annotated[
        str, typer.Option(help="Comma-separated steps: install,build,lint,test,audit.")
    ] = ",".join(Step),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the step results as JSON.")
    ] = False,
) -> None:
    """Build and test a folder in the sandbox (a copy of it); exit 0 when the build passed.

    It passes when every step did, or all but an audit whose service could not be asked.
    """
    try:
        wanted = tuple(Step(s.strip()) for s in steps.split(",") if s.strip())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--steps") from exc
    settings = Settings()
    # The builder's logs (the egress proxy's among them) go beside the status, not into --json.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    console = Console(stderr=True)
    with console.status(f"building {folder} in the sandbox"):
        results = asyncio.run(_build(folder.resolve(), wanted, settings))
    failed = blocking(results)
    # Why nothing was checked (no toolchain, every step skipped): said last, not in a table.
    unchecked = [d for r in failed for d in r.diagnostics if d.code in set(Unchecked)]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in results], indent=2))
    elif not any(d.code == Unchecked.NO_TOOLCHAIN for d in unchecked):
        _show(results)
    for d in unchecked:
        console.print(d.message, style="red", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1 if failed or not results else 0)


async def _build(
    folder: Path, wanted: tuple[Step, ...], settings: Settings
) -> tuple[StepResult, ...]:
    root = settings.builder_root.resolve()
    work = root / "cli" / hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    tree, cache, logs = work / "tree", work / "cache", work / "logs"
    files = {rel: (full.read_bytes(), 0o755 if os.access(full, os.X_OK) else 0o644)
             for rel, full in project_files(folder)}  # fmt: skip
    # Keep node_modules (the install cache; venvs live in `cache`); drop files the folder lost.
    if tree.exists():
        for relative, stale in list(project_files(tree)):
            if relative not in files:
                stale.unlink()
    write_tree(tree, files)
    cache.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    texts = {n: files[n][0].decode("utf-8", errors="replace") for n in manifest_paths(files)}

    async def store_log(data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        (logs / f"{digest}.log").write_bytes(data)
        return digest

    plan = plan_build(list(files), texts, wanted)
    ran: tuple[StepResult, ...] = ()
    if plan.steps:
        key = cache_key(texts, toolchain_versions())
        ran = await create_runner(settings, store_log).run(plan, tree, cache, key, work / "own")
    return assessed(plan, ran, wanted, str(folder), documents_pass=False)


def _show(results: tuple[StepResult, ...]) -> None:
    console = Console()
    table = Table(title="steps")
    for column in ("step", "result", "seconds", "tests", "coverage"):
        table.add_column(column)
    for r in results:
        verdict = "cached" if r.cached else ("ok" if r.ok else f"failed ({r.exit_code})")
        verdict = "nothing checked" if not (r.ok or r.command) else verdict
        verdict = f"skipped ({r.skipped})" if r.skipped else verdict
        verdict += f", not ours: {r.fault.cause}" if r.fault else ""
        tests = f"{r.tests.passed} passed, {r.tests.failed} failed" if r.tests else ""
        coverage = f"{r.coverage_percent:.0f}%" if r.coverage_percent is not None else ""
        table.add_row(r.step, escape(verdict), f"{r.duration_s:.1f}", tests, coverage)
    console.print(table)
    diagnostics = [d for r in results for d in r.diagnostics if d.code not in set(Unchecked)]
    if diagnostics:
        found = Table(title="diagnostics")
        for column in ("tool", "severity", "where", "code", "message"):
            found.add_column(column)
        for d in diagnostics:
            where = f"{d.file or ''}:{d.line or ''}:{d.column or ''}".strip(":")
            found.add_row(d.tool, d.severity, escape(where), d.code or "", escape(d.message[:200]))
        console.print(found)
