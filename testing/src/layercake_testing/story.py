"""A project told through real services: the dashboard's sections are tested on what it leaves.

`tell(bus, client, headers)` creates ada's `tally` through the API and plays the
agent and the builder on the bus, while the real gateway, parser and git
service (already running on that bus) do their part: the parser extracts the
files of the demo's recorded answers, the ledger asks for the heal, the git
service commits the passing build. The backend's first answer is the demo's,
with its real bug; its build fails with a diagnostic at the buggy line; the
heal is the demo's SEARCH/REPLACE edit; the second build passes. QA's build
then cannot install (the registry's fault) and the security agent fails. The PRD, the
OpenAPI document, a diagnostic and an agent's failure carry a hostile
`<script>`: model text a page must show as text.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, TypeVar

import httpx

from layercake.natsd import free_port
from layercake_contracts.bus import Bus
from layercake_contracts.events import (
    AgentFailed,
    BuildFailed,
    BuildStarted,
    BuildSucceeded,
    CodeGenerated,
    CommitCreated,
    EventBase,
    FilesWritten,
    HealRequested,
)
from layercake_contracts.values import (
    Diagnostic,
    FaultCause,
    Gate,
    InfrastructureFault,
    Manifest,
    Role,
    Severity,
    Step,
    StepResult,
    TestCounts,
    Usage,
)
from layercake_gateway.api import create_token
from layercake_gateway.app import create_runtime as create_gateway
from layercake_gateway.dashboard.history import project_history
from layercake_gateway.settings import Settings as GatewaySettings
from layercake_git.app import create_runtime as create_git
from layercake_git.settings import Settings as GitSettings
from layercake_parser.app import create_runtime as create_parser
from layercake_parser.settings import Settings as ParserSettings
from layercake_testing.waiting import settle

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path


E = TypeVar("E", bound=EventBase)
SECRET = "test-secret-for-the-story-only-32-bytes"  # noqa: S105  # a test key
USER = "ada"
HOSTILE = "<script>alert('model')</script>"
TALLY = files("layercake_agent") / "recordings" / "tally" / "backend_developer" / "G5"
BUGGY_LINE = 'words=len(text.split(" "))'
PRD = f"""# tally: product requirements

Count **lines**, words and characters, like `wc`. {HOSTILE}

| input | lines |
|---|---|
| `a\\nb\\n` | 2 |

[a link that must not run](javascript:alert(1))
"""
OPENAPI = f"""openapi: 3.1.0
info:
  title: tally report
  version: 0.1.0
  description: "The JSON of tally --json {HOSTILE}"
paths:
  /count:
    post:
      summary: "Count a text {HOSTILE}"
      parameters:
        - name: unit
          in: query
          required: false
          schema: {{type: string, enum: [lines, words, chars]}}
      requestBody:
        content:
          text/plain:
            schema: {{type: string}}
      responses:
        "200":
          description: the counts
          content:
            application/json:
              schema: {{$ref: "#/components/schemas/Counts"}}
components:
  schemas:
    Counts:
      type: object
      properties:
        lines: {{type: integer}}
"""
SCHEMA = "CREATE TABLE counts (\n  name TEXT PRIMARY KEY,\n  lines INTEGER NOT NULL\n);\n"


def _answer(*documents: tuple[str, str, str]) -> str:
    return "Here it is.\n\n" + "\n".join(
        f"```{lang} title={path}\n{text}```\n" for path, lang, text in documents
    )


@dataclass(frozen=True)
class Story:
    """What the tale left: the project's bus id and the events a test looks at."""

    project_id: str
    failed: BuildFailed
    heal: HealRequested
    healed: BuildSucceeded
    commit: CommitCreated
    buggy_line: int


@dataclass(frozen=True)
class Told:
    """The running services after the tale, and how to reach the gateway as ada."""

    url: str
    secret: str
    headers: dict[str, str]
    story: Story


@contextlib.asynccontextmanager
async def told(nats_url: str, folder: Path) -> AsyncIterator[Told]:
    """The gateway (HTTP on a free port), parser and git service on `nats_url`, the tale told."""
    port = free_port()
    gateway = create_gateway(GatewaySettings(
        nats_url=nats_url, relay_interval_s=0.2, http_port=port, jwt_secret=SECRET,
        ledger_url=f"sqlite:///{folder / 'ledger.db'}",
    ))  # fmt: skip
    parser = create_parser(ParserSettings(nats_url=nats_url))
    git = create_git(GitSettings(nats_url=nats_url, workspaces_root=folder / "workspaces"))
    runtimes = (gateway, parser, git)
    async with contextlib.AsyncExitStack() as stack:
        for runtime in runtimes:
            await runtime.start()
            stack.push_async_callback(runtime.stop)
        url = f"http://127.0.0.1:{port}"
        client = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=10))
        await settle(lambda: _answers(client), within=20)
        headers = {"Authorization": f"Bearer {create_token(SECRET, USER)}"}
        # A bus of no service: it publishes as the agent and the builder would.
        yield Told(url, SECRET, headers, await tell(Bus(gateway.broker), client, headers))


async def _answers(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/healthz")).status_code == 200  # noqa: PLR2004
    except httpx.TransportError:
        await asyncio.sleep(0)
        return False


async def tell(bus: Bus, client: httpx.AsyncClient, headers: dict[str, str]) -> Story:
    """Ada's tally, from intake to a healed, committed backend (see the module's docstring)."""
    intake = {"project_id": "tally", "name": "tally", "intake": f"Count words. {HOSTILE}"}
    created = (await client.post("/projects", json=intake, headers=headers)).json()
    project_id = created["bus_id"]
    await _written(bus, project_id, Role.PRODUCT_MANAGER, Gate.G2, 1,
                   _answer(("docs/prd.md", "markdown", PRD)))  # fmt: skip
    await _written(bus, project_id, Role.ARCHITECT, Gate.G3, 1, _answer(
        ("docs/openapi.yaml", "yaml", OPENAPI), ("docs/schema.sql", "sql", SCHEMA)))  # fmt: skip
    first = await _written(bus, project_id, Role.BACKEND_DEVELOPER, Gate.G5, 1,
                           (TALLY / "attempt-1.md").read_text())  # fmt: skip
    core = await (await bus.blobs()).get(first.manifest["tally/core.py"].sha256)
    line = next(n for n, t in enumerate(core.decode().splitlines(), 1) if BUGGY_LINE in t)
    failed = _failed(first, line)
    await bus.publish(_started(first))
    await bus.publish(failed)
    heal = await _found(bus, project_id, HealRequested, lambda e: e.attempt == 2)  # noqa: PLR2004
    second = await _written(bus, project_id, Role.BACKEND_DEVELOPER, Gate.G5, 2,
                            (TALLY / "attempt-2.md").read_text(), base=heal.base)  # fmt: skip
    healed = _passed(second)
    await bus.publish(_started(second))
    await bus.publish(healed)
    await bus.publish(_faulted(second))
    await bus.publish(AgentFailed(
        project_id=project_id, role=Role.SECURITY_ENGINEER, gate=Gate.G7, attempt=1,
        reason=f"the model is unreachable {HOSTILE}", retryable=False,
    ))  # fmt: skip
    commit = await _found(bus, project_id, CommitCreated, lambda e: e.gate is Gate.G5)
    return Story(project_id, failed, heal, healed, commit, line)


async def _written(  # one answer's whole identity
    bus: Bus, project_id: str, role: Role, gate: Gate, attempt: int, answer: str,
    base: Manifest | None = None,
) -> FilesWritten:  # fmt: skip
    """The agent's answer as CodeGenerated; the parser's FilesWritten of it."""
    digest = await (await bus.blobs()).put(answer.encode())
    usage = Usage(input_tokens=1000 * attempt, output_tokens=400, cost_usd=0.0125 * attempt)
    await bus.publish(CodeGenerated(
        project_id=project_id, role=role, gate=gate, attempt=attempt, answer=digest,
        base=base or Manifest(), model="claude-test", usage=usage, duration_s=1.5,
    ))  # fmt: skip
    return await _found(
        bus, project_id, FilesWritten, lambda e: e.role is role and e.attempt == attempt
    )


async def _found(bus: Bus, project_id: str, kind: type[E], match: Callable[[E], bool]) -> E:
    async def probe() -> E | None:
        events = await project_history(bus, project_id)
        return next((e for e in events if isinstance(e, kind) and match(e)), None)

    return await settle(probe, within=20)


def _started(written: FilesWritten) -> BuildStarted:
    return BuildStarted.follow(
        written, role=written.role, gate=written.gate, attempt=written.attempt,
        toolchains=("python",), steps=(Step.INSTALL, Step.TEST),
    )  # fmt: skip


def _install(seconds: float) -> StepResult:
    return StepResult(
        step=Step.INSTALL,
        command=("python3 -m venv .venv", ".venv/bin/pip install -q -e . pytest"),
        exit_code=0, duration_s=seconds, output="Successfully installed tally-0.1.0 pytest-8.3.4\n",
    )  # fmt: skip


def _failed(written: FilesWritten, line: int) -> BuildFailed:
    message = f"AssertionError: assert 3 == 1 {HOSTILE}"
    test = StepResult(
        step=Step.TEST, command=(".venv/bin/pytest -q",), exit_code=1, duration_s=2.4,
        tests=TestCounts(passed=5, failed=3),
        output=f"FAILED tests/test_core.py::test_words - {message}\n3 failed, 5 passed in 0.1s\n",
        diagnostics=(Diagnostic(tool="pytest", severity=Severity.ERROR, file="tally/core.py",
                                line=line, code="test_words", message=message),),
    )  # fmt: skip
    return BuildFailed.follow(
        written, role=written.role, gate=written.gate, attempt=written.attempt,
        manifest=written.manifest, results=(_install(8.2), test), failed_step=Step.TEST,
    )  # fmt: skip


def _faulted(written: FilesWritten) -> BuildFailed:
    """QA's build at G6 that could not install: the registry's fault, not the project's."""
    fault = InfrastructureFault(cause=FaultCause.REGISTRY, detail="pypi.org answered 503")
    install = _install(30.0).model_copy(update={"exit_code": 1, "fault": fault})
    return BuildFailed.follow(
        written, role=Role.QA_ENGINEER, gate=Gate.G6, attempt=1, manifest=written.manifest,
        results=(install,), failed_step=Step.INSTALL, fault=fault,
    )  # fmt: skip


def _passed(written: FilesWritten) -> BuildSucceeded:
    test = StepResult(
        step=Step.TEST, command=(".venv/bin/pytest -q --cov=tally",), exit_code=0,
        duration_s=2.1, tests=TestCounts(passed=8), coverage_percent=92.5,
        output="8 passed in 0.1s\n",
    )  # fmt: skip
    return BuildSucceeded.follow(
        written, role=written.role, gate=written.gate, attempt=written.attempt,
        manifest=written.manifest, results=(_install(0.4), test),
    )  # fmt: skip
