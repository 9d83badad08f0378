"""`layercake demo`: a shipped project from G0 to G9, offline, through the HTTP API.

The demo is a client like any other: it creates a project, follows the
project's events (Server-Sent Events) and, at each gate that awaits a person,
approves (with `--yes`) or says which command would. At G4 it prints a
one-time sign-in link to each design option (to see it in a browser) and
selects the first; at G9 it names the project's release `release` as the
target (a bare repository the git service makes in its release folder), approves
G9, waits for the push that the approval asks for (PushCompleted), and then
clones the release for you to look at. Each shipped project is a set of
recordings (the agent's package data, `layercake_agent/recordings/<name>/`: its intake,
whether it has a UI, the answers); with no API key, the agents answer from that set, keyed by the
intake's sha256. `tally` is the default; `--project NAME` starts another.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from layercake.stores import LOCAL_USER, jwt_secret, read_state, release_root
from layercake.up import UpSettings
from layercake_agent.adapters.replay import recorded_set
from layercake_agent.errors import RecordingsInvalid
from layercake_agent.settings import Settings as AgentSettings
from layercake_contracts.events import (
    AgentFailed,
    BuildFailed,
    BuildStarted,
    BuildSucceeded,
    CodeGenerated,
    CommitCreated,
    CommitSkipped,
    EscalationRaised,
    EventBase,
    FilesRejected,
    FilesWritten,
    GateApproved,
    GateOpened,
    HealRequested,
    OptionSelected,
    ProcessingFailed,
    PushCompleted,
    PushFailed,
    parse_event,
)
from layercake_gateway.core.gates import FINDING
from layercake_gateway.guard import create_token
from layercake_git.adapters.releases import release_path

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

DEFAULT_PROJECT = "tally"
DESIGN_CHOICE = "option-a"
RELEASE = "release"  # the release's name: the export names no path, the git service owns it
_STARTUP_S = 120.0


class DemoFailed(Exception):
    """The demo could not reach G9: the reason says where it stopped."""


@dataclass(frozen=True)
class Shipped:
    """A project the demo can start: its name, intake and whether it has a UI."""

    name: str
    intake: str
    has_ui: bool
    tests: tuple[str, ...]  # the shell commands that run the released repository's own tests


def shipped(name: str = DEFAULT_PROJECT) -> Shipped:
    """The shipped project `name`, from the agent's recordings; `DemoFailed` if there is none."""
    try:
        found = recorded_set(AgentSettings().replay_dir, name)
        manifest = found.manifest
        return Shipped(name, found.intake(), has_ui=manifest.has_ui, tests=manifest.tests)
    except RecordingsInvalid as exc:
        raise DemoFailed(str(exc)) from exc


@dataclass
class Progress:
    """What happened so far, for the display and the summary."""

    started: float = field(default_factory=time.monotonic)
    attempts: dict[str, int] = field(default_factory=dict)
    builds: dict[str, datetime] = field(default_factory=dict)
    tools_s: float = 0.0
    model_s: float = 0.0
    tokens: int = 0
    failed_builds: int = 0
    commits: int = 0
    released: bool = False
    done: bool = False
    problem: str | None = None


@dataclass
class Demo:
    """One run of the demo against a running system."""

    client: httpx.AsyncClient
    project_id: str
    home: Path
    yes: bool
    console: Console
    progress: Progress = field(default_factory=Progress)
    _told: set[str] = field(default_factory=set)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    bus_id: str = ""  # what the services know the project by (the API names it per user)
    project: Shipped = field(default_factory=shipped)

    @property
    def remote(self) -> Path:
        """The bare repository the git service exports the release to."""
        return release_path(release_root(self.home), self.bus_id, RELEASE)

    async def run(self, timeout_s: float) -> None:
        """Create the project and walk it to G9; `DemoFailed` says why not."""
        project = self.project
        reply = await self.client.post(
            "/projects",
            json={"project_id": self.project_id, "name": project.name, "intake": project.intake,
                  "has_ui": project.has_ui},
        )  # fmt: skip
        check_reply(reply, "create the project")
        self.bus_id = reply.json()["bus_id"]
        self.say(f"[bold]{self.project_id}[/] created from the intake of {project.name}")
        await self.follow_until_done(timeout_s)

    async def follow_until_done(self, timeout_s: float) -> None:
        """Show the project's events and act on its gates until its release is pushed.

        `DemoFailed` at a problem, or after `timeout_s`.
        """
        follower = asyncio.create_task(self._follow())
        try:
            async with asyncio.timeout(timeout_s):
                while not self.progress.done:
                    try:
                        await self._stop_if_stuck()
                        await self._step()
                    except httpx.TransportError as exc:  # the gateway restarts: ask again
                        self._tell_once(
                            "unreachable", f"[yellow]the API is away[/] ({exc}); waiting"
                        )
                        self._told.discard("unreachable")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 1.0)
                    self._changed.clear()
        except TimeoutError as exc:
            msg = f"G9 not reached within {timeout_s:g} s"
            raise DemoFailed(msg) from exc
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower

    async def _stop_if_stuck(self) -> None:
        """`DemoFailed` once the walk cannot go on by itself (an escalation, a failed push)."""
        if self.progress.problem is not None:
            raise DemoFailed(self.progress.problem)

    def say(self, line: str) -> None:
        """One line of the running display, with the time since the start."""
        elapsed = time.monotonic() - self.progress.started
        self.console.print(f"[dim]{elapsed:6.1f}s[/] {line}")

    async def _step(self) -> None:
        """Act on the gates as a person would: select, export, approve."""
        reply = await self.client.get(f"/projects/{self.project_id}/gates")
        check_reply(reply, "read the gates")
        for gate in reply.json():
            name, state, missing = gate["gate"], gate["state"], gate["missing"]
            if state in {"approved", "pending"}:
                continue
            if name == "G4" and missing == ["selected_design"]:
                await self._select()
            elif name == "G9" and "release" in missing:
                await self._export()
            elif findings := [m for m in missing if m.startswith(FINDING)]:
                await self._accept(findings)
            elif state == "awaiting_approval" and not missing:
                await self._approve(name)
            return

    async def _select(self) -> None:
        if "G4-links" not in self._told:
            await self._design_links()
        if not self.yes:
            command = f"layercake select {self.project_id} option-b"
            self._tell_once("G4-select", f"G4: then choose one: [bold]{command}[/] (a to c)")
            return
        reply = await self.client.post(
            f"/projects/{self.project_id}/design", json={"option": DESIGN_CHOICE}
        )
        check_reply(reply, "select a design")

    async def _design_links(self) -> None:
        """A one-time sign-in link to each design option, to open in a browser."""
        self._told.add("G4-links")
        self.say(
            "G4: the design options, each a sign-in link for a browser (it opens once, within "
            f"2 minutes; [bold]layercake link {self.project_id} design/option-a[/] makes another):"
        )
        for option in ("option-a", "option-b", "option-c"):
            page = f"/projects/{self.project_id}/design/{option}"
            reply = await self.client.post("/signin-links", json={"next": page})
            check_reply(reply, f"make a sign-in link to {option}")
            # Not wrapped by us: a line break inside the URL would break it when copied.
            self.console.print(f"  {option}: {reply.json()['url']}", soft_wrap=True, markup=False)

    async def _accept(self, findings: list[str]) -> None:
        listed = "; ".join(f.removeprefix(FINDING) for f in findings)
        if not self.yes:
            command = f'layercake accept {self.project_id} --reason "…"'
            self._tell_once("G7-accept", f"G7 has findings ({escape(listed)}): [bold]{command}[/]")
            return
        reply = await self.client.post(
            f"/projects/{self.project_id}/findings/accept",
            json={"reason": f"accepted by the demo (--yes): {listed}"},
        )
        check_reply(reply, "accept the G7 findings")
        self.say(f"G7: accepted {escape(listed)}")

    async def _export(self) -> None:
        if "export" in self._told:
            return
        self._told.add("export")
        reply = await self.client.post(
            f"/projects/{self.project_id}/export", json={"remote_url": RELEASE}
        )
        check_reply(reply, "name the release target")
        self.say(f"G9: the release goes to {self.remote} once G9 is approved")

    async def _approve(self, gate: str) -> None:
        if not self.yes:
            self._tell_once(
                f"{gate}-approve",
                f"{gate} awaits you: [bold]layercake approve {self.project_id} {gate}[/] "
                f"(or reject with --reason)",
            )
            return
        reply = await self.client.post(f"/projects/{self.project_id}/gates/{gate}/approve")
        check_reply(reply, f"approve {gate}")

    def _tell_once(self, key: str, line: str) -> None:
        if key not in self._told:
            self._told.add(key)
            self.say(line)

    async def _follow(self) -> None:
        """Read the project's events as they happen and show them."""
        async for event in self._events():
            self.show(event)
            self._changed.set()

    async def _events(self) -> AsyncIterator[EventBase]:
        last: int | None = None
        while True:
            headers = {"Last-Event-ID": str(last)} if last is not None else {}
            try:
                async with self.client.stream(
                    "GET", f"/projects/{self.project_id}/events", headers=headers, timeout=None
                ) as response:
                    async for frame in _frames(response.aiter_lines()):
                        last = frame[0]
                        yield parse_event(frame[1])
            except httpx.TransportError:
                await asyncio.sleep(0.5)  # the gateway restarts: resume where we were

    def show(self, event: EventBase) -> None:  # noqa: C901, PLR0912  # one line per kind of event
        """Show one event and keep its figures."""
        p = self.progress
        match event:
            case GateOpened():
                self.say(f"[bold cyan]{event.gate}[/] opened")
            case GateApproved():
                self.say(f"[bold green]{event.gate} approved[/] by {event.by}")
            case OptionSelected():
                self.say(f"G4: {event.option} selected by {event.by}")
            case CodeGenerated():
                key = f"{event.gate}/{event.role}"
                p.attempts[key] = max(p.attempts.get(key, 0), event.attempt)
                p.model_s += event.duration_s
                p.tokens += event.usage.total_tokens
                self.say(f"{event.gate} {event.role} attempt {event.attempt}: answered by "
                         f"{event.model} in {event.duration_s:.1f} s")  # fmt: skip
            case FilesWritten():
                written = f"{len(event.changed)} file(s) written: {_few(event.changed)}"
                self.say(f"{event.gate} {event.role} attempt {event.attempt}: {written}")
            case BuildStarted() if event.steps and event.toolchains:
                p.builds[f"{event.gate}/{event.role}/{event.attempt}"] = event.occurred_at
                steps = ", ".join(s.value for s in event.steps)
                self.say(f"{event.gate} {event.role} attempt {event.attempt}: building ({steps})")
            case BuildSucceeded() | BuildFailed():
                self._built(event)
            case HealRequested():
                self.say(f"{event.gate} {event.role}: healing, attempt {event.attempt}, from "
                         f"{len(event.diagnostics)} diagnostic(s)")  # fmt: skip
            case CommitCreated():
                p.commits += 1
                self.say(f"{event.gate}: commit {event.sha[:10]} on {event.branch} "
                         f"({event.files_changed} file(s))")  # fmt: skip
            case CommitSkipped():
                self.say(f"{event.gate}: nothing to commit, {event.sha[:10]} holds this tree")
            case PushCompleted():  # G9's approval asked for it: the walk is done
                p.released = p.done = True
                self.say(f"G9: released {event.sha[:10]} to {event.remote_url}")
            case EscalationRaised() | PushFailed() | AgentFailed() | FilesRejected():
                reason = getattr(event, "reason", None) or _rejections(event)
                self.say(f"[bold red]{event.type}[/]: {reason}")
                if isinstance(event, EscalationRaised | PushFailed):
                    p.problem = f"{event.type}: {reason}"
            case ProcessingFailed():
                self.say(f"[yellow]{event.service} could not handle a message[/]: {event.error}")

    def _built(self, event: BuildSucceeded | BuildFailed) -> None:
        p = self.progress
        began = p.builds.pop(f"{event.gate}/{event.role}/{event.attempt}", None)
        if began is None and isinstance(event, BuildSucceeded):
            return  # nothing to build (documents only); code with no toolchain fails, and shows
        p.tools_s += (event.occurred_at - began).total_seconds() if began else 0.0
        # Each toolchain (backend, frontend) runs every step: one entry a step, its runs joined.
        runs: dict[str, list[str]] = {}
        for r in event.results:
            runs.setdefault(r.step.value, []).append(
                "skipped" if r.skipped else f"{r.duration_s:.1f} s"
            )
        timings = ", ".join(f"{step} {' + '.join(times)}" for step, times in runs.items())
        counted = [r.tests for r in event.results if r.tests]
        coverage = next((r.coverage_percent for r in event.results if r.coverage_percent), None)
        extra = (
            f"; {sum(t.passed for t in counted)} passed, {sum(t.failed for t in counted)} failed"
            if counted
            else ""
        )
        extra += f", coverage {coverage:.0f}%" if coverage is not None else ""
        head = f"{event.gate} {event.role} attempt {event.attempt}:"
        if isinstance(event, BuildSucceeded):
            self.say(f"{head} [green]build passed[/] ({timings}{extra})")
            return
        p.failed_builds += 1
        self.say(f"{head} [red]build failed at {event.failed_step.value}[/] ({timings}{extra})")
        for d in event.diagnostics[:5]:
            where = f"{d.file}:{d.line}" if d.file and d.line else d.file or ""
            self.say(f"    {d.tool} {where} {_shortened(d.message.splitlines()[0])}")


async def _frames(lines: AsyncIterator[str]) -> AsyncIterator[tuple[int, str]]:
    """(id, data) of each Server-Sent Event."""
    current: dict[str, str] = {}
    async for line in lines:
        if line:
            name, _, value = line.partition(": ")
            current[name] = value
        elif "data" in current:
            yield int(current["id"]), current["data"]
            current = {}


def _shortened(line: str, limit: int = 160) -> str:
    """`line`, cut at a word before `limit` characters, with an ellipsis when cut."""
    if len(line) <= limit:
        return line
    return line[:limit].rsplit(" ", 1)[0] + "…"


def _few(paths: tuple[str, ...]) -> str:
    shown = ", ".join(paths[:4])
    return shown + (f" and {len(paths) - 4} more" if len(paths) > 4 else "")  # noqa: PLR2004


def _rejections(event: EventBase) -> str:
    rejected = getattr(event, "rejected", ())
    return "; ".join(f"{r.path}: {r.reason}" for r in rejected) or "no usable files"


async def _git(*args: str) -> None:
    process = await asyncio.create_subprocess_exec("git", *args)
    if await process.wait() != 0:
        msg = f"git {' '.join(args)} exited with {process.returncode}"
        raise DemoFailed(msg)


def check_reply(reply: httpx.Response, what: str) -> None:
    """`DemoFailed` naming `what` could not be done, when the API refused it."""
    if reply.status_code >= 400:  # noqa: PLR2004
        msg = f"could not {what}: {reply.status_code} {reply.text}"
        raise DemoFailed(msg)


@dataclass
class System:
    """The running system the demo talks to, and whether the demo started it."""

    api_url: str
    home: Path
    started: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        """Stop what the demo started (the services drain first)."""
        if self.started is None:
            return
        self.started.send_signal(signal.SIGINT)
        try:
            self.started.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.started.kill()
            self.started.wait()


def bring_up(console: Console) -> System:
    """The system `layercake up` runs here, started in the background when it does not."""
    settings = UpSettings()
    home = settings.home.resolve()
    state = read_state(home)
    if state is not None:
        console.print(f"using the system already up (pid {state['pid']})")
        return System(str(state["api_url"]), home)
    (home / "logs").mkdir(parents=True, exist_ok=True)
    with (home / "logs" / "up.log").open("ab") as log:
        process = subprocess.Popen(  # ourselves, fixed arguments
            [sys.executable, "-m", "layercake", "up"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    system = System(settings.api_url, home, process)
    console.print(f"starting LayerCake (logs in {home / 'logs'}) …")
    deadline = time.monotonic() + _STARTUP_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"layercake up exited with {process.returncode}; see {home / 'logs' / 'up.log'}"
            raise DemoFailed(msg)
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{settings.api_url}/healthz", timeout=2).status_code == 200:  # noqa: PLR2004
                return system
        time.sleep(0.1)
    system.stop()
    msg = f"the API did not answer on {settings.api_url} within {_STARTUP_S:g} s"
    raise DemoFailed(msg)


def run_demo(
    *, yes: bool, timeout_s: float, console: Console, project: str = DEFAULT_PROJECT
) -> dict[str, Any]:
    """Bring the system up, walk the shipped `project` to G9, print the summary; returns it."""
    chosen = shipped(project)
    system = bring_up(console)
    try:
        return asyncio.run(_walk(system, chosen, yes=yes, timeout_s=timeout_s, console=console))
    finally:
        system.stop()


async def _walk(
    system: System, project: Shipped, *, yes: bool, timeout_s: float, console: Console
) -> dict[str, Any]:
    # Its own token lives as long as the walk may take, plus a minute for the summary.
    lifetime_s = int(timeout_s) + 60
    token = os.environ.get("LAYERCAKE_TOKEN") or create_token(
        jwt_secret(system.home), LOCAL_USER, lifetime_s
    )
    project_id = f"{project.name}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=system.api_url, headers=headers, timeout=30) as client:
        demo = Demo(client, project_id, system.home, yes, console, project=project)
        if not yes:
            console.print(
                "the demo waits for your approvals: in another terminal, "
                "[bold]uv run layercake status " + project_id + "[/]"
            )
        await demo.run(timeout_s)
        summary = await _summary(demo)
    _print_summary(console, summary)
    return summary


async def _summary(demo: Demo) -> dict[str, Any]:
    client, pid, p = demo.client, demo.project_id, demo.progress
    project = (await client.get(f"/projects/{pid}")).json()
    fixed = (await client.get(f"/projects/{pid}/errors", params={"resolved": "true"})).json()
    commits = (await client.get(f"/projects/{pid}/commits")).json()["commits"]
    checkout = demo.home / "demo" / pid
    if not checkout.exists():
        await _git("clone", "-q", str(demo.remote), str(checkout))
    wall = time.monotonic() - p.started
    return {
        "project": pid,
        "gates": project["gates"],
        "attempts": p.attempts,
        "failed_builds": p.failed_builds,
        "diagnostics_fixed": len(fixed),
        "commits": len(commits),
        "tokens": p.tokens,
        "wall_s": round(wall, 2),
        "tools_s": round(p.tools_s, 2),
        "model_s": round(p.model_s, 2),
        "rest_s": round(max(0.0, wall - p.tools_s - p.model_s), 2),
        "repository": str(checkout),
        "tests": list(demo.project.tests),
    }


def _print_summary(console: Console, s: dict[str, Any]) -> None:
    table = Table(title=f"{s['project']}: summary", show_header=False)
    approved = sum(1 for state in s["gates"].values() if state == "approved")
    healed = {k: v for k, v in s["attempts"].items() if v > 1}
    rows = [
        ("gates", f"{approved} of {len(s['gates'])} approved"),
        ("attempts", ", ".join(f"{k}: {v}" for k, v in s["attempts"].items())),
        ("healed", ", ".join(f"{k} in {v} attempts" for k, v in healed.items()) or "nothing"),
        ("diagnostics fixed", str(s["diagnostics_fixed"])),
        ("commits", str(s["commits"])),
        ("tokens", f"{s['tokens']}" + (" (recorded or manual answers cost none)"
                                        if not s["tokens"] else "")),
        ("time", (f"{s['wall_s']:.1f} s: tools {s['tools_s']:.1f} s, "
                  f"model {s['model_s']:.1f} s, the rest {s['rest_s']:.1f} s")),
        ("repository", s["repository"]),
    ]  # fmt: skip
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    # Outside the box, each on a line of its own: a wrapped cell copies with its `│`.
    if s["tests"]:
        console.print("run its tests:")
    for command in s["tests"]:
        console.print(f"  cd {s['repository']} && {command}", markup=False, highlight=False,
                      soft_wrap=True)  # fmt: skip
    console.print(json.dumps(s), markup=False, highlight=False, soft_wrap=True)
