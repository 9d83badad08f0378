"""`layercake gateway ...`: the gateway service's commands."""

import typer

from layercake_contracts.runtime import run_worker
from layercake_gateway.app import create_runtime
from layercake_gateway.settings import Settings

app = typer.Typer(
    help="The gateway service (see its README).",
    no_args_is_help=True,
)


@app.command()
def run() -> None:
    """Start the gateway service's bus worker; Ctrl-C drains and stops it."""
    run_worker(lambda: create_runtime(Settings()))
