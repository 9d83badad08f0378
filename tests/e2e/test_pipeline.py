"""Three services as separate processes on one nats-server: a model's answer becomes a
tested, committed tree (CodeGenerated → parser → FilesWritten → builder → BuildSucceeded
→ git → CommitCreated)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from layercake_contracts.events import CodeGenerated, CommitCreated, ProjectCreated
from layercake_contracts.runtime import ServiceRuntime
from layercake_contracts.values import Gate, Manifest, Role, Usage
from layercake_testing.waiting import eventually

pytestmark = [
    pytest.mark.nats,
    pytest.mark.skipif(os.geteuid() != 0, reason="the builder's slot users need root"),
]
LAYERCAKE = str(Path(sys.executable).parent / "layercake")
ANSWER = """Here is the tool.

```python:wordcount.py
def count_words(text: str) -> int:
    return len(text.split())
```

```python:tests/test_wordcount.py
from wordcount import count_words


def test_counts_words():
    assert count_words("a b  c") == 3
```

```text:requirements.txt
```
"""


@pytest.fixture
def workdir():
    base = Path(tempfile.mkdtemp(prefix="lc-pipeline-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def services(nats_server, workdir):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(workdir),
        "LAYERCAKE_NATS_URL": nats_server.url,
        "LAYERCAKE_BUILDER_ROOT": str(workdir / "builder"),
        "LAYERCAKE_WORKSPACES_ROOT": str(workdir / "workspaces"),
    }
    processes = [
        subprocess.Popen(  # noqa: S603
            [LAYERCAKE, name, "run"],
            env=env,
            cwd=workdir,
            stdout=(workdir / f"{name}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for name in ("parser", "builder", "git")
    ]
    yield workdir
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


async def test_an_answer_becomes_a_tested_commit(services, nats_server):
    """The commit holds exactly the answer's files, made by the backend developer, traced to its event."""
    client = ServiceRuntime("e2e", nats_server.url)
    commits: list[CommitCreated] = []

    @client.subscribe(client.broker, CommitCreated)
    async def on_commit(event: CommitCreated) -> None:
        commits.append(event)

    await client.start()
    try:
        blobs = await client.bus.blobs()
        root = ProjectCreated(project_id="wc", name="wc", intake="a word counter", owner="ada")
        answer = CodeGenerated.follow(
            root, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=1,
            answer=await blobs.put(ANSWER.encode()), base=Manifest(), model="replay",
            usage=Usage(), duration_s=0.0,
        )  # fmt: skip
        await client.bus.publish(answer)
        await eventually(lambda: bool(commits), within=240)
    finally:
        await client.stop()

    [commit] = commits
    assert commit.role is Role.BACKEND_DEVELOPER
    assert commit.files_changed >= 3
    repository = services / "workspaces" / "wc.git"
    listed = git(repository, "ls-tree", "-r", "--name-only", commit.sha).split()
    assert {"wordcount.py", "tests/test_wordcount.py", "requirements.txt"} <= set(listed)
    assert "LayerCake-Event:" in git(repository, "log", "-1", "--format=%B", commit.sha)


def git(repository: Path, *args: str) -> str:
    return subprocess.run(  # noqa: S603
        ["git", "-C", str(repository), *args],  # noqa: S607
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
