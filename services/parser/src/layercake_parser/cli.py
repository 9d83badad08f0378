"""`layercake parse` and `layercake parser run`: the parser's commands."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from layercake_contracts.heartbeat import report
from layercake_contracts.materialise import write_tree
from layercake_parser.adapters.tree import read_tree
from layercake_parser.core.answer import decode_answer
from layercake_parser.core.extract import Extraction, extract
from layercake_parser.core.outcome import file_mode
from layercake_parser.service import as_answer
from layercake_parser.settings import Settings

app = typer.Typer(help="The parser service (see its README).", no_args_is_help=True)


@app.command()
def run() -> None:
    """Start the parser service's bus worker; Ctrl-C drains and stops it."""
    from layercake_contracts.runtime import run_worker  # noqa: PLC0415  # the bus: only here
    from layercake_parser.app import create_runtime  # noqa: PLC0415

    run_worker(lambda: create_runtime(Settings()))


@app.command()
def health() -> None:
    """Exit 0 while the worker's heartbeat is fresh (a container's health check), else 1."""
    report(Settings().heartbeat_file)


@app.command()
def parse(
    answer: Annotated[
        str, typer.Argument(help="A file holding the model's answer, or - for stdin.")
    ],
    base: Annotated[
        Path | None,
        typer.Option(help="The project folder edits apply to.", exists=True, file_okay=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    write: Annotated[
        Path | None, typer.Option(help="Write the files into this folder.", file_okay=False)
    ] = None,
) -> None:
    """Extract the files a model's answer writes; exit 0 when at least one came out, else 1."""
    data = sys.stdin.buffer.read() if answer == "-" else _read_answer(Path(answer))
    text, decode_warnings = decode_answer(data)
    result = extract(text, read_tree(base) if base else None)
    result = dataclasses.replace(result, warnings=decode_warnings + result.warnings)
    if write is not None:
        write_tree(
            write,
            {f.path: (f.content.encode(), file_mode(f.content)) for f in result.files},
            result.deleted,
        )
    if as_json:
        typer.echo(json.dumps(as_answer(result).model_dump(mode="json"), ensure_ascii=False))
    else:
        _show(result)
    raise typer.Exit(0 if result.files else 1)


def _read_answer(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        # One plain line: a usage error's box would wrap a long path where a person copies it.
        typer.echo(f"cannot read ANSWER {path}: {exc.strerror}", err=True)
        raise typer.Exit(2) from exc


def _show(result: Extraction) -> None:
    console = Console()
    table = Table(title=f"{len(result.files)} file(s)")
    for column in ("path", "source", "lines"):
        table.add_column(column)
    for file in result.files:
        table.add_row(file.path, file.source.value, str(file.content.count("\n")))
    console.print(table)
    for rejection in result.rejected:
        console.print(f"[red]rejected[/red] {rejection.path!r}: {rejection.reason}")
    for path in result.deleted:
        console.print(f"[yellow]deleted[/yellow] {path}")
    for warning in result.warnings:
        console.print(f"[yellow]warning[/yellow] {warning}")
