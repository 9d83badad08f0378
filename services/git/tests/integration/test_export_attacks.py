"""Attacks through exports (issue #14): a local remote, another tenant's repository, a password.

A local remote is the dangerous one: git runs `git-receive-pack` in the target
and, for a local transport, drops our `-c` settings, so the target's own config
and hooks would run as the git service's user (root).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import structlog

from layercake_contracts.events import ExportRequested, GateApproved, ProjectCreated
from layercake_contracts.values import Gate
from layercake_git.adapters.releases import release_path

if TYPE_CHECKING:
    from pathlib import Path

APP = b"print('hello')\n"
PROJECT = "shop"  # the conftest's project


def plant_repository(folder: Path, alternate: Path, marker: Path) -> None:
    """A repository as a project could write it into its tree: its config and a hook run `id`."""
    for sub in ("objects/info", "refs/heads", "hooks"):
        (folder / sub).mkdir(parents=True)
    (folder / "HEAD").write_text("ref: refs/heads/main\n")
    (folder / "config").write_text(
        "[core]\n\trepositoryformatversion = 0\n\tbare = true\n"
        f"\talternateRefsCommand = \"sh -c 'id > {marker}.alternates; echo'\"\n"
    )
    (folder / "objects/info/alternates").write_text(f"{alternate / 'objects'}\n")
    hook = folder / "hooks/pre-receive"
    hook.write_text(f"#!/bin/sh\nid > {marker}.hook\n")
    hook.chmod(0o755)


def written(marker: Path) -> list[Path]:
    """The files the planted config or hook wrote, if any ran."""
    return sorted(marker.parent.glob(f"{marker.name}.*"))


@pytest.mark.parametrize("form", ["path", "file-url"])
async def test_export_to_a_local_path_is_refused(
    service, build, export, blobs, git_commands, bare_remote, tmp_path, form
):
    """A planted repository's alternateRefsCommand and pre-receive hook never run; PushFailed says why."""
    await service.commit_build(build({"app.py": APP}), blobs)
    planted = tmp_path / "builder/tree/evil"
    marker = tmp_path / "ran"
    plant_repository(planted, bare_remote, marker)
    git_commands.clear()
    url = str(planted) if form == "path" else planted.as_uri()
    failed = await service.export(export(url, branch="gate/g5"))
    assert written(marker) == []
    assert failed.type == "PushFailed"
    assert failed.reason.startswith(f"remote URL {url!r} refused: a local path")
    assert not any("push" in argv for argv in git_commands)


async def test_an_export_to_another_tenants_repository_is_refused(
    approve, service, build, export, blobs, inspect, workspaces
):
    """Bob names alice's repository under the workspaces root: refused, and alice's refs stay."""
    alice = ProjectCreated(project_id="alice", name="a", intake="a", owner="alice")
    bob = ProjectCreated(project_id="bob", name="b", intake="b", owner="bob")
    for who in (alice, bob):
        made = build({"app.py": f"print({who.project_id!r})\n".encode()})
        await service.commit_build(made.model_copy(update={"project_id": who.project_id}), blobs)
    await approve(service, GateApproved.follow(bob, gate=Gate.G5, by="bob"))
    alices = workspaces.root / "alice.git"
    before = inspect(alices, "for-each-ref", "--format=%(refname) %(objectname)")
    for url in (str(alices), alices.as_uri()):
        failed = await service.export(ExportRequested.follow(bob, remote_url=url, branch="main"))
        assert failed.type == "PushFailed"
        assert "refused: a local path" in failed.reason
    assert inspect(alices, "for-each-ref", "--format=%(refname) %(objectname)") == before
    assert "main" not in before


async def test_a_release_is_the_projects_own_so_bob_cannot_name_alices(
    approve, service, build, approval, export, blobs, inspect, releases
):
    """The same release name from bob lands in bob's folder; alice's release keeps her commit."""
    bob = ProjectCreated(project_id="bob", name="b", intake="b", owner="bob")
    await service.commit_build(build({"app.py": APP}), blobs)
    await approve(service, approval(Gate.G5))
    assert (await service.export(export("v1"))).type == "PushCompleted"
    made = build({"app.py": b"print('bob')\n"}).model_copy(update={"project_id": "bob"})
    await service.commit_build(made, blobs)
    await approve(service, GateApproved.follow(bob, gate=Gate.G5, by="bob"))
    alices = release_path(releases.root, PROJECT, "v1")
    before = inspect(alices, "rev-parse", "main")
    for name in ("v1", f"../{PROJECT}/v1", f"{PROJECT}/v1"):
        await service.export(ExportRequested.follow(bob, remote_url=name))
    assert inspect(alices, "rev-parse", "main") == before
    bobs = release_path(releases.root, "bob", "v1")
    assert inspect(bobs, "rev-parse", "main") != before
    assert sorted(p.name for p in releases.root.iterdir()) == ["bob", PROJECT]


@pytest.mark.parametrize("scheme", ["https", "ssh"])
async def test_a_refused_remotes_password_is_shown_in_no_event_or_log(service, export, scheme):
    """`scheme://user:pw@host/…` is refused, and shown as `scheme://***@host/…` everywhere."""
    # The contract refuses such a URL (no event holds one); an event that skipped it still must not
    # spread it: model_copy does not validate.
    request = export("v1").model_copy(
        update={"remote_url": f"{scheme}://ada:hunter2-pw@example.com/x.git"}
    )
    with structlog.testing.capture_logs() as logs:
        failed = await service.export(request)
    assert failed.type == "PushFailed"
    assert failed.remote_url == f"{scheme}://***@example.com/x.git"
    assert failed.reason == (
        f"remote URL '{scheme}://***@example.com/x.git' refused: "
        "it carries credentials; the token comes from LAYERCAKE_GIT_TOKEN"
    )
    assert [entry["event"] for entry in logs] == ["export_refused"]
    for text in (failed.model_dump_json(), repr(logs)):
        assert "hunter2-pw" not in text
        assert "ada" not in text
