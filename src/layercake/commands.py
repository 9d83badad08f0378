"""The umbrella's own commands: `up`, `creds`, `demo`, `watch` and `status`.

`layercake.cli` imports this module only when one of them runs (or help lists them).
"""

from __future__ import annotations

import os
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from layercake.demo import DEFAULT_PROJECT, DemoFailed, run_demo
from layercake.home import Home, alive, record_path, record_up
from layercake.natsauth import CredentialsRefused
from layercake.ports import PortTaken, PortUnusable
from layercake.stores import read_state
from layercake.up import (
    SERVER_CONFIG,
    AlreadyUp,
    NatsFailed,
    Supervisor,
    UpSettings,
    issue_reader,
    issue_services,
)
from layercake.watch import Stuck, run_watch
from layercake_contracts.bus import subject_filter
from layercake_gateway.cli.projects import status as project_status

creds = typer.Typer(help="Credentials for other systems on the bus.", no_args_is_help=True)


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
