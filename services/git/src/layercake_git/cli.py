"""`layercake git ...`: the git service's commands."""

import typer

from layercake_contracts.runtime import run_worker
from layercake_git.app import create_runtime
from layercake_git.settings import Settings

app = typer.Typer(
    help="The git service (see its README).",
    no_args_is_help=True,
)


@app.command()
def run() -> None:
    """Start the git service's bus worker; Ctrl-C drains and stops it."""
    run_worker(lambda: create_runtime(Settings()))
