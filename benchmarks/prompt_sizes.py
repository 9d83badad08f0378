"""Prompt sizes per role and gate, now and at an older commit, measured in the same run.

Two walks through G1..G8, each request's prompt assembled by the agent's own
`assemble_prompt` with each role's default context budget:

- `tally`: the shipped demo. Its intake and recorded answers (the agent's package data,
  services/agent/src/layercake_agent/recordings/tally/) applied to the tree by the real
  parser after each step, design option-a selected, one heal round of the backend.
- `notes`: a full-stack intake of this script's own (a JSON API in SQLite and
  a page), its tree made of documents and code of typical sizes (see `NOTES_TREE`);
  the frontend and backend each ask once and heal once.

The agent, as on the bus, has heard ProjectCreated and OptionSelected only.
For the old sizes the walk runs again in a subprocess on the agent package of
`--ref` (default 971ac94, before #19's prompt work), taken from git.

    uv run --frozen python benchmarks/prompt_sizes.py [--ref REV]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from layercake_agent.adapters.folder import MemoryBlobs
from layercake_agent.adapters.templates import load_templates
from layercake_agent.core.record import ProjectRecord, remember
from layercake_agent.service import assemble_prompt
from layercake_agent.settings import Settings
from layercake_contracts.events import (
    AgentRequested,
    HealRequested,
    OptionSelected,
    ProjectCreated,
)
from layercake_contracts.values import FileEntry, Gate, Manifest, Role, Step
from layercake_parser.core.extract import extract

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = ROOT / "services/agent/src/layercake_agent/recordings"
TALLY_INTAKE = (RECORDINGS / "tally/intake.md").read_text()
PM, ARCH, DESIGN = Role.PRODUCT_MANAGER, Role.ARCHITECT, Role.DESIGNER
BACK, FRONT, QA = Role.BACKEND_DEVELOPER, Role.FRONTEND_DEVELOPER, Role.QA_ENGINEER
SEC, OPS = Role.SECURITY_ENGINEER, Role.DEVOPS_ENGINEER
# role, gate, attempt (2: a heal round)
TALLY_WALK = [(PM, Gate.G1, 1), (PM, Gate.G2, 1), (ARCH, Gate.G3, 1), (DESIGN, Gate.G4, 1),
              (BACK, Gate.G5, 1), (BACK, Gate.G5, 2), (QA, Gate.G6, 1), (SEC, Gate.G7, 1),
              (OPS, Gate.G8, 1)]  # fmt: skip
NOTES_WALK = [(PM, Gate.G1, 1), (PM, Gate.G2, 1), (ARCH, Gate.G3, 1), (DESIGN, Gate.G4, 1),
              (BACK, Gate.G5, 1), (BACK, Gate.G5, 2), (FRONT, Gate.G5, 1), (FRONT, Gate.G5, 2),
              (QA, Gate.G6, 1), (SEC, Gate.G7, 1), (OPS, Gate.G8, 1)]  # fmt: skip
NOTES_INTAKE = (
    "# notes\n\nA small web app to keep notes: a JSON API (FastAPI, SQLite) to create, list,\n"
    "edit and delete notes with a title and a body, and one page (TypeScript, Vite, no\n"
    "framework) that lists them and edits one. Tests for both: pytest and Vitest.\n"
)
# The files each gate's answer adds to the notes tree, with their sizes in characters.
NOTES_TREE: dict[Gate, dict[str, int]] = {
    Gate.G1: {"docs/intake-review.md": 3_000},
    Gate.G2: {"docs/prd.md": 14_000},
    Gate.G3: {"docs/architecture.md": 4_000, "docs/openapi.yaml": 9_000, "docs/schema.sql": 1_500},
    Gate.G4: {f"design/option-{x}.html": 11_000 for x in "abc"},
    Gate.G5: {"server/pyproject.toml": 600, "server/notes/__init__.py": 50,
              "server/notes/app.py": 4_000, "server/notes/store.py": 3_000,
              "server/tests/conftest.py": 600, "server/tests/test_api.py": 5_000,
              "server/uv.lock": 60_000, "web/package.json": 700, "web/package-lock.json": 90_000,
              "web/index.html": 800, "web/src/main.ts": 3_500, "web/src/api.ts": 2_500,
              "web/src/style.css": 2_000, "web/src/main.test.ts": 3_000},
    Gate.G6: {"server/tests/test_us.py": 6_000, "web/src/stories.test.ts": 3_000},
    Gate.G7: {"docs/security-review.md": 5_000},
}  # fmt: skip
OUTPUT_TAIL = (
    "ImportError while loading conftest 'server/tests/conftest.py'.\n"
    "server/tests/conftest.py:3: in <module>\n    from starlette.testclient import TestClient\n"
    "E   RuntimeError: The starlette.testclient module requires the httpx package.\n"
)


def filler(path: str, size: int) -> str:
    """`size` characters of text that reads as the file it stands for."""
    line = f"{path}: a line of this file's real content, as a model would write it.\n"
    if path.endswith("architecture.md"):
        head = "# Architecture\n\nKind: full-stack\n\n"
        return head + line * max(0, (size - len(head)) // len(line))
    return line * max(1, size // len(line))


class Walk:
    """A tree of blobs and the agent's record, as the gates go by."""

    def __init__(self, name: str, intake: str, *, has_ui: bool) -> None:
        self.blobs = MemoryBlobs()
        self.texts: dict[str, str] = {}
        self.created = ProjectCreated(
            project_id=name, name=name, intake=intake, owner="bench", has_ui=has_ui
        )
        self.record = remember(ProjectRecord(), self.created)

    async def base(self) -> Manifest:
        entries = {}
        for path, text in self.texts.items():
            entries[path] = FileEntry(sha256=await self.blobs.put(text.encode()), size=len(text))
        return Manifest(entries)

    def select(self, option: str) -> None:
        event = OptionSelected.follow(self.created, gate=Gate.G4, option=option, by="bench")
        self.record = remember(self.record, event)

    async def size(self, role: Role, gate: Gate, attempt: int) -> tuple[int, int]:
        base = await self.base()
        if attempt == 1:
            request: AgentRequested | HealRequested = AgentRequested.follow(
                self.created, role=role, gate=gate, base=base
            )
        else:
            request = HealRequested.follow(
                self.created, role=role, gate=gate, attempt=attempt, base=base,
                failed_step=Step.TEST, command="uv run pytest -q", exit_code=4,
                output_tail=OUTPUT_TAIL,
            )  # fmt: skip
        budget = Settings().context_budget(role)
        prompt = await assemble_prompt(load_templates(), request, self.record, self.blobs, budget)
        chars = len(prompt.system) + len(prompt.context) + len(prompt.task)
        return chars, prompt.estimated_tokens


async def tally() -> list[tuple[str, int, int]]:
    walk = Walk("tally", TALLY_INTAKE, has_ui=False)
    sizes = []
    for role, gate, attempt in TALLY_WALK:
        sizes.append((f"tally {role}/{gate}/{attempt}", *await walk.size(role, gate, attempt)))
        answer = RECORDINGS / str(role) / str(gate) / f"attempt-{attempt}.md"
        if answer.exists():
            for file in extract(answer.read_text(), walk.texts).files:
                walk.texts[file.path] = file.content
        if gate is Gate.G4:
            walk.select("option-a")
    return sizes


async def notes() -> list[tuple[str, int, int]]:
    walk = Walk("notes", NOTES_INTAKE, has_ui=True)
    sizes = []
    for role, gate, attempt in NOTES_WALK:
        sizes.append((f"notes {role}/{gate}/{attempt}", *await walk.size(role, gate, attempt)))
        if attempt == 1 and role is not FRONT:
            walk.texts.update({p: filler(p, n) for p, n in NOTES_TREE.get(gate, {}).items()})
        if gate is Gate.G4:
            walk.select("option-b")
    return sizes


async def measure() -> list[tuple[str, int, int]]:
    return [*await tally(), *await notes()]


def old_sizes(ref: str) -> dict[str, tuple[int, int]]:
    """The same walks on the agent package of `ref`, in a subprocess."""
    archive = subprocess.run(
        ["git", "archive", ref, "services/agent/src"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tempfile.TemporaryDirectory() as folder, tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
        src = Path(folder) / "services/agent/src"
        env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        run = subprocess.run(
            [sys.executable, __file__, "--json"], env=env, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
    return {name: (chars, tokens) for name, chars, tokens in json.loads(run.stdout)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="971ac94", help="the commit of the old sizes")
    parser.add_argument("--json", action="store_true", help="print this package's sizes as JSON")
    args = parser.parse_args()
    now = asyncio.run(measure())
    if args.json:
        print(json.dumps(now))
        return
    old = old_sizes(args.ref)
    print(f"{'request (role/gate/attempt)':<40} {'chars':>7} {'tokens':>7} {'old chars':>10} "
          f"{'old tokens':>10} {'ratio':>6}")  # fmt: skip
    for name, chars, tokens in now:
        was_chars, was_tokens = old[name]
        print(f"{name:<40} {chars:>7} {tokens:>7} {was_chars:>10} {was_tokens:>10} "
              f"{chars / was_chars:>6.2f}")  # fmt: skip
    total, was = sum(c for _, c, _ in now), sum(old[n][0] for n, _, _ in now)
    print(f"{'all requests':<40} {total:>7} {'':>7} {was:>10} {'':>10} {total / was:>6.2f}")


if __name__ == "__main__":
    main()
