"""Attacks on the git service: each is refused with a clear error, and no git command runs."""

from __future__ import annotations

import stat
import uuid
from pathlib import Path

import pytest

from layercake_git.errors import PathRefused

APP = b"print('hello')\n"


def marker() -> Path:
    """A file in /tmp that an attack would create; unique per test."""
    return Path(f"/tmp/lc-git-attack-{uuid.uuid4().hex}")  # noqa: S108  # where an attack would write


@pytest.mark.parametrize("path", [".git/hooks/post-commit", "src/.GIT/config", "a/.Git./hooks/x"])
async def test_a_manifest_writing_into_git_is_refused_before_any_git_runs(
    service, build, blobs, git_commands, repo_path, path
):
    """The whole commit is refused, naming the path; no repository is made, nothing runs."""
    event = build({"app.py": APP, path: b"#!/bin/sh\ntouch /tmp/pwned\n"}, checked=False)
    with pytest.raises(PathRefused, match="git's own folder") as refused:
        await service.commit_build(event, blobs)
    assert refused.value.value == path
    assert git_commands == []
    assert not repo_path.exists()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("--upload-pack=touch {marker}", "starts with '-'"),
        (
            "ext::sh -c touch% {marker}",
            "'<transport>::<address>' form (such as ext::) runs commands",
        ),
        ("ext::sh%20-c%20touch%20{marker}", "'<transport>::<address>' form"),
        ("ssh://-oProxyCommand=touch%20{marker}/x", "starts with '-'"),
        ("http://example.com/x.git", "scheme 'http' is not allowed"),
        ("relative/x.git", "none of the allowed forms"),
    ],
)
async def test_a_hostile_remote_gives_push_failed_and_runs_nothing(
    service, build, export, blobs, git_commands, url, reason
):
    """Options and command-running transports in the URL are refused with the reason."""
    await service.commit_build(build({"app.py": APP}), blobs)
    git_commands.clear()
    touched = marker()
    failed = await service.export(export(url.format(marker=touched)))
    assert failed.type == "PushFailed"
    assert reason in failed.reason
    assert failed.reason.startswith("remote URL ")
    assert git_commands == []
    assert not touched.exists()


async def test_a_branch_named_like_an_option_gives_push_failed_and_runs_nothing(
    service, build, export, blobs, git_commands, releases
):
    """Branch `-f` is refused by name before git runs; no release is made."""
    await service.commit_build(build({"app.py": APP}), blobs)
    git_commands.clear()
    failed = await service.export(export("v1", branch="-f"))
    assert failed.type == "PushFailed"
    assert (
        failed.reason
        == "branch name '-f' refused: it starts with '-', which git would read as an option"
    )
    assert git_commands == []
    assert not releases.root.exists()


async def test_planted_hooks_and_a_planted_hooks_path_never_run(
    approve, service, build, document, approval, export, blobs, repo_path, inspect, tmp_path
):
    """Executable hooks in the repository, or a hooksPath in its config, do not run on commit or push."""
    await service.commit_build(build({"app.py": APP}), blobs)
    touched = tmp_path / "hook-ran"
    elsewhere = tmp_path / "planted-hooks"
    elsewhere.mkdir()
    for folder in (repo_path / "hooks", elsewhere):
        folder.mkdir(exist_ok=True)
        for hook in (
            "pre-commit",
            "post-commit",
            "commit-msg",
            "reference-transaction",
            "pre-push",
            "post-update",
        ):
            script = folder / hook
            script.write_text(f"#!/bin/sh\necho {hook} >> {touched}\n")
            script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    (repo_path / "config").write_text(
        (repo_path / "config").read_text()
        + f"[core]\n\thooksPath = {elsewhere}\n\tfsmonitor = {elsewhere}/pre-commit\n"
    )
    await service.commit_build(build({"app.py": APP, "b.py": b"b\n"}, attempt=2), blobs)
    await service.record_artifact(document("G5", "notes", "n\n", kind="report"))
    assert await approve(service, approval("G5")) is not None
    pushed = await service.export(export("v1"))
    assert pushed.type == "PushCompleted"
    assert not touched.exists()
    assert inspect(repo_path, "rev-list", "--count", "main").strip() == "3"


async def test_the_repository_config_switches_hooks_and_fsmonitor_off(
    service, build, blobs, inspect, repo_path
):
    """A person's own git in the repository runs no hooks either."""
    await service.commit_build(build({"app.py": APP}), blobs)
    assert inspect(repo_path, "config", "core.hooksPath").strip() == "/dev/null"
    assert inspect(repo_path, "config", "core.fsmonitor").strip() == "false"
