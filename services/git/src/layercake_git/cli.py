"""`layercake log` and `layercake git run`: the git service's commands."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from layercake_contracts.events import PROJECT_ID_PATTERN
from layercake_contracts.runtime import run_worker
from layercake_git.app import create_runtime, create_workspaces
from layercake_git.errors import RepositoryMissing
from layercake_git.service import commit_entry
from layercake_git.settings import Settings

if TYPE_CHECKING:
    from layercake_git.core.history import LogEntry

app = typer.Typer(help="The git service (see its README).", no_args_is_help=True)


@app.command()
def run() -> None:
    """Start the git service's bus worker; Ctrl-C drains and stops it."""
    run_worker(lambda: create_runtime(Settings()))


def log(
    project: Annotated[str, typer.Argument(help="The project id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show a project's history: each commit with its gate, role and the event that caused it."""
    if not re.fullmatch(PROJECT_ID_PATTERN, project):
        raise typer.BadParameter("not a project id", param_hint="PROJECT")
    repo = create_workspaces(Settings()).repository(project)
    if not repo.exists:
        typer.echo(str(RepositoryMissing(project)), err=True)
        raise typer.Exit(1)
    entries = repo.log()
    if as_json:
        typer.echo(json.dumps([commit_entry(e).model_dump(mode="json") for e in entries], indent=2))
    else:
        _show(project, entries)


def _show(project: str, entries: list[LogEntry]) -> None:
    table = Table(title=f"{project}: {len(entries)} commit(s)")
    for column in ("commit", "refs", "date", "gate", "role", "files", "event", "subject"):
        table.add_column(column)
    for e in entries:
        table.add_row(
            e.sha[:10], ", ".join(e.refs), e.date, e.gate or "", e.role or "",
            str(e.files), e.event_id or "", e.subject,
        )  # fmt: skip
    Console().print(table)
