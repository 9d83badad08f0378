"""The `layercake` command: one sub-app per service, each from its own `cli.py`, and `up`/`demo`.

Commands are imported when they run (`COMMANDS`): `layercake parse` loads the parser's
code and not the gateway's, which keeps each command's start short.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

from layercake.home import NoHome, find_home
from layercake.stores import (
    LOCAL_USER,
    SECRET_FILE,
    SERVICES,
    environment,
    home_stores,
    jwt_secret,
    read_state,
)

if TYPE_CHECKING:  # Typer ships its own copy of Click, whose classes its own are made of
    from typer._click import Command, Context

_GATEWAY = "layercake_gateway.cli"
# Each command and group, and where it is defined: its module is imported only when it runs
# (or `--help` lists it), so that a command loads its own service's code and no other's.
COMMANDS = {
    "parse": "layercake_parser.cli:parse",
    "build": "layercake_builder.cli:build",
    **{name: f"{_GATEWAY}.service:{name}" for name in ("replay", "why", "audit", "token")},
    **{name: f"{_GATEWAY}.projects:{name}" for name in ("new", "approve", "reject", "accept",
       "select", "events", "escalations", "resolve", "revise", "link", "export")},
    "open": f"{_GATEWAY}.projects:open_dashboard",
    **{name: f"{_GATEWAY}.prompts:{name}" for name in ("prompts", "prompt", "answer")},
    "log": "layercake_git.cli:log",
    **{name: f"layercake.commands:{name}" for name in ("up", "demo", "watch", "status")},
    # Each service's own app; the gateway's cli is a package (its service, its API's commands).
    **{name: f"layercake_{name}.cli:app" for name in SERVICES if name != "gateway"},
    "gateway": f"{_GATEWAY}.service:app",
    "creds": "layercake.commands:creds",
}  # fmt: skip


class LazyGroup(TyperGroup):
    """The `layercake` group: a command is imported from where `COMMANDS` says when asked for."""

    def list_commands(self, ctx: Context) -> list[str]:
        """Every command's name, in the order of `COMMANDS`, none of them imported."""
        return [*super().list_commands(ctx), *(n for n in COMMANDS if n not in self.commands)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        """The command `cmd_name`, imported the first time it is asked for."""
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(_load(cmd_name, COMMANDS[cmd_name]), cmd_name)
        return super().get_command(ctx, cmd_name)


def _load(name: str, where: str) -> Command:
    """The Click command of a Typer app (a group) or of a function (a command), named `name`."""
    module, attribute = where.split(":")
    found = getattr(importlib.import_module(module), attribute)
    if isinstance(found, typer.Typer):
        group = typer.main.get_group(found)
        group.name = name
        return group
    single = typer.Typer(add_completion=False)  # the completion options are the root's
    single.command(name=name)(found)
    return typer.main.get_command(single)


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
_STARTS = {"up", "demo"}
_MAKES_ONE = {*_STARTS, "creds"}
# The token a local command signs for itself: it needs it for seconds (`events --follow`
# authenticates once, at the start), so a copy found later is soon worthless.
LOCAL_TOKEN_TTL_S = 300

app = typer.Typer(
    cls=LazyGroup,
    help="LayerCake: a project description in, a tested, committed codebase out.",
    no_args_is_help=True,
)


@app.callback()
def find_the_home(context: typer.Context) -> None:
    """Find the home once (see `layercake.home`); give the command the settings `up` gives.

    Service commands get their stores under it, and with `layercake up` on this
    machine the API commands need no token of your own. What the user set wins.
    """
    command = context.invoked_subcommand or ""
    try:
        home = find_home(
            Path.cwd(), os.environ, create=command in _MAKES_ONE, starting=command in _STARTS
        )
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
    if state is not None:
        url = str(state["api_url"])
    else:
        from layercake.up import UpSettings  # noqa: PLC0415  # the bus's code: only if needed

        url = UpSettings().api_url
    if environment("LAYERCAKE_JWT_SECRET") is None and not (home / SECRET_FILE).exists():
        return {"LAYERCAKE_API_URL": url}
    from layercake_gateway.guard import create_token  # noqa: PLC0415  # jwt: only if needed

    secret = jwt_secret(home)
    return {
        "LAYERCAKE_JWT_SECRET": secret,
        "LAYERCAKE_TOKEN": create_token(secret, LOCAL_USER, LOCAL_TOKEN_TTL_S),
        "LAYERCAKE_API_URL": url,
    }


def _service_credentials(home: Path, service: str) -> dict[str, str]:
    """The service's own seed in the home, and the bus of the home's running `up`."""
    from layercake.up import UpSettings, bus_credentials  # noqa: PLC0415  # the bus's code

    state = read_state(home)
    url = str(state["nats_url"]) if state is not None else UpSettings().nats_url
    seed = bus_credentials(home).seed_file(service)
    return {"LAYERCAKE_NATS_URL": url, "LAYERCAKE_NATS_NKEY_SEED_FILE": str(seed)}


def _restore(before: dict[str, str]) -> None:
    for name in set(os.environ) - set(before):
        del os.environ[name]


def main() -> None:
    """Entry point of the `layercake` script."""
    app()
