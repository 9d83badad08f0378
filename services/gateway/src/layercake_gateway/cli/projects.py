"""The commands over the HTTP API that act on a project: make it, follow it, decide its gates.

`new`, `revise`, `status`, `approve`, `reject`, `accept`, `select`, `escalations`,
`resolve`, `export`, `events`, and the sign-in links of `link` and `open`.
"""

from __future__ import annotations

import os
import sys
import webbrowser
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from layercake_gateway.cli.client import api_client, call, not_running
from layercake_gateway.settings import Settings


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
    created = call("POST", "/projects", body)
    typer.echo(
        f"{created['project_id']} created (bus id {created['bus_id']}); G0 awaits you.\n"
        f"  read it:   layercake status {name}\n"
        f"  follow it: layercake events {name} --follow\n"
        f"  approve:   layercake approve {name} G0"
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
    revised = call("PUT", f"/projects/{project}/intake", {"intake": text})
    typer.echo(
        f"{project}: intake revision {revised['revision']} recorded; G0 is {revised['state']}: "
        f"layercake approve {project} G0"
    )


def status(project: Annotated[str, typer.Argument(help="The project id.")]) -> None:
    """Show a project's gates (state, the proof each still lacks) and its open escalations."""
    gates = call("GET", f"/projects/{project}/gates")
    table = Table(title=project)
    for column in ("gate", "state", "missing"):
        table.add_column(column)
    for gate in gates:
        table.add_row(gate["gate"], gate["state"], ", ".join(gate["missing"]))
    Console().print(table)
    for number, escalation in enumerate(call("GET", f"/projects/{project}/escalations")):
        if escalation["resolved_at"] is None:  # plain text: a reason is no markup
            typer.echo(
                f"open escalation {number}: {escalation['kind']} at "
                f"{escalation['gate']}, {escalation['role']} (attempt {escalation['attempt']}): "
                f"{escalation['reason']}"
            )
    _show_open_errors(project)


RECENT_ERRORS = 5


def _show_open_errors(project: str) -> None:
    """The latest errors nothing has resolved yet, one line each."""
    found = call("GET", f"/projects/{project}/errors?resolved=false")
    for error in found[-RECENT_ERRORS:]:
        message = str(error.get("message", "")).strip().splitlines() or [""]
        where = f"{error.get('file')}: " if error.get("file") else ""
        typer.echo(
            f"error at {error['gate']}, {error['role']} (attempt {error['attempt']}), "
            f"{error.get('tool', '?')}: {where}{message[0][:200]}"
        )
    if len(found) > RECENT_ERRORS:
        typer.echo(f"({len(found) - RECENT_ERRORS} earlier open errors: GET …/errors)")


def approve(
    project: Annotated[str, typer.Argument(help="The project id.")],
    gate: Annotated[str, typer.Argument(help="The gate, G0 to G9.")],
) -> None:
    """Approve a gate."""
    result = call("POST", f"/projects/{project}/gates/{gate}/approve")
    typer.echo(f"{gate} approved; gates now:")
    for name, state in result["gates"].items():
        typer.echo(f"  {name}  {state}")


def reject(
    project: Annotated[str, typer.Argument(help="The project id.")],
    gate: Annotated[str, typer.Argument(help="The gate, G0 to G9.")],
    reason: Annotated[str, typer.Option(help="Why; the agents work again with it.")],
) -> None:
    """Reject a gate with a reason."""
    call("POST", f"/projects/{project}/gates/{gate}/reject", {"reason": reason})
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
    gates = call("POST", f"/projects/{project}/findings/accept", {"reason": reason})["gates"]
    typer.echo(f"G7 findings accepted ({reason}); G7 is {gates['G7']}")


def select(
    project: Annotated[str, typer.Argument(help="The project id.")],
    option: Annotated[str, typer.Argument(help="The design option, e.g. option-b.")],
) -> None:
    """Choose one of the G4 design options."""
    call("POST", f"/projects/{project}/design", {"option": option})
    typer.echo(f"selected {option}")


def escalations(
    project: Annotated[str, typer.Argument(help="The project id.")],
    every: Annotated[bool, typer.Option("--all", help="The resolved ones too.")] = False,
) -> None:
    """List the escalations waiting for you, numbered: kind, gate, role, reason, what to do."""
    found = call("GET", f"/projects/{project}/escalations")
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
    resolved = call("POST", f"/projects/{project}/escalations/{number}/resolve", body)
    entry = resolved[number]
    typer.echo(
        f"escalation {number} of {project} ({entry['kind']} at {entry['gate']}, {entry['role']}) "
        f"resolved: {chosen[0]}; {entry['choices'][chosen[0]]}"
    )


def export(
    project: Annotated[str, typer.Argument(help="The project id.")],
    target: Annotated[
        str, typer.Argument(help="A release's bare name (v1: the project's own) or an allowed URL.")
    ],
) -> None:
    """Name where G9's release goes; it is pushed once G9 is approved (at once after that)."""
    named = call("POST", f"/projects/{project}/export", {"remote_url": target})
    typer.echo(f"{project}: the release goes to {named['remote_url']} ({named['push']})")


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
        raise not_running(Settings()) from exc
    except httpx.TransportError as exc:
        typer.echo(f"the event stream of {project} ended: the gateway stopped ({exc})", err=True)
        raise typer.Exit(1) from exc


def _print_events(project: str, *, follow: bool) -> None:
    with api_client() as client, client.stream("GET", f"/projects/{project}/events",
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
        call("GET", f"/projects/{project}")
    made: dict[str, Any] = call("POST", "/signin-links", {"next": page})
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
