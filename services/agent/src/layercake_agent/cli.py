"""`layercake agent ...`: the agent service's commands."""

import asyncio

import typer

from layercake_agent.app import create_runtime
from layercake_agent.settings import Settings
from layercake_contracts.runtime import serve

app = typer.Typer(
    help="The agent service (see its README).",
    no_args_is_help=True,
)


@app.command()
def run() -> None:
    """Start the agent service's bus worker; Ctrl-C drains and stops it."""
    asyncio.run(serve(create_runtime(Settings())))
