"""The `layercake` command: one sub-app per service, each from its own `cli.py`."""

import typer

from layercake_agent.cli import app as agent_app
from layercake_builder.cli import app as builder_app
from layercake_builder.cli import build
from layercake_gateway.cli import app as gateway_app
from layercake_gateway.cli import approve, audit, events, reject, replay, select, status, token
from layercake_git.cli import app as git_app
from layercake_git.cli import log
from layercake_parser.cli import app as parser_app
from layercake_parser.cli import parse

app = typer.Typer(
    help="LayerCake: a project description in, a tested, committed codebase out.",
    no_args_is_help=True,
)
app.add_typer(parser_app, name="parser")
app.add_typer(builder_app, name="builder")
app.add_typer(agent_app, name="agent")
app.add_typer(git_app, name="git")
app.add_typer(gateway_app, name="gateway")
app.command(name="parse")(parse)
app.command(name="build")(build)
app.command(name="replay")(replay)
app.add_typer(audit, name="audit")
app.add_typer(token, name="token")
for command in (status, approve, reject, select, events):
    app.command()(command)
app.command(name="log")(log)


def main() -> None:
    """Entry point of the `layercake` script."""
    app()
