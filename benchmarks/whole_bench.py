"""The whole system: the demo's wall time and its split, and 20 projects at once.

1. `layercake demo --yes` in a fresh folder (it brings the system up and down):
   the wall time G0→G9 (from the project's creation) split into time in tools
   (each build, from BuildStarted to its result), in the model provider
   (CodeGenerated's duration) and the rest (bus, ledger, parsing, git,
   approvals). Targets: the whole under 60 s, the rest under 10% of it.
2. One `layercake up`, then one project alone (the baseline), then 20 projects
   at once, each driven to G9 through the HTTP API by the demo's client:
   projects per minute, events per second, the slowdown against the baseline,
   and the peak resident memory of every process `up` runs.

    uv run python benchmarks/whole_bench.py [--projects 20]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nats
from rich.console import Console

from layercake.demo import Demo, bring_up
from layercake.natsd import free_port
from layercake.stores import jwt_secret, read_state
from layercake_contracts.bus import STREAM_NAME
from layercake_gateway.api import create_token

LAYERCAKE = str(Path(sys.executable).parent / "layercake")


def isolated(folder: Path) -> dict[str, str]:
    """Settings for a system of its own in `folder`, on free ports."""
    return {
        "LAYERCAKE_HOME": str(folder / ".layercake"),
        "LAYERCAKE_NATS_URL": f"nats://127.0.0.1:{free_port()}",
        "LAYERCAKE_HTTP_PORT": str(free_port()),
    }


def demo_split() -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="lc-demo-bench-"))
    folder.chmod(0o755)
    env = {**os.environ, **isolated(folder)}
    start = time.perf_counter()
    done = subprocess.run(
        [LAYERCAKE, "demo", "--yes"], env=env, cwd=folder, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    command_s = time.perf_counter() - start
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    return {**summary, "command_s": command_s}


def rss_mb(root_pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    children: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
        except OSError:
            continue
        children.setdefault(int(fields["PPid"]), []).append(int(fields["Pid"]))
    total_kb, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            line = next(
                li for li in Path(f"/proc/{pid}/status").read_text().splitlines()
                if li.startswith("VmRSS:")
            )  # fmt: skip
        except (OSError, StopIteration):
            continue
        total_kb += int(line.split()[1])
    return total_kb / 1024


async def walk_all(api_url: str, home: Path, names: list[str], up_pid: int) -> dict[str, float]:
    token = create_token(jwt_secret(home), "bench")
    peak = 0.0

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, await asyncio.to_thread(rss_mb, up_pid))
            await asyncio.sleep(0.5)

    async with httpx.AsyncClient(
        base_url=api_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:
        sampler = asyncio.create_task(sample())
        start = time.perf_counter()
        demos = [
            Demo(client, n, home, yes=True, console=Console(file=io.StringIO())) for n in names
        ]
        await asyncio.gather(*(d.run(900) for d in demos))
        wall = time.perf_counter() - start
        sampler.cancel()
    return {"wall_s": wall, "peak_rss_mb": peak}


async def stream_length(nats_url: str) -> int:
    connection = await nats.connect(nats_url)
    try:
        info = await connection.jetstream().stream_info(STREAM_NAME)
        return int(info.state.messages)
    finally:
        await connection.close()


def many(projects: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="lc-many-bench-"))
    folder.chmod(0o755)
    os.environ.update(isolated(folder))
    console = Console(stderr=True)
    system = bring_up(console)
    try:
        state = read_state(system.home)
        assert state is not None
        nats_url, up_pid = str(state["nats_url"]), int(str(state["pid"]))
        idle = rss_mb(up_pid)
        alone = asyncio.run(walk_all(system.api_url, system.home, ["alone"], up_pid))
        before = asyncio.run(stream_length(nats_url))
        names = [f"p{n:02d}" for n in range(projects)]
        together = asyncio.run(walk_all(system.api_url, system.home, names, up_pid))
        events = asyncio.run(stream_length(nats_url)) - before
    finally:
        system.stop()
    per_project = together["wall_s"] / projects
    print(f"one project alone: {alone['wall_s']:.1f} s (baseline)")
    print(f"{projects} projects at once: {together['wall_s']:.1f} s "
          f"({projects / together['wall_s'] * 60:.1f} projects/min, {events} events, "
          f"{events / together['wall_s']:.1f} events/s)")  # fmt: skip
    print(f"  wall per project {per_project:.1f} s = {per_project / alone['wall_s']:.2f}x "
          f"the baseline; all {projects} took {together['wall_s'] / alone['wall_s']:.1f}x "
          f"one alone")  # fmt: skip
    print(
        f"  memory (up, nats-server, five services): idle {idle:.0f} MB, "
        f"peak {together['peak_rss_mb']:.0f} MB (one project: {alone['peak_rss_mb']:.0f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=20)
    args = parser.parse_args()
    split = demo_split()
    wall = split["wall_s"]
    print(f"demo G0→G9: {wall:.1f} s (target < 60 s), the command with start and stop "
          f"{split['command_s']:.1f} s")  # fmt: skip
    for part in ("tools_s", "model_s", "rest_s"):
        print(f"  {part[:-2]:<6} {split[part]:6.1f} s  {split[part] / wall:6.1%}")
    print(
        f"  the rest is {split['rest_s'] / wall:.1%} of the whole (target < 10%); "
        f"the whole is {wall / split['tools_s']:.2f}x the time in tools"
    )
    many(args.projects)


if __name__ == "__main__":
    main()
