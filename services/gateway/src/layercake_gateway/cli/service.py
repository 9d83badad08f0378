"""The gateway's own command line: `run`, `health`, and what reads the ledger itself.

`audit verify`, `token create|revoke`, `replay` and `why` work on the ledger
(LAYERCAKE_LEDGER_URL) offline; the commands over the HTTP API are in
`cli/projects.py` and `cli/prompts.py`, composed by the umbrella `layercake`.
"""

from __future__ import annotations

import contextlib
import getpass
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from layercake_contracts.heartbeat import report
from layercake_gateway.adapters.ledger import Ledger, NoLedger, UnknownProject
from layercake_gateway.core.audit import project_document
from layercake_gateway.core.causes import DECISIONS, INTAKE, causes, named
from layercake_gateway.core.names import name_of
from layercake_gateway.core.project import LedgerError
from layercake_gateway.core.tokens import utc_text
from layercake_gateway.guard import issue_token
from layercake_gateway.settings import Settings

app = typer.Typer(help="The gateway service (see its README).", no_args_is_help=True)


@app.command()
def run() -> None:
    """Start the gateway service's bus worker; Ctrl-C drains and stops it."""
    from layercake_contracts.runtime import run_worker  # noqa: PLC0415  # the bus: only here
    from layercake_gateway.app import create_runtime  # noqa: PLC0415  # the API: only here

    run_worker(lambda: create_runtime(Settings()))


@app.command()
def health() -> None:
    """Exit 0 while the worker's heartbeat is fresh (a container's health check), else 1."""
    report(Settings().heartbeat_file)


audit = typer.Typer(help="Tamper evidence of the ledger.", no_args_is_help=True)


@audit.command()
def verify(
    project: Annotated[str | None, typer.Argument(help="One project; all when left out.")] = None,
) -> None:
    """Walk each project's hash chain; name the first event edited, removed or reordered.

    A store with no project, or a project it does not hold, is no proof: exit 1.
    """
    ledger = _ledger()
    try:
        done = ledger.verify(None if project is None else _known_as(ledger, project))
    except LedgerError as exc:
        typer.echo(f"{exc} (the ledger at {Settings().ledger_url})", err=True)
        raise typer.Exit(1) from exc
    events = sum(done.checked.values())
    if not done.broken:
        names = ", ".join(done.checked)
        typer.echo(f"verified {len(done.checked)} chain(s), {events} events, intact: {names}")
        return
    for name, found in done.broken.items():
        typer.echo(f"{name}: broken at position {found.version}: {found.reason}")
    raise typer.Exit(1)


token = typer.Typer(help="Bearer tokens for the HTTP API.", no_args_is_help=True)


@token.command("create")
def create_token_command(
    context: typer.Context,
    user: Annotated[str, typer.Argument(help="Who the token is for.")],
) -> None:
    """Print a bearer token for USER, signed with LAYERCAKE_JWT_SECRET, and when it expires.

    The token alone goes to stdout (for `$(…)`); its id and expiry to stderr.
    """
    settings = Settings()
    if settings.jwt_secret is None:
        raise typer.BadParameter(
            "set LAYERCAKE_JWT_SECRET first", param_hint="LAYERCAKE_JWT_SECRET"
        )
    made, claims = issue_token(settings.jwt_secret.get_secret_value(), user, settings.token_ttl_s)
    typer.echo(made)
    typer.echo(
        f"token {claims.jti} for {user} expires {utc_text(claims.expires_at)} "
        f"(in {settings.token_ttl_s} s, LAYERCAKE_TOKEN_TTL_S); "
        f"`{context.find_root().info_name} token revoke {claims.jti}` ends it sooner",
        err=True,
    )


@token.command("revoke")
def revoke_token_command(
    jti: Annotated[str, typer.Argument(help="The token's id, as `token create` printed it.")],
) -> None:
    """Refuse the token JTI from now on, on every gateway on the ledger (LAYERCAKE_LEDGER_URL)."""
    if _ledger().revoke(jti, by=getpass.getuser()):
        typer.echo(f"revoked token {jti}")
    else:
        typer.echo(f"token {jti} was revoked already")


app.add_typer(audit, name="audit")
app.add_typer(token, name="token")


def _ledger() -> Ledger:
    """The ledger a reading command works on; exit 1, naming the URL, if there is none."""
    from layercake_gateway.app import create_ledger  # noqa: PLC0415  # not the API's imports

    settings = Settings()
    try:
        return create_ledger(settings, existing=True)
    except NoLedger as exc:
        typer.echo(f"{exc} (LAYERCAKE_LEDGER_URL {settings.ledger_url})", err=True)
        raise typer.Exit(1) from exc


def _known_as(ledger: Ledger, given: str) -> str:
    """The bus id of the project `given` names.

    That is its bus id, or its owner's name for it (what the API and the demo print)
    when one project alone has that name.
    """
    with contextlib.suppress(UnknownProject):
        return ledger.get(given).project_id
    named = sorted(
        p.project_id for p in ledger.projects() if name_of(p.owner, p.project_id) == given
    )
    if len(named) > 1:
        msg = f"{len(named)} projects are called {given!r}: give the bus id, one of {named}"
        raise typer.BadParameter(msg, param_hint="PROJECT")
    if not named:
        raise UnknownProject(given)
    return named[0]


@app.command()
def replay(
    project: Annotated[str, typer.Argument(help="The project id.")],
    at: Annotated[
        int | None, typer.Option(help="The position in the project's history (1 = created).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole state as JSON.")] = False,
) -> None:
    """Rebuild a project from the ledger's events, now or as it stood at a position."""
    ledger = _ledger()
    try:
        project = _known_as(ledger, project)
        state = ledger.get(project)
    except UnknownProject as exc:
        msg = f"{exc} in the ledger at {Settings().ledger_url}"
        raise typer.BadParameter(msg, param_hint="PROJECT") from exc
    if at is not None and not 1 <= at <= state.version:
        msg = f"{project} has positions 1 to {state.version}, not {at}"
        raise typer.BadParameter(msg, param_hint="--at")
    if at is not None:
        state = ledger.get(project, version=at)
    document = project_document(state)
    if as_json:
        typer.echo(json.dumps(document, indent=2, sort_keys=True))
        return
    table = Table(title=f"{project} at position {state.version}")
    for column in ("gate", "state", "missing"):
        table.add_column(column)
    for gate, gate_state in document["gates"].items():
        table.add_row(gate, gate_state, ", ".join(document["missing"][gate]))
    Console().print(table)
    attempts = ", ".join(f"{key}: {count}" for key, count in document["attempts"].items())
    typer.echo(f"attempts: {attempts or 'none'}")
    typer.echo(f"open errors: {sum(1 for e in document['errors'] if not e['resolved_at'])}")
    for number, escalation in enumerate(document["escalations"]):
        facts = "; ".join(f"{k} {v}" for k, v in escalation.items() if v is not None)
        typer.echo(f"escalation {number}: {facts}")


def why(
    project: Annotated[str, typer.Argument(help="The project: its bus id or your name for it.")],
    event_id: Annotated[
        str, typer.Argument(help="One of the project's bus events: its id, or a commit's sha.")
    ],
) -> None:
    """Print the chain of causes from EVENT_ID back to a person's decision or the intake.

    EVENT_ID: an event's id, or a commit's sha (its CommitCreated). One line an event
    (type, gate, id, who), read from the ledger offline. A chain that stops at a cause
    the ledger never saw says so: exit 1.
    """
    ledger = _ledger()
    try:
        seen = ledger.seen(_known_as(ledger, project))
    except UnknownProject as exc:
        msg = f"{exc} in the ledger at {Settings().ledger_url}"
        raise typer.BadParameter(msg, param_hint="PROJECT") from exc
    found = named(seen, event_id)
    if len(found) != 1:
        what = f"{len(found)} commits start with" if found else "no event or commit"
        msg = f"the ledger saw {what} {event_id!r} of {project} ({len(seen)} events seen)"
        raise typer.BadParameter(msg, param_hint="EVENT_ID")
    chain = causes(seen, found[0])
    for depth, link in enumerate(chain):
        arrow = "<- " if depth else ""
        typer.echo(f"{arrow}{link.type} {link.gate or '-'} {link.event_id} by {link.who}")
    last = chain[-1]
    if last.cause is not None:
        typer.echo(f"the chain stops: its cause {last.cause} was never recorded", err=True)
        raise typer.Exit(1)
    ending = "the intake" if last.type == INTAKE else "a person's decision"
    if last.type not in DECISIONS | {INTAKE}:
        ending = "an event that names no cause"
    typer.echo(f"{len(chain)} event(s), back to {ending}")
