"""Git benchmark: committing a 1,000-file manifest through the git service.

The service's commit path (`GitService.commit_build`: blobs through fast-import,
a tree through a throw-away index, commit-tree, update-ref, the trailer lookup
and the record file) against the plain CLI `git add -A && git commit` on the
same files already on disk, in the same run, each in a fresh repository.
Also the next commit with 10 of the 1,000 files changed. Prints medians and
ratios (target: first commit at most 1.5x the CLI, and under 2 s). The CLI
writes one loose object per new file; fast-import writes them as one pack, so
the first commit is where the two differ most, and the slower the disk, the more.

    uv run python benchmarks/git_bench.py
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import structlog

from layercake_contracts.bus import sha256_of
from layercake_contracts.events import BuildSucceeded, ProjectCreated
from layercake_contracts.values import FileEntry, Gate, Manifest, Role
from layercake_git.adapters.git import Git
from layercake_git.adapters.releases import Releases
from layercake_git.adapters.workspaces import Workspaces
from layercake_git.service import Exports, GitService

FILES = 1000
CHANGED = 10
REPEATS = 5


class MemoryBlobs:
    """The blob store's `get`, from memory: the benchmark times git, not NATS."""

    def __init__(self, *trees: dict[str, tuple[bytes, int]]) -> None:
        self.data = {sha256_of(data): data for tree in trees for data, _ in tree.values()}

    async def get(self, digest: str) -> bytes:
        return self.data[digest]


def make_files(version: int = 0) -> dict[str, tuple[bytes, int]]:
    """1,000 files of 0.5-4 KB in 50 folders, one in ten executable; `version` changes ten."""
    files = {}
    for n in range(FILES):
        body = f"# module {n}\n" + "value = compute(alpha, beta)  # a line of code\n" * (
            10 + n % 80
        )
        if n < CHANGED:
            body += f"# version {version}\n"
        mode = 0o755 if n % 10 == 0 else 0o644
        files[f"src/pkg{n % 50}/module_{n}.py"] = (body.encode(), mode)
    files["pyproject.toml"] = (b'[project]\nname = "bench"\n', 0o644)
    return files


def build_event(
    project: ProjectCreated, files: dict[str, tuple[bytes, int]], attempt: int
) -> BuildSucceeded:
    manifest = Manifest(
        {
            path: FileEntry(sha256=sha256_of(data), size=len(data), mode=mode)  # type: ignore[arg-type]
            for path, (data, mode) in files.items()
        }
    )
    return BuildSucceeded.follow(
        project,
        role=Role.BACKEND_DEVELOPER,
        gate=Gate.G5,
        attempt=attempt,
        manifest=manifest,
        results=(),
    )


def ours(
    root: Path, first: dict[str, tuple[bytes, int]], second: dict[str, tuple[bytes, int]]
) -> tuple[float, float]:
    """Seconds for the service's first commit of the tree, then for the next (10 changed)."""
    home = root / "home"
    home.mkdir()
    workspaces = Workspaces(root / "workspaces", Git(home, timeout_s=60))
    workspaces.root.mkdir()
    exports = Exports(Releases(root / "releases", workspaces.git), (), lambda _url: {})
    service = GitService(workspaces, exports)
    project = ProjectCreated(project_id="bench", name="bench", intake="bench", owner="bench")
    workspaces.repository("bench").create()  # the CLI's `git init` is not timed either
    blobs = MemoryBlobs(first, second)
    times = []
    for attempt, files in enumerate((first, second), start=1):
        event = build_event(project, files, attempt)
        start = time.perf_counter()
        asyncio.run(service.commit_build(event, blobs))
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def cli(
    root: Path, first: dict[str, tuple[bytes, int]], second: dict[str, tuple[bytes, int]]
) -> tuple[float, float]:
    """Seconds for `git add -A && git commit` of the same tree on disk, then of the next."""
    home = root / "home"
    home.mkdir()
    env = {
        "PATH": os.environ["PATH"], "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@x",
        "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@x",
    }  # fmt: skip
    work = root / "work"
    subprocess.run(["git", "init", "--quiet", str(work)], env=env, check=True)
    times = []
    for files in (first, second):
        for path, (data, mode) in files.items():
            target = work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            target.chmod(mode)
        start = time.perf_counter()
        subprocess.run(["git", "add", "-A"], cwd=work, env=env, check=True)
        subprocess.run(["git", "commit", "--quiet", "-m", "bench"], cwd=work, env=env, check=True)
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    first, second = make_files(0), make_files(1)
    size = sum(len(data) for data, _ in first.values())
    runs: dict[str, list[tuple[float, float]]] = {"ours": [], "cli": []}
    for _ in range(REPEATS):
        for name, run in (("ours", ours), ("cli", cli)):
            with tempfile.TemporaryDirectory() as folder:
                runs[name].append(run(Path(folder), first, second))
    medians = {
        name: [statistics.median(t[i] for t in times) for i in (0, 1)]
        for name, times in runs.items()
    }
    print(
        f"tree: {len(first)} files, {size / 1e6:.2f} MB; medians of {REPEATS} runs, each in a fresh repository"
    )
    print(
        f"first commit:  service {medians['ours'][0] * 1000:.0f} ms, git add -A && git commit {medians['cli'][0] * 1000:.0f} ms"
    )
    print(
        f"ratio service / CLI: {medians['ours'][0] / medians['cli'][0]:.2f}x (target <= 1.5x, and under 2 s)"
    )
    print(
        f"next commit ({CHANGED} files changed):  service {medians['ours'][1] * 1000:.0f} ms, CLI {medians['cli'][1] * 1000:.0f} ms"
    )
    print(f"ratio service / CLI: {medians['ours'][1] / medians['cli'][1]:.2f}x")


if __name__ == "__main__":
    main()
