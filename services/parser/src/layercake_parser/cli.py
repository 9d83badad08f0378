"""`layercake parser ...`: the parser service's commands."""

import asyncio

import typer

from layercake_contracts.runtime import serve
from layercake_parser.app import create_runtime
from layercake_parser.settings import Settings

app = typer.Typer(
    help="The parser service (see its README).",
    no_args_is_help=True,
)


@app.command()
def run() -> None:
    """Start the parser service's bus worker; Ctrl-C drains and stops it."""
    asyncio.run(serve(create_runtime(Settings())))
