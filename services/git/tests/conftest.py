"""Fixtures of the git service's tests: a workspaces root, an in-memory blob store, events."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

import pytest

from layercake_contracts.bus import sha256_of
from layercake_contracts.events import (
    ArtifactRecorded,
    BuildSucceeded,
    ExportRequested,
    GateApproved,
    GateOpened,
    ProjectCreated,
)
from layercake_contracts.values import FileEntry, Gate, Manifest, Role
from layercake_git.adapters import git as git_adapter
from layercake_git.adapters.git import Git
from layercake_git.adapters.releases import Releases
from layercake_git.adapters.workspaces import Workspaces
from layercake_git.service import Exports, GitService

if TYPE_CHECKING:
    from pathlib import Path

    from layercake_contracts.events import CommitCreated

PROJECT = "shop"
# Plain git for inspecting what the service made: no host config either.
INSPECT_ENV = {
    "PATH": os.environ["PATH"],
    "HOME": "/nonexistent",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "LC_ALL": "C",
}


class MemoryBlobs:
    """The blob store's get/put, in memory."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    async def put(self, data: bytes) -> str:
        digest = sha256_of(data)
        self.data[digest] = data
        return digest

    async def get(self, digest: str) -> bytes:
        return self.data[digest]


@pytest.fixture
def blobs():
    """An empty in-memory blob store."""
    return MemoryBlobs()


@pytest.fixture
def workspaces(tmp_path):
    """A workspaces root whose git has an empty HOME of its own."""
    home = tmp_path / "home"
    home.mkdir()
    return Workspaces(tmp_path / "workspaces", Git(home, timeout_s=30))


@pytest.fixture
def releases(tmp_path, workspaces):
    """The test's release folder, whose repositories the workspaces' git makes."""
    return Releases(tmp_path / "releases", workspaces.git)


@pytest.fixture
def service(workspaces, releases):
    """The git service over the test's workspaces and releases: no network remote, no token."""
    return GitService(workspaces, Exports(releases, (), lambda _url: {}))


@pytest.fixture
def project():
    """The event every test project starts from."""
    return ProjectCreated(project_id=PROJECT, name="shop", intake="a shop", owner="ada")


@pytest.fixture
def manifest_of(blobs):
    """Store files (path -> bytes, or (bytes, mode)) in the blob store; their manifest."""

    def make(files: dict[str, bytes | tuple[bytes, int]], *, checked: bool = True) -> Manifest:
        entries = {}
        for path, spec in files.items():
            data, mode = spec if isinstance(spec, tuple) else (spec, 0o644)
            blobs.data[sha256_of(data)] = data
            entries[path] = FileEntry(sha256=sha256_of(data), size=len(data), mode=mode)
        # Unchecked: as if the contract's own path floor had let a path through.
        return Manifest(entries) if checked else Manifest.model_construct(entries)

    return make


@pytest.fixture
def build(project, manifest_of):
    """A BuildSucceeded of the given files (see `manifest_of`)."""

    def make(
        files, *, gate=Gate.G5, role=Role.BACKEND_DEVELOPER, attempt=1, checked=True
    ) -> BuildSucceeded:
        event = BuildSucceeded.follow(
            project, role=role, gate=gate, attempt=attempt, manifest=Manifest(), results=()
        )
        return event.model_copy(update={"manifest": manifest_of(files, checked=checked)})

    return make


@pytest.fixture
def document(project, blobs):
    """An ArtifactRecorded document of a gate, its content in the blob store."""

    def make(gate: Gate, name: str, text: str, kind: str = "prd") -> ArtifactRecorded:
        data = text.encode()
        blobs.data[sha256_of(data)] = data
        return ArtifactRecorded.follow(
            project, gate=gate, kind=kind, name=name, blob=sha256_of(data)
        )

    return make


@pytest.fixture
def approval(project):
    """A GateApproved of a gate."""
    return lambda gate, by="ada": GateApproved.follow(project, gate=gate, by=by)


@pytest.fixture
def approve(blobs):
    """As the ledger has it: the approval's gate opened (GateOpened), then `service` approves it."""

    async def run(service: GitService, event: GateApproved) -> CommitCreated | None:
        await service.follow_gate(GateOpened.follow(event, gate=event.gate))
        return await service.approve(event, blobs)

    return run


@pytest.fixture
def export(project):
    """An ExportRequested to a remote."""
    return lambda url, branch="main": ExportRequested.follow(project, remote_url=url, branch=branch)


@pytest.fixture
def repo_path(workspaces):
    """Where the test project's bare repository lives."""
    return workspaces.root / f"{PROJECT}.git"


@pytest.fixture
def inspect():
    """Run plain git in a repository and return its output as text."""

    def run(git_dir: Path, *args: str) -> str:
        done = subprocess.run(  # noqa: S603  # fixed git, arguments from the test
            ["git", f"--git-dir={git_dir}", *args],  # noqa: S607
            capture_output=True, env=INSPECT_ENV, check=True, text=True,
        )  # fmt: skip
        return done.stdout

    return run


@pytest.fixture
def bare_remote(tmp_path):
    """An empty bare repository to push to."""
    remote = tmp_path / "remote.git"
    subprocess.run(  # noqa: S603
        ["git", "init", "--quiet", "--bare", str(remote)],  # noqa: S607
        env=INSPECT_ENV,
        check=True,
    )
    return remote


@pytest.fixture
def git_commands(monkeypatch):
    """The argv of every git command the service runs from now on."""
    seen: list[list[str]] = []
    real = subprocess.run

    def spy(argv, *args, **kwargs):
        seen.append(list(argv))
        return real(argv, *args, **kwargs)

    monkeypatch.setattr(git_adapter.subprocess, "run", spy)
    return seen
