"""`layercake prompts`, `prompt` and `answer`: a person answers as the model (manual provider)."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from layercake_gateway.cli.client import call, request


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
    names = [project] if project else [p["project_id"] for p in call("GET", "/projects")]
    return [
        {**entry, "project": name} for name in names
        for entry in call("GET", f"/projects/{name}/prompts?state={state}")
    ]  # fmt: skip


def prompt(
    project: Annotated[str, typer.Argument(help="The project id.")],
    number: Annotated[int, typer.Argument(min=1, help="The prompt's number, as listed.")],
) -> None:
    """Print one prompt's text (Markdown) to stdout."""
    typer.echo(request("GET", f"/projects/{project}/prompts/{number}").text, nl=False)


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
    sent = call("POST", f"/projects/{project}/prompts/{chosen['number']}/answer", {"text": text})
    typer.echo(
        f"answered prompt {chosen['number']} of {project} ({chosen['role']} at {chosen['gate']}, "
        f"attempt {chosen['attempt']}) with {sent['size']} characters: event {sent['event_id']}"
    )
