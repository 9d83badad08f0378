"""Exports on real repositories: a push to a bare remote, failures with reasons, a token kept secret."""

from __future__ import annotations

import base64
import logging

import pytest
import structlog

from layercake_contracts.values import Gate
from layercake_git.adapters.git import Git
from layercake_git.app import create_workspaces, push_env
from layercake_git.service import GitService
from layercake_git.settings import Settings

APP = b"print('hello')\n"
TOKEN = "ghp_s3cr3t-t0ken-never-shown"  # noqa: S105  # a test token


@pytest.fixture
async def approved(service, build, document, approval, blobs):
    """A project with an approved G2 (a document) and an approved G5 (two builds)."""
    await service.record_artifact(document(Gate.G2, "PRD", "# PRD\n"))
    await service.approve(approval(Gate.G2), blobs)
    await service.commit_build(build({"app.py": APP}), blobs)
    await service.commit_build(build({"app.py": APP, "b.py": b"b\n"}, attempt=2), blobs)
    await service.approve(approval(Gate.G5), blobs)


@pytest.mark.parametrize("form", ["path", "file-url"])
async def test_a_push_to_a_bare_repository_gives_the_same_log_and_tags(
    service, export, approved, inspect, repo_path, bare_remote, form
):
    """The remote's main has our history exactly, with the approval tags; the event has its sha."""
    url = str(bare_remote) if form == "path" else f"file://{bare_remote}"
    pushed = await service.export(export(url))
    assert pushed.type == "PushCompleted"
    ours = inspect(repo_path, "log", "--format=%H %an %s", "main")
    assert inspect(bare_remote, "log", "--format=%H %an %s", "main") == ours
    assert len(ours.splitlines()) == 3
    assert pushed.sha == ours.split()[0]
    assert inspect(bare_remote, "tag").split() == ["g2-approved", "g5-approved"]


async def test_pushing_a_branch_the_repository_lacks_gives_push_failed(
    service, export, approved, bare_remote
):
    """The reason names the missing branch."""
    failed = await service.export(export(str(bare_remote), branch="release"))
    assert failed.type == "PushFailed"
    assert failed.reason == "the project's repository has no branch 'release'"


async def test_exporting_a_project_without_a_repository_gives_push_failed(
    service, export, bare_remote
):
    """Nothing committed yet: the reason says so."""
    failed = await service.export(export(str(bare_remote)))
    assert failed.reason == "project 'shop' has no repository yet"


@pytest.mark.parametrize("url", ["file:///nonexistent/x.git", "https://127.0.0.1:1/x.git"])
async def test_an_unreachable_remote_gives_push_failed_with_gits_reason(
    service, export, approved, url
):
    """git's own words say why the push failed."""
    failed = await service.export(export(url))
    assert failed.type == "PushFailed"
    assert failed.reason.startswith("git push failed (exit 128): ")
    assert (
        "nonexistent" in failed.reason or "Failed to connect to 127.0.0.1 port 1" in failed.reason
    )


@pytest.fixture
def token_service(workspaces):
    """The git service with a token for https remotes, wired as the app wires it."""
    settings = Settings(workspaces_root=workspaces.root, git_token=TOKEN)
    return GitService(create_workspaces(settings), push_env(settings))


async def test_the_token_is_in_no_config_argv_event_or_log(
    token_service, build, export, blobs, repo_path, git_commands, caplog, capsys
):
    """A failed https push with a token: not in the repository's config, argv, the event or a log."""
    await token_service.commit_build(build({"app.py": APP}), blobs)
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        failed = await token_service.export(export("https://127.0.0.1:1/x.git", branch="gate/g5"))
    assert failed.type == "PushFailed"
    assert [entry["event"] for entry in logs] == ["push_failed"]
    assert any("push" in argv for argv in git_commands)
    printed = capsys.readouterr()
    for text in (
        (repo_path / "config").read_text(),
        repr(git_commands),
        failed.model_dump_json(),
        repr(logs),
        caplog.text,
        printed.out + printed.err,
    ):
        assert TOKEN not in text
        assert "Authorization" not in text


def test_git_is_handed_the_token_header_for_the_https_remote_only(tmp_path):
    """git sees a Basic header for the remote's host from the environment alone; no other host."""
    settings = Settings(workspaces_root=tmp_path / "ws", git_token=TOKEN, git_username="bot")
    env = push_env(settings)("https://git.example.com/team/x.git")
    git = Git(tmp_path, timeout_s=10)

    def header_for(url: str) -> str:
        done = git.run("config", "--get-urlmatch", "http.extraHeader", url, env=env, accept=(0, 1))
        return done.stdout.decode().strip()

    scheme, _, encoded = header_for("https://git.example.com/team/x.git").partition(" Basic ")
    assert scheme == "Authorization:"
    assert base64.b64decode(encoded).decode() == f"bot:{TOKEN}"
    assert header_for("https://evil.example.org/x.git") == ""
    assert push_env(settings)(str(tmp_path / "remote.git")) == {}
