"""The `layercake` command: one sub-app per service, each from its own `cli.py`, and `up`/`demo`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from layercake.demo import DEFAULT_PROJECT, DemoFailed, run_demo
from layercake.home import Home, NoHome, alive, find_home, record_path, record_up
from layercake.natsauth import CredentialsRefused
from layercake.ports import PortTaken, PortUnusable
from layercake.up import (
    LOCAL_USER,
    SECRET_FILE,
    SERVER_CONFIG,
    SERVICES,
    AlreadyUp,
    NatsFailed,
    Supervisor,
    UpSettings,
    bus_credentials,
    environment,
    home_stores,
    issue_reader,
    issue_services,
    jwt_secret,
    read_state,
)
from layercake.watch import Stuck, run_watch
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
    export,
    link,
    new,
    open_dashboard,
    prompt,
    prompts,
    reject,
    replay,
    resolve,
    revise,
    select,
    token,
    why,
)
from layercake_gateway.cli import app as gateway_app
from layercake_gateway.cli import status as project_status
from layercake_git.cli import app as git_app
from layercake_git.cli import log
from layercake_parser.cli import app as parser_app
from layercake_parser.cli import parse

_OVER_THE_API = {
    "status", "approve", "reject", "accept", "select", "events", "token", "prompts", "prompt",
    "answer", "escalations", "resolve", "revise", "link", "new", "export", "open",
}  # fmt: skip
# What each command reads from the home, as the settings that stand in for one: without
# a home and without them it stops at once. `up`, `demo` and `creds` make a home; `token`
# says which setting it lacks (a key to sign with, a ledger), and the rest need none.
_STANDS_IN = {
    "replay": ("LAYERCAKE_LEDGER_URL",),
    "why": ("LAYERCAKE_LEDGER_URL",),
    "audit": ("LAYERCAKE_LEDGER_URL",),
    "log": ("LAYERCAKE_WORKSPACES_ROOT",),
    **dict.fromkeys(_OVER_THE_API - {"token"}, ("LAYERCAKE_API_URL",)),
}
_MAKES_ONE = {"up", "demo", "creds"}
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
app.command(name="why")(why)
app.add_typer(audit, name="audit")
app.add_typer(token, name="token")
for command in (new, approve, reject, accept, select, events, prompts, prompt, answer,
                escalations, resolve, revise, link, export):  # fmt: skip
    app.command()(command)
app.command(name="open")(open_dashboard)
app.command(name="log")(log)
creds = typer.Typer(help="Credentials for other systems on the bus.", no_args_is_help=True)
app.add_typer(creds, name="creds")


@app.callback()
def find_the_home(context: typer.Context) -> None:
    """Find the home once (see `layercake.home`); give the command the settings `up` gives.

    Service commands get their stores under it, and with `layercake up` on this
    machine the API commands need no token of your own. What the user set wins.
    """
    command = context.invoked_subcommand or ""
    try:
        home = find_home(Path.cwd(), os.environ, create=command in _MAKES_ONE)
    except NoHome as exc:
        needed = command in _STANDS_IN and not _asks_for_help()
        if needed and not any(environment(n) for n in _STANDS_IN[command]):
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from exc
        context.obj = None
        return
    context.obj = home
    defaults = {"LAYERCAKE_HOME": str(home.path), **home_stores(home.path)}
    if command in _OVER_THE_API:
        defaults |= _local_credentials(home.path)
    if command in SERVICES:  # one more replica beside `up`: signed in as that service
        defaults |= _service_credentials(home.path, command)
    before = dict(os.environ)
    for name, value in defaults.items():
        if environment(name) is None:  # what the user set, in whatever case, wins
            os.environ[name] = value
    # In-process callers (tests, Typer's runner) get their environment back afterwards.
    context.call_on_close(lambda: _restore(before))


def _asks_for_help() -> bool:
    """Whether the command line asks for a command's help, which needs no home.

    A group's callback runs before Click parses the command's own options: read the line.
    """
    return "--help" in sys.argv[1:]


def _local_credentials(home: Path) -> dict[str, str]:
    """A short-lived token signed with the home's key, and the API of its running `up`."""
    state = read_state(home)
    url = str(state["api_url"]) if state is not None else UpSettings().api_url
    if environment("LAYERCAKE_JWT_SECRET") is None and not (home / SECRET_FILE).exists():
        return {"LAYERCAKE_API_URL": url}
    secret = jwt_secret(home)
    return {
        "LAYERCAKE_JWT_SECRET": secret,
        "LAYERCAKE_TOKEN": create_token(secret, LOCAL_USER, LOCAL_TOKEN_TTL_S),
        "LAYERCAKE_API_URL": url,
    }


def _service_credentials(home: Path, service: str) -> dict[str, str]:
    """The service's own seed in the home, and the bus of the home's running `up`."""
    state = read_state(home)
    url = str(state["nats_url"]) if state is not None else UpSettings().nats_url
    seed = bus_credentials(home).seed_file(service)
    return {"LAYERCAKE_NATS_URL": url, "LAYERCAKE_NATS_NKEY_SEED_FILE": str(seed)}


def _restore(before: dict[str, str]) -> None:
    for name in set(os.environ) - set(before):
        del os.environ[name]


@app.command()
def up(context: typer.Context) -> None:
    """Start a nats-server and the five services (with the HTTP API); Ctrl-C stops them all."""
    console = Console()
    supervisor = Supervisor(UpSettings(), lambda line: console.print(f"[bold]up[/]: {line}"))
    console.print(f"[bold]up[/]: {escape(str(context.obj))}", highlight=False)
    try:
        supervisor.run(on_started=lambda: record_up(record_path(os.environ), supervisor.home))
    except (AlreadyUp, PortTaken, PortUnusable, NatsFailed) as exc:
        typer.echo(f"{exc}; {context.obj}", err=True)
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
def watch(
    context: typer.Context,
    project: Annotated[str, typer.Argument(help="The project id, as `layercake new` printed it.")],
    timeout: Annotated[
        float, typer.Option(help="Stop watching after this many seconds.")
    ] = 86400.0,
) -> None:
    """Follow a project live: each gate, role, build and heal, and what awaits you.

    It ends when the release is pushed (exit 0) or at an open escalation (exit 1), saying
    what each way of resolving it does.
    """
    console = Console()
    home = context.obj.path if isinstance(context.obj, Home) else UpSettings().home.resolve()
    try:
        run_watch(project, home=home, timeout_s=timeout, console=console)
    except Stuck as exc:
        console.print(f"[bold red]{project} waits for you[/]:")
        console.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    except DemoFailed as exc:
        console.print(f"[bold red]stopped watching[/]: {exc}", highlight=False)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@app.command()
def status(
    context: typer.Context,
    project: Annotated[
        str | None, typer.Argument(help="A project id; without one, what `up` runs.")
    ] = None,
) -> None:
    """Show a project's gates, or without a project the processes `layercake up` runs."""
    if project is not None:
        project_status(project)
        return
    home: Home | None = context.obj
    state = None if home is None else read_state(home.path)
    if state is None:
        where = home or "no home found"
        typer.echo(f"LayerCake is not running ({where}): start it with `layercake up`", err=True)
        raise typer.Exit(1)
    typer.echo(str(home))
    table = Table(title=f"layercake up (pid {state['pid']})")
    for column in ("process", "pid", "running", "restarts"):
        table.add_column(column)
    services = state["services"]
    assert isinstance(services, dict)  # noqa: S101  # written by `up` itself
    for name, facts in services.items():
        pid = facts["pid"]
        running = isinstance(pid, int) and alive(pid)
        table.add_row(name, str(pid), "yes" if running else "no", str(facts["restarts"]))
    Console().print(table)
    api = str(state["api_url"])
    typer.echo(f"NATS {state['nats_url']}; API {api}: {_health(api)}")


def _health(url: str) -> str:
    """What the API's /healthz says, in a few words."""
    try:
        answer = httpx.get(f"{url}/healthz", timeout=5)
    except httpx.HTTPError as exc:
        return f"unreachable ({exc})"
    if answer.status_code == 200:  # noqa: PLR2004
        return "ok (store and bus answer)"
    try:
        return f"{answer.status_code}: {answer.json()['detail']}"
    except (ValueError, KeyError, TypeError):
        return f"{answer.status_code}: {answer.text[:200]}"


def main() -> None:
    """Entry point of the `layercake` script."""
    app()
