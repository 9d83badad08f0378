"""`layercake gateway run`, `replay`, `why` and the commands over the HTTP API (the gateway CLI)."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import sys
import time
import webbrowser
from typing import Annotated, Any

import httpx
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


def _not_running(settings: Settings) -> typer.Exit:
    """Say, in one line, that the API does not answer; the exit to raise."""
    home = f"home {settings.home}" if settings.home else "LAYERCAKE_HOME unset"
    typer.echo(
        f"LayerCake is not running at {settings.api_url} ({home}): start it with `layercake up`",
        err=True,
    )
    return typer.Exit(2)


def _client() -> httpx.Client:
    settings = Settings()
    if settings.token is None:
        raise typer.BadParameter("set LAYERCAKE_TOKEN (see `layercake token create`)",
                                 param_hint="LAYERCAKE_TOKEN")  # fmt: skip
    headers = {"Authorization": f"Bearer {settings.token.get_secret_value()}"}
    return httpx.Client(base_url=settings.api_url, headers=headers, timeout=30)


def _call(method: str, path: str, body: dict[str, Any] | None = None) -> Any:  # noqa: ANN401  # the API's JSON
    """The API's answer as JSON (see `_answer`)."""
    return _answer(method, path, body).json()


def _answer(method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    """The API's answer; an unreachable gateway exits 2, a refusal exits 1, both saying why."""
    with _client() as client:
        try:
            response = client.request(method, path, json=body)
        except httpx.TransportError as exc:
            raise _not_running(Settings()) from exc
    if response.status_code >= 400:  # noqa: PLR2004
        typer.echo(f"{response.status_code}: {response.text}", err=True)
        raise typer.Exit(1)
    return response


def prompts(
    project: Annotated[
        str | None, typer.Argument(help="A project id; without one, all your projects.")
    ] = None,
    wait: Annotated[
        float, typer.Option(min=0, help="Seconds to wait for a prompt when none awaits yet.")
    ] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a prompt.")] = False,
    every: Annotated[bool, typer.Option("--all", help="The answered prompts too.")] = False,
) -> None:
    """List the prompts awaiting an answer (LAYERCAKE_PROVIDER=manual), oldest first.

    With `--wait`, an empty list is asked again each second; still empty at the end: exit 1.
    """
    deadline = time.monotonic() + wait
    state = "all" if every else "awaited"
    while not (found := _listed(project, state)) and time.monotonic() < deadline:
        time.sleep(min(1.0, max(deadline - time.monotonic(), 0.0)))
    if not found:
        what = "was announced" if every else "awaits an answer"
        typer.echo(f"no prompt {what}" + (f" after {wait:g} s" if wait else ""), err=True)
        if wait:
            raise typer.Exit(1)
        return
    if as_json:
        for entry in found:
            typer.echo(json.dumps(entry, sort_keys=True))
    else:
        table = Table(title="prompts" if every else "awaited prompts")
        for column in ("n", "project", "role", "gate", "attempt", "size", "file", "answered by"):
            table.add_column(column, overflow="fold")
        for e in found:
            table.add_row(str(e["number"]), e["project"], e["role"], e["gate"],
                          str(e["attempt"]), str(e["size"]), e["file"],
                          e["answered_by"] or "")  # fmt: skip
        Console(width=200).print(table)


def _listed(project: str | None, state: str = "awaited") -> list[dict[str, Any]]:
    """The prompts of `project` (or of every project of the caller) in `state`, each naming it."""
    names = [project] if project else [p["project_id"] for p in _call("GET", "/projects")]
    return [
        {**entry, "project": name} for name in names
        for entry in _call("GET", f"/projects/{name}/prompts?state={state}")
    ]  # fmt: skip


def prompt(
    project: Annotated[str, typer.Argument(help="The project id.")],
    number: Annotated[int, typer.Argument(min=1, help="The prompt's number, as listed.")],
) -> None:
    """Print one prompt's text (Markdown) to stdout."""
    typer.echo(_answer("GET", f"/projects/{project}/prompts/{number}").text, nl=False)


def answer(
    project: Annotated[str, typer.Argument(help="The project id.")],
    file: Annotated[typer.FileText, typer.Argument(help="The answer (Markdown); - reads stdin.")],
    number: Annotated[
        int | None,
        typer.Option("--prompt", min=1, help="Which prompt (default: the oldest awaited)."),
    ] = None,
) -> None:
    """Answer a prompt with FILE's text; the agent passes it on as the model's answer."""
    text = file.read()
    if not text.strip():
        raise typer.BadParameter("the answer is empty", param_hint="FILE")
    awaited = _listed(project)
    if not awaited:
        typer.echo(f"{project}: no prompt awaits an answer", err=True)
        raise typer.Exit(1)
    chosen = awaited[0] if number is None else next(
        (e for e in awaited if e["number"] == number), None
    )  # fmt: skip
    if chosen is None:
        waiting = ", ".join(str(e["number"]) for e in awaited)
        typer.echo(f"{project}: prompt {number} awaits no answer (these do: {waiting})", err=True)
        raise typer.Exit(1)
    sent = _call("POST", f"/projects/{project}/prompts/{chosen['number']}/answer", {"text": text})
    typer.echo(
        f"answered prompt {chosen['number']} of {project} ({chosen['role']} at {chosen['gate']}, "
        f"attempt {chosen['attempt']}) with {sent['size']} characters: event {sent['event_id']}"
    )


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
    _show_open_errors(project)


def approve(
    project: Annotated[str, typer.Argument(help="The project id.")],
    gate: Annotated[str, typer.Argument(help="The gate, G0 to G9.")],
) -> None:
    """Approve a gate."""
    result = _call("POST", f"/projects/{project}/gates/{gate}/approve")
    typer.echo(f"{gate} approved; gates now:")
    for name, state in result["gates"].items():
        typer.echo(f"  {name}  {state}")


def reject(
    project: Annotated[str, typer.Argument(help="The project id.")],
    gate: Annotated[str, typer.Argument(help="The gate, G0 to G9.")],
    reason: Annotated[str, typer.Option(help="Why; the agents work again with it.")],
) -> None:
    """Reject a gate with a reason."""
    _call("POST", f"/projects/{project}/gates/{gate}/reject", {"reason": reason})
    typer.echo(f"{gate} rejected: {reason}")
    follows = {
        "G0": f"G0 awaits a revised intake: layercake revise {project} --intake FILE",
        "G9": "G8 works again with the reason; G9 opens again once G8 is approved",
    }
    if gate.upper() in follows:
        typer.echo(follows[gate.upper()])


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


def link(
    project: Annotated[str, typer.Argument(help="The project id.")],
    path: Annotated[
        str | None, typer.Argument(help="A page of it, e.g. design/option-a (else the project).")
    ] = None,
) -> None:
    """Print a one-time sign-in URL that opens PROJECT (or its PATH) in a browser.

    The URL alone goes to stdout; when it expires to stderr. It signs in once, for
    two minutes; the browser then keeps a session cookie, not the URL's code.
    """
    page = f"/projects/{project}" + (f"/{path.lstrip('/')}" if path else "")
    made = _signin_link(project, page)
    typer.echo(made["url"])
    typer.echo(f"opens {page} once, until {made['expires_at']}", err=True)


def _signin_link(project: str | None, page: str) -> dict[str, Any]:
    """A one-time sign-in link to `page`; a `project` not yours is named, not linked to."""
    if project is not None:
        _call("GET", f"/projects/{project}")
    made: dict[str, Any] = _call("POST", "/signin-links", {"next": page})
    return made


def open_dashboard(
    project: Annotated[
        str | None, typer.Argument(help="A project to open (else the projects list).")
    ] = None,
    print_url: Annotated[
        bool, typer.Option("--print-url", help="Print the one-time sign-in URL; open nothing.")
    ] = False,
) -> None:
    """Open the dashboard in a browser, signed in (the URL holds a one-time code, no token)."""
    page = f"/ui/projects/{project}" if project else "/ui"
    made = _signin_link(project, page)
    if not print_url and _opened_in_a_browser(made["url"]):
        typer.echo(f"opened {page} in your browser")
        return
    typer.echo(made["url"])
    if not print_url:
        typer.echo("no browser here: open the URL above in one", err=True)
    typer.echo(f"it signs in once, until {made['expires_at']}, and opens {page}", err=True)


def _opened_in_a_browser(url: str) -> bool:
    """Whether a graphical browser took `url`; never a text one, in this terminal."""
    graphical = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if sys.platform.startswith("linux") and not graphical:
        return False
    return webbrowser.open(url)


def events(
    project: Annotated[str, typer.Argument(help="The project id.")],
    follow: Annotated[bool, typer.Option("--follow", help="Keep printing new events.")] = False,
) -> None:
    """Print a project's events (type and body), one per line.

    With `--follow`, until the gateway stops: then one line says so, and exit 1.
    """
    try:
        _print_events(project, follow=follow)
    except httpx.ReadTimeout:
        return  # without --follow: what there is, then stop
    except httpx.ConnectError as exc:
        raise _not_running(Settings()) from exc
    except httpx.TransportError as exc:
        typer.echo(f"the event stream of {project} ended: the gateway stopped ({exc})", err=True)
        raise typer.Exit(1) from exc


def _print_events(project: str, *, follow: bool) -> None:
    with _client() as client, client.stream("GET", f"/projects/{project}/events",
                                            timeout=None if follow else 3) as response:  # fmt: skip
        if response.status_code >= 400:  # noqa: PLR2004
            typer.echo(f"{response.status_code}: {response.read().decode()}", err=True)
            raise typer.Exit(1)
        event = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                typer.echo(f"{event} {line.removeprefix('data: ')}")


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


RECENT_ERRORS = 5


def _show_open_errors(project: str) -> None:
    """The latest errors nothing has resolved yet, one line each."""
    found = _call("GET", f"/projects/{project}/errors?resolved=false")
    for error in found[-RECENT_ERRORS:]:
        message = str(error.get("message", "")).strip().splitlines() or [""]
        where = f"{error.get('file')}: " if error.get("file") else ""
        typer.echo(
            f"error at {error['gate']}, {error['role']} (attempt {error['attempt']}), "
            f"{error.get('tool', '?')}: {where}{message[0][:200]}"
        )
    if len(found) > RECENT_ERRORS:
        typer.echo(f"({len(found) - RECENT_ERRORS} earlier open errors: GET …/errors)")


def escalations(
    project: Annotated[str, typer.Argument(help="The project id.")],
    every: Annotated[bool, typer.Option("--all", help="The resolved ones too.")] = False,
) -> None:
    """List the escalations waiting for you, numbered: kind, gate, role, reason, what to do."""
    found = _call("GET", f"/projects/{project}/escalations")
    shown = [e for e in found if every or e["resolved_at"] is None]
    if not shown:
        typer.echo(f"{project}: no {'' if every else 'open '}escalation")
        return
    for line in escalation_lines(project, shown):  # plain text: a reason is no markup
        typer.echo(line)


def escalation_lines(project: str, listed: list[dict[str, Any]]) -> list[str]:
    """Each escalation as the API lists it, then how it was resolved or how it may be.

    An open one gets each `layercake resolve` command, with what it does.
    """
    lines = []
    for e in listed:
        lines.append(f"{e['number']}. {e['kind']} at {e['gate']}, {e['role']} "
                     f"(attempt {e['attempt']}): {e['reason']}")  # fmt: skip
        if e["resolved_at"] is not None:
            how = e.get("action") or "decide"
            lines.append(f"   resolved by {e['by']} ({how}): {e['decision']}")
            continue
        for action, what in e["choices"].items():
            flag = "--decision TEXT" if action == "decide" else f"--{action}"
            lines.append(f"   layercake resolve {project} {e['number']} {flag}: {what}")
    return lines


def resolve(
    project: Annotated[str, typer.Argument(help="The project id.")],
    number: Annotated[int, typer.Argument(min=0, help="The escalation's number, as listed.")],
    retry: Annotated[bool, typer.Option("--retry", help="Run it again, fresh budget.")] = False,
    skip: Annotated[bool, typer.Option("--skip", help="Move on without it.")] = False,
    decision: Annotated[
        str | None, typer.Option(help="Your decision in words (a heal limit: the rework's reason).")
    ] = None,
) -> None:
    """Resolve escalation NUMBER with exactly one of --retry, --skip, --decision TEXT."""
    chosen = [name for name, given in (("retry", retry), ("skip", skip),
                                       ("decide", decision is not None)) if given]  # fmt: skip
    if len(chosen) != 1:
        raise typer.BadParameter(
            "give exactly one of --retry, --skip, --decision TEXT", param_hint="RESOLUTION"
        )
    if decision is not None and not decision.strip():
        raise typer.BadParameter("the decision is empty", param_hint="--decision")
    body = {"action": chosen[0], "decision": decision or chosen[0]}
    resolved = _call("POST", f"/projects/{project}/escalations/{number}/resolve", body)
    entry = resolved[number]
    typer.echo(
        f"escalation {number} of {project} ({entry['kind']} at {entry['gate']}, {entry['role']}) "
        f"resolved: {chosen[0]}; {entry['choices'][chosen[0]]}"
    )


def revise(
    project: Annotated[str, typer.Argument(help="The project id.")],
    intake: Annotated[
        typer.FileText, typer.Option("--intake", help="The revised intake; - reads stdin.")
    ],
) -> None:
    """Revise the intake after G0 was rejected (or before it is approved); G0 awaits approval."""
    text = intake.read()
    if not text.strip():
        raise typer.BadParameter("the intake is empty (only white space)", param_hint="--intake")
    revised = _call("PUT", f"/projects/{project}/intake", {"intake": text})
    typer.echo(
        f"{project}: intake revision {revised['revision']} recorded; G0 is {revised['state']}: "
        f"layercake approve {project} G0"
    )


def new(
    name: Annotated[str, typer.Argument(help="Your id for it: letters, digits, '-' and '_'.")],
    intake: Annotated[
        typer.FileText,
        typer.Option("--intake", help="What to build, in Markdown: a file, or - for stdin."),
    ],
    ui: Annotated[bool, typer.Option("--ui", help="It has a user interface (a web page).")] = False,
) -> None:
    """Create a project from a description; G0 then awaits your approval."""
    text = intake.read()
    if not text.strip():
        raise typer.BadParameter("the intake is empty (only white space)", param_hint="--intake")
    title = next((line.lstrip("# ").strip() for line in text.splitlines() if line.strip()), name)
    body = {"project_id": name, "name": title[:200], "intake": text, "has_ui": ui}
    created = _call("POST", "/projects", body)
    typer.echo(
        f"{created['project_id']} created (bus id {created['bus_id']}); G0 awaits you.\n"
        f"  read it:   layercake status {name}\n"
        f"  follow it: layercake events {name} --follow\n"
        f"  approve:   layercake approve {name} G0"
    )


def export(
    project: Annotated[str, typer.Argument(help="The project id.")],
    target: Annotated[
        str, typer.Argument(help="A release's bare name (v1: the project's own) or an allowed URL.")
    ],
) -> None:
    """Name where G9's release goes; it is pushed once G9 is approved (at once after that)."""
    named = _call("POST", f"/projects/{project}/export", {"remote_url": target})
    typer.echo(f"{project}: the release goes to {named['remote_url']} ({named['push']})")
