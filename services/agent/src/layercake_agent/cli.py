"""`layercake agent run` (the worker) and `layercake agent ask` (one question, streamed)."""

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from layercake_agent.adapters.folder import MemoryBlobs, read_folder
from layercake_agent.adapters.templates import load_templates
from layercake_agent.app import create_provider, create_runtime
from layercake_agent.core.outcome import Answer
from layercake_agent.core.record import ProjectRecord
from layercake_agent.errors import AgentError
from layercake_agent.service import ask_model, assemble_prompt
from layercake_agent.settings import ProviderName, Settings
from layercake_contracts.events import AgentRequested
from layercake_contracts.heartbeat import report
from layercake_contracts.runtime import run_worker
from layercake_contracts.values import Gate, Manifest, Role

app = typer.Typer(
    help="The agent service (see its README).",
    no_args_is_help=True,
)

# Where each role usually works: the default --gate, and so the replay key.
USUAL_GATE = {
    Role.PRODUCT_MANAGER: Gate.G2,
    Role.ARCHITECT: Gate.G3,
    Role.DESIGNER: Gate.G4,
    Role.QA_ENGINEER: Gate.G6,
    Role.SECURITY_ENGINEER: Gate.G7,
    Role.DEVOPS_ENGINEER: Gate.G8,
}
CLI_PROJECT = "cli"


@app.command()
def run() -> None:
    """Start the agent service's bus worker; Ctrl-C drains and stops it."""
    run_worker(lambda: create_runtime(Settings()))


@app.command()
def health() -> None:
    """Exit 0 while the worker's heartbeat is fresh (a container's health check), else 1."""
    report(Settings().heartbeat_file)


@app.command()
def ask(
    role: Annotated[Role, typer.Argument(help="The role that answers.")],
    prompt: Annotated[str, typer.Option("--prompt", help="What to ask the role.")],
    context: Annotated[
        Path | None,
        typer.Option(help="A project folder the model is shown.", exists=True, file_okay=False),
    ] = None,
    provider: Annotated[
        ProviderName | None, typer.Option(help="Override LAYERCAKE_PROVIDER.")
    ] = None,
    gate: Annotated[
        Gate | None, typer.Option(help="The gate the role works at (default: its usual one).")
    ] = None,
    attempt: Annotated[int, typer.Option(min=1, help="The attempt (a replay key part).")] = 1,
    intake: Annotated[
        Path | None,
        typer.Option(
            help="The project's intake, shown to the model (replay keys on it).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Ask one role one question: the answer streams to stdout, the usage goes to stderr."""
    blobs = MemoryBlobs()
    request = AgentRequested(
        project_id=CLI_PROJECT,
        role=role,
        gate=gate or USUAL_GATE.get(role, Gate.G5),
        attempt=attempt,
        instructions=prompt,
        base=read_folder(context, blobs) if context else Manifest(),
    )
    record = ProjectRecord(name=CLI_PROJECT, intake=intake.read_text() if intake else "")
    try:
        answer = asyncio.run(_ask(Settings(), request, record, blobs, provider))
    except AgentError as exc:
        typer.echo(f"\nerror: {exc}", err=True)
        raise typer.Exit(1) from exc
    usage = answer.usage
    typer.echo(
        f"\n{answer.model}: {usage.input_tokens} input, {usage.output_tokens} output, "
        f"{usage.cache_read_tokens} cache read, {usage.cache_write_tokens} cache write tokens; "
        f"${usage.cost_usd:.4f}; {answer.duration_s:.1f}s",
        err=True,
    )


async def _ask(
    settings: Settings,
    request: AgentRequested,
    record: ProjectRecord,
    blobs: MemoryBlobs,
    choice: ProviderName | None,
) -> Answer:
    prompt = await assemble_prompt(
        load_templates(settings.prompts_dir),
        request,
        record,
        blobs,
        settings.context_budget(request.role),
    )
    return await ask_model(create_provider(settings, choice), prompt, settings, _echo)


def _echo(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
