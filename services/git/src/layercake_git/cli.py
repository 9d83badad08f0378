"""`layercake log` and `layercake git run`: the git service's commands."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from layercake_contracts.events import PROJECT_ID_PATTERN
from layercake_contracts.heartbeat import report
from layercake_contracts.runtime import run_worker
from layercake_git.app import create_runtime, create_workspaces
from layercake_git.errors import RepositoryMissing
from layercake_git.service import commit_entry
from layercake_git.settings import Settings

if TYPE_CHECKING:
    from layercake_git.core.history import LogEntry

_PADDING = 2  # what a column takes besides its text, in a SIMPLE_HEAD table
_SUBJECT_MIN = 20

app = typer.Typer(help="The git service (see its README).", no_args_is_help=True)


@app.command()
def run() -> None:
    """Start the git service's bus worker; Ctrl-C drains and stops it."""
    run_worker(lambda: create_runtime(Settings()))


@app.command()
def health() -> None:
    """Exit 0 while the worker's heartbeat is fresh (a container's health check), else 1."""
    report(Settings().heartbeat_file)


@app.command()
def log(
    project: Annotated[str, typer.Argument(help="The project id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show a project's history: each commit with its gate, role and the event that caused it."""
    if not re.fullmatch(PROJECT_ID_PATTERN, project):
        raise typer.BadParameter("not a project id", param_hint="PROJECT")
    workspaces = create_workspaces(Settings())
    repo = workspaces.repository(project)
    if not repo.exists and len(called := workspaces.called(project)) == 1:
        project, repo = called[0], workspaces.repository(called[0])  # the owner's name for it
    if not repo.exists:
        several = f"; {len(called)} projects are called so, give one of {called}" if called else ""
        typer.echo(f"{RepositoryMissing(project)} (in {workspaces.root}){several}", err=True)
        raise typer.Exit(1)
    entries = repo.log()
    if as_json:
        typer.echo(json.dumps([commit_entry(e).model_dump(mode="json") for e in entries], indent=2))
    else:
        _show(project, entries)


def _show(project: str, entries: list[LogEntry]) -> None:
    """One line a commit, readable at 80 columns: the subject (refs after it) is cut to fit.

    The subject names the role, attempt and files; the date is the month, day and time (UTC);
    `--json` has each field apart, the year, the whole sha and the causing event.
    """
    table = Table(
        title=f"{project}: {len(entries)} commit(s) (the causing events: --json)",
        box=box.SIMPLE_HEAD, pad_edge=False,
    )  # fmt: skip
    rows = [
        (
            e.sha[:7], e.date[5:16].replace("T", " "), e.gate or "",
            e.subject + (f" ({', '.join(e.refs)})" if e.refs else ""),
        )
        for e in entries
    ]  # fmt: skip
    console = Console()
    used = 0
    for n, column in enumerate(("commit", "date", "gate")):
        width = max([len(column), *(len(row[n]) for row in rows)])
        table.add_column(column, no_wrap=True, min_width=width)
        used += width + _PADDING
    # Given its width: Rich, short of room, would rather drop whole columns than cut one.
    room = max(console.width - used - _PADDING, _SUBJECT_MIN)
    table.add_column("subject", no_wrap=True, overflow="ellipsis", max_width=room)
    for row in rows:
        table.add_row(*row)
    console.print(table, markup=False, highlight=False)
