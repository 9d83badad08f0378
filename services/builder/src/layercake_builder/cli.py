"""`layercake builder ...`: the builder service's commands."""

import typer

from layercake_builder.app import create_runtime
from layercake_builder.settings import Settings
from layercake_contracts.runtime import run_worker

app = typer.Typer(
    help="The builder service (see its README).",
    no_args_is_help=True,
)


@app.command()
def run() -> None:
    """Start the builder service's bus worker; Ctrl-C drains and stops it."""
    run_worker(lambda: create_runtime(Settings()))
