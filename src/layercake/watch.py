"""`layercake watch PROJECT`: a project's progress, live, and what awaits you.

It follows the project as the demo does (its events over SSE, the same lines),
but decides nothing: at each gate that awaits a person it prints the command to
give. It ends when the release is pushed (G9), or when an escalation is open,
printing what each way of resolving it does. It must not act on the project.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from layercake.demo import Demo, DemoFailed, check_reply
from layercake.stores import LOCAL_USER, jwt_secret, read_state
from layercake_gateway.cli.projects import escalation_lines
from layercake_gateway.guard import create_token

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console


class Stuck(DemoFailed):
    """The project waits on an open escalation: what it is, and the commands that resolve it."""


@dataclass
class Watch(Demo):
    """The demo's display over someone's project, with every decision left to them."""

    async def run(self, timeout_s: float) -> None:
        """Follow the project until its release is pushed; `Stuck` at an open escalation."""
        reply = await self.client.get(f"/projects/{self.project_id}")
        check_reply(reply, f"read the project {self.project_id}")
        self.bus_id = reply.json()["bus_id"]
        self.say(f"[bold]{self.project_id}[/]: following its events (Ctrl-C stops watching)")
        await self.follow_until_done(timeout_s)

    async def _stop_if_stuck(self) -> None:
        """`Stuck` while an escalation is open (one in the history may be resolved by now)."""
        if self.progress.problem is not None:
            self.progress.problem = None
            if message := await self._open_escalations():
                raise Stuck(message)

    async def _open_escalations(self) -> str | None:
        reply = await self.client.get(f"/projects/{self.project_id}/escalations")
        check_reply(reply, "read the escalations")
        open_ones: list[dict[str, Any]] = [e for e in reply.json() if e["resolved_at"] is None]
        return "\n".join(escalation_lines(self.project_id, open_ones)) if open_ones else None

    async def _export(self) -> None:
        self._tell_once(
            "G9-export",
            f"G9 awaits its release target: [bold]layercake export {self.project_id} v1[/] "
            f"(the project's own release), then [bold]layercake approve {self.project_id} G9[/]",
        )


def run_watch(project: str, *, home: Path, timeout_s: float, console: Console) -> None:
    """Follow `project` on the `up` running from `home`; `DemoFailed` (or `Stuck`) says why not."""
    state = read_state(home)
    if state is None:
        msg = f"LayerCake is not running (home {home}): start it with `layercake up`"
        raise DemoFailed(msg)
    token = create_token(jwt_secret(home), LOCAL_USER, int(timeout_s) + 60)
    asyncio.run(_watch(str(state["api_url"]), token, project, home, timeout_s, console))


async def _watch(
    url: str, token: str, project: str, home: Path, timeout_s: float, console: Console
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        watch = Watch(client, project, home, yes=False, console=console)
        await watch.run(timeout_s)
    console.print(f"{project}: released; `layercake log {project}` shows its history")
