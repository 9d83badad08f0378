"""The `layercake` command: one sub-app per service, each from its own `cli.py`, and `up`/`demo`."""

from __future__ import annotations

import os
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from layercake.demo import DEFAULT_PROJECT, DemoFailed, run_demo
from layercake.natsauth import CredentialsRefused
from layercake.up import (
    LOCAL_USER,
    SECRET_FILE,
    SERVER_CONFIG,
    AlreadyUp,
    Supervisor,
    UpSettings,
    alive,
    environment,
    issue_reader,
    issue_services,
    jwt_secret,
    read_state,
)
from layercake_agent.cli import app as agent_app
from layercake_builder.cli import app as builder_app
from layercake_builder.cli import build
from layercake_contracts.bus import subject_filter
from layercake_gateway.api import create_token
from layercake_gateway.cli import (
    accept,
    answer,
    approve,
    audit,
    escalations,
    events,
    prompt,
    prompts,
    reject,
    replay,
    resolve,
    revise,
    select,
    token,
)
from layercake_gateway.cli import app as gateway_app
from layercake_gateway.cli import status as project_status
from layercake_git.cli import app as git_app
from layercake_git.cli import log
from layercake_parser.cli import app as parser_app
from layercake_parser.cli import parse

_OVER_THE_API = {
    "status", "approve", "reject", "accept", "select", "events", "token", "prompts", "prompt",
    "answer", "escalations", "resolve", "revise",
}  # fmt: skip
# The token a local command signs for itself: it needs it for seconds (`events --follow`
# authenticates once, at the start), so a copy found later is soon worthless.
LOCAL_TOKEN_TTL_S = 300

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
for command in (approve, reject, accept, select, events, prompts, prompt, answer, escalations,
                resolve, revise):  # fmt: skip
    app.command()(command)
app.command(name="log")(log)
creds = typer.Typer(help="Credentials for other systems on the bus.", no_args_is_help=True)
app.add_typer(creds, name="creds")


@app.callback()
def local_credentials(context: typer.Context) -> None:
    """With `layercake up` on this machine, the API commands need no token of your own."""
    if context.invoked_subcommand not in _OVER_THE_API:
        return
    settings = UpSettings()
    given = environment("LAYERCAKE_JWT_SECRET")
    if given is None and not (settings.home / SECRET_FILE).exists():
        return
    secret = jwt_secret(settings.home)
    defaults = {
        "LAYERCAKE_JWT_SECRET": secret,
        "LAYERCAKE_TOKEN": create_token(secret, LOCAL_USER, LOCAL_TOKEN_TTL_S),
        "LAYERCAKE_API_URL": settings.api_url,
    }
    for name, value in defaults.items():
        if environment(name) is None:  # what the user set, in whatever case, wins
            os.environ[name] = value


@app.command()
def up() -> None:
    """Start a nats-server and the five services (with the HTTP API); Ctrl-C stops them all."""
    console = Console()
    try:
        Supervisor(UpSettings(), lambda line: console.print(f"[bold]up[/]: {line}")).run()
    except AlreadyUp as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc


@creds.command("init")
def creds_init() -> None:
    """Issue the services' credentials and the nats-server's config, as `up` does (for compose)."""
    folder = issue_services(UpSettings())
    typer.echo(f"a seed per service and {SERVER_CONFIG} in {folder}")


@creds.command("create")
def creds_create(
    name: Annotated[str, typer.Argument(help="Who they are for; also their consumer's name.")],
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Read events, nothing else (the only kind).")
    ] = False,
    project: Annotated[
        str | None, typer.Option(help="Only this project's events (default: every project's).")
    ] = None,
) -> None:
    """Issue NATS credentials that may follow the events and do nothing else."""
    if not read_only:
        typer.echo(
            "only --read-only credentials are issued: a system that acts does it through the"
            " HTTP API, as a user (`layercake token create USER`)",
            err=True,
        )
        raise typer.Exit(2)
    try:
        seed = issue_reader(UpSettings(), name, project)
    except CredentialsRefused as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    events = subject_filter(None, project or "*")
    typer.echo(
        f"nkey seed: {seed} (keep it secret)\n"
        f"reads {events} through its own durable consumer {name!r} on stream LC_EVENTS,"
        f" inbox prefix _INBOX_{name}; publishing anything is refused"
    )


@app.command()
def demo(
    yes: Annotated[
        bool, typer.Option("--yes", help="Approve every gate and pick design A for you.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 900.0,
    project: Annotated[
        str, typer.Option(help="Which shipped project: tally (a CLI) or shelf (a web app).")
    ] = DEFAULT_PROJECT,
) -> None:
    """Walk a shipped project from G0 to G9, offline, with recorded model answers."""
    console = Console()
    try:
        run_demo(yes=yes, timeout_s=timeout, console=console, project=project)
    except DemoFailed as exc:
        console.print(f"[bold red]the demo stopped[/]: {exc}")
        raise typer.Exit(1) from exc


@app.command()
def status(
    project: Annotated[
        str | None, typer.Argument(help="A project id; without one, what `up` runs.")
    ] = None,
) -> None:
    """Show a project's gates, or without a project the processes `layercake up` runs."""
    if project is not None:
        project_status(project)
        return
    settings = UpSettings()
    state = read_state(settings.home.resolve())
    if state is None:
        typer.echo(f"layercake up is not running (home {settings.home.resolve()})")
        raise typer.Exit(1)
    table = Table(title=f"layercake up (pid {state['pid']})")
    for column in ("process", "pid", "running", "restarts"):
        table.add_column(column)
    services = state["services"]
    assert isinstance(services, dict)  # noqa: S101  # written by `up` itself
    for name, facts in services.items():
        pid = facts["pid"]
        running = isinstance(pid, int) and alive(pid)
        table.add_row(name, str(pid), "yes" if running else "no", str(facts["restarts"]))
    console = Console()
    console.print(table)
    try:
        health = httpx.get(f"{state['api_url']}/healthz", timeout=5).json()
    except (httpx.HTTPError, ValueError) as exc:
        health = {"status": f"unreachable: {exc}"}
    console.print(f"NATS {state['nats_url']}; API {state['api_url']}: {health}")


def main() -> None:
    """Entry point of the `layercake` script."""
    app()
