"""A failure, from the builder's sandbox to the model's heal prompt, across the three services.

Each service's own tests stop at its edge (the builder's BuildFailed, the
ledger's HealRequested, the agent's prompt); this one joins them on real
input: `layercake build` runs a real install and real pytest in the sandbox,
the ledger's policy turns its BuildFailed into a heal request, and the agent
builds the prompt a model would read. Issue #19: tests that stopped at
collection gave a heal prompt with no error text and "step none".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from layercake_agent.adapters.folder import MemoryBlobs
from layercake_agent.adapters.templates import load_templates
from layercake_agent.core.record import ProjectRecord, remember
from layercake_agent.service import assemble_prompt
from layercake_contracts.events import BuildFailed, HealRequested, ProjectCreated
from layercake_contracts.values import FileEntry, Gate, Manifest, Role, Step, StepResult
from layercake_gateway.core.gates import GateState
from layercake_gateway.core.outbox import Recorded, announcements
from layercake_gateway.core.policy import Policy, react

pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.skipif(os.geteuid() != 0, reason="the builder's sandbox runs builds as slot users"),
]
LAYERCAKE = str(Path(sys.executable).parent / "layercake")
TREE = {
    "pyproject.toml": '[project]\nname = "shelf"\nversion = "0.1.0"\n'
    '[project.optional-dependencies]\ntest = ["pytest"]\n',
    "shelf/__init__.py": "",
    "shelf/client.py": "import os\nimport httpx_never_declared\n",
    "tests/conftest.py": "from shelf.client import os\n",
    "tests/test_api.py": "def test_api():\n    assert True\n",
}
ROOT = ProjectCreated(project_id="shelf", name="shelf", intake="a reading list", owner="ada")


def build(folder: Path) -> tuple[StepResult, ...]:
    """The step results of a real sandboxed build of `folder` (install, then test)."""
    done = subprocess.run(  # noqa: S603  # our own command, fixed arguments
        [LAYERCAKE, "build", str(folder), "--steps", "install,test", "--json"],
        capture_output=True, text=True, timeout=540, check=False,
        env={**os.environ, "LAYERCAKE_BUILDER_ROOT": str(folder.parent / "builder")},
    )  # fmt: skip
    assert done.stdout.strip(), done.stderr
    return tuple(StepResult.model_validate(r) for r in json.loads(done.stdout))


def heal_request(manifest: Manifest, results: tuple[StepResult, ...]) -> HealRequested:
    """What the ledger asks of the backend after its first build at G5 failed with `results`."""
    project = react(None, ROOT, Policy())
    assert project is not None
    for gate in Gate:
        project.gates[gate.value] = GateState.APPROVED.value
    project.gates[Gate.G5.value] = GateState.IN_PROGRESS.value
    project.collect_events()
    failed = next(r for r in results if not r.ok)
    event = BuildFailed.follow(
        ROOT, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=1, manifest=manifest,
        results=results, failed_step=failed.step,
    )  # fmt: skip
    react(project, event, Policy())
    announced = [
        message
        for e in project.collect_events()
        for message in announcements(Recorded.of(e, project.project_id, project.run_id()))
    ]
    (heal,) = [m for m in announced if isinstance(m, HealRequested)]
    return heal


async def test_tests_stopped_at_collection_give_a_heal_prompt_with_the_error_and_the_step(
    tmp_path,
):
    """Real pytest, stopped by a conftest whose import fails (exit 4): the prompt names the step
    `test`, its command and exit code, and quotes the error, with the file the traceback names."""
    tmp_path.chmod(0o755)
    folder = tmp_path / "shelf"
    for path, text in TREE.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    results = build(folder)
    blobs = MemoryBlobs()
    manifest = Manifest(
        {p: FileEntry(sha256=await blobs.put(t.encode()), size=len(t)) for p, t in TREE.items()}
    )

    heal = heal_request(manifest, results)
    record = remember(ProjectRecord(), ROOT)
    prompt = await assemble_prompt(load_templates(), heal, record, blobs, 16_000)

    assert heal.failed_step is Step.TEST
    assert heal.exit_code == 4
    assert "pytest" in heal.command
    assert "No module named 'httpx_never_declared'" in heal.output_tail
    assert "the step `test` failed" in prompt.task
    assert "exited with code 4" in prompt.task
    assert "ModuleNotFoundError" in prompt.task
    assert "import httpx_never_declared" in prompt.task, "the file the error is in is shown"
    assert "none (no build ran)" not in prompt.task
