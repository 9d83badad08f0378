"""`layercake gateway run` and `layercake replay`: the gateway's commands."""

from __future__ import annotations

import getpass
import json
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from layercake_contracts.runtime import run_worker
from layercake_gateway.adapters.ledger import UnknownProject
from layercake_gateway.api import issue_token
from layercake_gateway.app import create_ledger, create_runtime
from layercake_gateway.core.audit import project_document
from layercake_gateway.core.tokens import utc_text
from layercake_gateway.settings import Settings

app = typer.Typer(help="The gateway service (see its README).", no_args_is_help=True)


@app.command()
def run() -> None:
    """Start the gateway service's bus worker; Ctrl-C drains and stops it."""
    run_worker(lambda: create_runtime(Settings()))


audit = typer.Typer(help="Tamper evidence of the ledger.", no_args_is_help=True)


@audit.command()
def verify(
    project: Annotated[str | None, typer.Argument(help="One project; all when left out.")] = None,
) -> None:
    """Walk each project's hash chain; name the first event edited, removed or reordered."""
    broken = create_ledger(Settings()).verify(project)
    if not broken:
        typer.echo(f"verified: {'project ' + project if project else 'every project'} is intact")
        return
    for name, found in broken.items():
        typer.echo(f"{name}: broken at position {found.version}: {found.reason}")
    raise typer.Exit(1)


token = typer.Typer(help="Bearer tokens for the HTTP API.", no_args_is_help=True)


@token.command("create")
def create_token_command(
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
        f"`layercake token revoke {claims.jti}` ends it sooner",
        err=True,
    )


@token.command("revoke")
def revoke_token_command(
    jti: Annotated[str, typer.Argument(help="The token's id, as `token create` printed it.")],
) -> None:
    """Refuse the token JTI from now on, on every gateway on the ledger (LAYERCAKE_LEDGER_URL)."""
    if create_ledger(Settings()).revoke(jti, by=getpass.getuser()):
        typer.echo(f"revoked token {jti}")
    else:
        typer.echo(f"token {jti} was revoked already")


def _client() -> httpx.Client:
    settings = Settings()
    if settings.token is None:
        raise typer.BadParameter("set LAYERCAKE_TOKEN (see `layercake token create`)",
                                 param_hint="LAYERCAKE_TOKEN")  # fmt: skip
    headers = {"Authorization": f"Bearer {settings.token.get_secret_value()}"}
    return httpx.Client(base_url=settings.api_url, headers=headers, timeout=30)


def _call(method: str, path: str, body: dict[str, str] | None = None) -> Any:  # noqa: ANN401  # the API's JSON
    """The API's answer; an unreachable gateway exits 2, a refusal exits 1, both saying why."""
    with _client() as client:
        try:
            response = client.request(method, path, json=body)
        except httpx.TransportError as exc:
            typer.echo(f"cannot reach the gateway at {client.base_url}: {exc}", err=True)
            raise typer.Exit(2) from exc
    if response.status_code >= 400:  # noqa: PLR2004
        typer.echo(f"{response.status_code}: {response.text}", err=True)
        raise typer.Exit(1)
    return response.json()


def status(project: Annotated[str, typer.Argument(help="The project id.")]) -> None:
    """Show a project's gates (state, the proof each still lacks) and its open escalations."""
    gates = _call("GET", f"/projects/{project}/gates")
    table = Table(title=project)
    for column in ("gate", "state", "missing"):
        table.add_column(column)
    for gate in gates:
        table.add_row(gate["gate"], gate["state"], ", ".join(gate["missing"]))
    Console().print(table)
    for number, escalation in enumerate(_call("GET", f"/projects/{project}/escalations")):
        if escalation["resolved_at"] is None:  # plain text: a reason is no markup
            typer.echo(
                f"open escalation {number}: {escalation['kind']} at "
                f"{escalation['gate']}, {escalation['role']} (attempt {escalation['attempt']}): "
                f"{escalation['reason']}"
            )


def approve(
    project: Annotated[str, typer.Argument(help="The project id.")],
    gate: Annotated[str, typer.Argument(help="The gate, G0 to G9.")],
) -> None:
    """Approve a gate."""
    result = _call("POST", f"/projects/{project}/gates/{gate}/approve")
    typer.echo(f"{gate} approved; gates: {result['gates']}")


def reject(
    project: Annotated[str, typer.Argument(help="The project id.")],
    gate: Annotated[str, typer.Argument(help="The gate, G0 to G9.")],
    reason: Annotated[str, typer.Option(help="Why; the agents work again with it.")],
) -> None:
    """Reject a gate with a reason."""
    _call("POST", f"/projects/{project}/gates/{gate}/reject", {"reason": reason})
    typer.echo(f"{gate} rejected: {reason}")


def accept(
    project: Annotated[str, typer.Argument(help="The project id.")],
    reason: Annotated[str, typer.Option(help="Why the findings may stand.")],
) -> None:
    """Accept G7's open findings (an audit that could not run, high ones) with a reason."""
    gates = _call("POST", f"/projects/{project}/findings/accept", {"reason": reason})["gates"]
    typer.echo(f"G7 findings accepted ({reason}); G7 is {gates['G7']}")


def select(
    project: Annotated[str, typer.Argument(help="The project id.")],
    option: Annotated[str, typer.Argument(help="The design option, e.g. option-b.")],
) -> None:
    """Choose one of the G4 design options."""
    _call("POST", f"/projects/{project}/design", {"option": option})
    typer.echo(f"selected {option}")


def events(
    project: Annotated[str, typer.Argument(help="The project id.")],
    follow: Annotated[bool, typer.Option("--follow", help="Keep printing new events.")] = False,
) -> None:
    """Print a project's events (type and body), one per line."""
    with _client() as client, client.stream("GET", f"/projects/{project}/events",
                                            timeout=None if follow else 3) as response:  # fmt: skip
        if response.status_code >= 400:  # noqa: PLR2004
            typer.echo(f"{response.status_code}: {response.read().decode()}", err=True)
            raise typer.Exit(1)
        event = ""
        try:
            for line in response.iter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    typer.echo(f"{event} {line.removeprefix('data: ')}")
        except httpx.ReadTimeout:
            return  # without --follow: what there is, then stop


def replay(
    project: Annotated[str, typer.Argument(help="The project id.")],
    at: Annotated[
        int | None, typer.Option(help="The position in the project's history (1 = created).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole state as JSON.")] = False,
) -> None:
    """Rebuild a project from the ledger's events, now or as it stood at a position."""
    ledger = create_ledger(Settings())
    try:
        state = ledger.get(project, version=at)
    except UnknownProject as exc:
        raise typer.BadParameter(str(exc), param_hint="PROJECT") from exc
    document = project_document(state)
    if as_json:
        typer.echo(json.dumps(document, indent=2, sort_keys=True))
        return
    console = Console()
    table = Table(title=f"{project} at position {state.version}")
    for column in ("gate", "state", "missing"):
        table.add_column(column)
    for gate, gate_state in document["gates"].items():
        table.add_row(gate, gate_state, ", ".join(document["missing"][gate]))
    console.print(table)
    console.print(f"attempts: {document['attempts']}")
    console.print(f"open errors: {sum(1 for e in document['errors'] if not e['resolved_at'])}")
    for escalation in document["escalations"]:
        console.print(f"escalation: {escalation}")
