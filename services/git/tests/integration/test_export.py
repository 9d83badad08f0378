"""Exports on real repositories: a push to a release, failures with reasons, a token kept secret."""

from __future__ import annotations

import base64
import logging

import pytest
import structlog

from layercake_contracts.values import Gate
from layercake_git.adapters.git import Git
from layercake_git.adapters.releases import release_path
from layercake_git.app import create_service, push_env
from layercake_git.core.remotes import address_of
from layercake_git.errors import GitFailed
from layercake_git.service import Exports, GitService
from layercake_git.settings import Settings

APP = b"print('hello')\n"
TOKEN = "ghp_s3cr3t-t0ken-never-shown"  # noqa: S105  # a test token


@pytest.fixture
async def approved(approve, service, build, document, approval, blobs):
    """A project with an approved G2 (a document) and an approved G5 (two builds)."""
    await service.record_artifact(document(Gate.G2, "PRD", "# PRD\n"))
    await approve(service, approval(Gate.G2))
    await service.commit_build(build({"app.py": APP}), blobs)
    await service.commit_build(build({"app.py": APP, "b.py": b"b\n"}, attempt=2), blobs)
    await approve(service, approval(Gate.G5))


async def test_a_push_to_a_release_gives_the_same_log_and_tags(
    service, export, approved, inspect, repo_path, releases
):
    """The release's main has our history exactly, with the approval tags; the event has its sha."""
    pushed = await service.export(export("v1"))
    assert pushed.type == "PushCompleted"
    assert pushed.remote_url == "v1"
    release = release_path(releases.root, "shop", "v1")
    ours = inspect(repo_path, "log", "--format=%H %an %s", "main")
    assert inspect(release, "log", "--format=%H %an %s", "main") == ours
    assert len(ours.splitlines()) == 3
    assert pushed.sha == ours.split()[0]
    assert inspect(release, "tag").split() == ["g2-approved", "g5-approved"]


async def test_a_release_pushed_before_g9_is_approved_gets_its_tag_once_it_is(
    approve, service, export, approval, approved, inspect, releases, blobs
):
    """Export, then GateApproved(G9): the approval's tag follows the release it marks."""
    pushed = await service.export(export("v1"))
    await approve(service, approval(Gate.G9))
    release = release_path(releases.root, "shop", "v1")
    assert inspect(release, "tag").split() == ["g2-approved", "g5-approved", "g9-approved"]
    assert inspect(release, "rev-parse", "g9-approved^{commit}").strip() == pushed.sha


async def test_a_release_pushed_after_g9_is_approved_carries_its_tag(
    approve, service, export, approval, approved, inspect, releases, blobs
):
    """GateApproved(G9), then the export the ledger issues after it: g9-approved is pushed too."""
    await approve(service, approval(Gate.G9))
    pushed = await service.export(export("v1"))
    release = release_path(releases.root, "shop", "v1")
    assert inspect(release, "tag").split() == ["g2-approved", "g5-approved", "g9-approved"]
    assert inspect(release, "rev-parse", "g9-approved^{commit}").strip() == pushed.sha


async def test_an_earlier_release_gets_no_tag_of_work_it_does_not_hold(
    approve, service, build, document, approval, export, inspect, releases, blobs
):
    """Exported after G2; G5 is approved later: the release keeps g2-approved only, main unmoved."""
    await service.record_artifact(document(Gate.G2, "PRD", "# PRD\n"))
    g2 = await approve(service, approval(Gate.G2))
    await service.export(export("v1"))
    await service.commit_build(build({"app.py": APP}), blobs)
    await approve(service, approval(Gate.G5))
    release = release_path(releases.root, "shop", "v1")
    assert inspect(release, "tag").split() == ["g2-approved"]
    assert inspect(release, "rev-parse", "main").strip() == g2.sha


async def test_a_release_repository_is_bare_private_with_our_config_and_no_hooks(
    service, export, approved, inspect, releases
):
    """Made by the service: hooks off in its config, no hooks folder, no one else may write."""
    await service.export(export("v1"))
    release = release_path(releases.root, "shop", "v1")
    assert inspect(release, "config", "core.bare").strip() == "true"
    assert inspect(release, "config", "core.hooksPath").strip() == "/dev/null"
    assert not (release / "hooks").exists()
    for folder in (releases.root, release.parent, release):
        assert folder.stat().st_mode & 0o077 == 0


async def test_a_second_export_to_a_release_moves_it_on(
    service, export, approved, build, blobs, inspect, releases
):
    """The release repository is made once and then pushed to again."""
    await service.export(export("v1"))
    await service.commit_build(build({"app.py": APP, "c.py": b"c\n"}, attempt=3), blobs)
    pushed = await service.export(export("v1", branch="gate/g5"))
    assert pushed.type == "PushCompleted"
    release = release_path(releases.root, "shop", "v1")
    assert inspect(release, "rev-parse", "gate/g5").strip() == pushed.sha
    assert inspect(release, "rev-list", "--count", "main").strip() == "3"


@pytest.mark.parametrize("planted", ["project-folder", "dangling", "repository"])
async def test_a_release_reached_through_a_link_is_refused(
    service, export, approved, releases, tmp_path, planted
):
    """A link in place of the project's folder or of the release itself: PushFailed, no push."""
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "v1.git").mkdir(parents=True)
    releases.root.mkdir(mode=0o700)
    if planted != "repository":
        (releases.root / "shop").symlink_to(elsewhere if planted == "project-folder" else "/nx")
        where = "shop"
    else:
        (releases.root / "shop").mkdir(mode=0o700)
        (releases.root / "shop" / "v1.git").symlink_to(elsewhere / "v1.git")
        where = "shop/v1.git"
    failed = await service.export(export("v1"))
    assert failed.type == "PushFailed"
    assert failed.reason == f"release 'v1' refused: its folder {where!r} is a link or no folder"
    assert list((elsewhere / "v1.git").iterdir()) == []


async def test_a_release_folder_others_may_write_to_is_refused(service, export, approved, releases):
    """A release folder writable by group or others could be planted in: refused."""
    releases.root.mkdir()
    releases.root.chmod(0o777)
    failed = await service.export(export("v1"))
    assert failed.reason == "release 'v1' refused: the release folder is writable by others"
    assert list(releases.root.iterdir()) == []


async def test_git_itself_refuses_the_file_protocol_outside_a_release_push(
    workspaces, approved, repo_path, bare_remote
):
    """Even past the checks, a plain push to a local path stops at `protocol.file.allow=never`."""
    with pytest.raises(GitFailed, match="transport 'file' not allowed"):
        workspaces.repository("shop").push(str(bare_remote), ("refs/heads/main",), {})
    assert list((bare_remote / "refs/heads").iterdir()) == []


async def test_pushing_a_branch_the_repository_lacks_gives_push_failed(service, export, approved):
    """The reason names the missing branch."""
    failed = await service.export(export("v1", branch="release"))
    assert failed.type == "PushFailed"
    assert failed.reason == "the project's repository has no branch 'release'"


async def test_exporting_a_project_without_a_repository_gives_push_failed(
    service, export, releases
):
    """Nothing committed yet: the reason says so, and no release is made."""
    failed = await service.export(export("v1"))
    assert failed.reason == "project 'shop' has no repository yet"
    assert not releases.root.exists()


@pytest.fixture
def remote_service(workspaces, releases):
    """The git service allowing the remotes under https://127.0.0.1:1/ (nothing listens)."""
    remotes = (address_of("https://127.0.0.1:1/"),)
    return GitService(workspaces, Exports(releases, remotes, lambda _url: {}))


async def test_an_unreachable_allowed_remote_gives_push_failed_with_gits_reason(
    remote_service, export, approved
):
    """git's own words say why the push failed."""
    failed = await remote_service.export(export("https://127.0.0.1:1/x.git"))
    assert failed.type == "PushFailed"
    assert failed.reason.startswith("git push failed (exit 128): ")
    assert "Failed to connect to 127.0.0.1 port 1" in failed.reason


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://example.com/x.git", "under none of the remotes LAYERCAKE_GIT_REMOTES allows"),
        ("https://127.0.0.1:2/x.git", "under none of the remotes LAYERCAKE_GIT_REMOTES allows"),
        ("ssh://127.0.0.1:1/x.git", "under none of the remotes LAYERCAKE_GIT_REMOTES allows"),
        ("https://127.0.0.1@example.com/x.git", "it carries credentials"),  # a user part
        ("https://127.0.0.1:1/../x.git", "a '.' or '..' segment"),
    ],
)
async def test_a_remote_outside_the_allowed_ones_gives_push_failed_naming_the_rule(
    remote_service, export, approved, git_commands, url, reason
):
    """Only remotes under LAYERCAKE_GIT_REMOTES are pushed to; nothing else reaches git."""
    git_commands.clear()
    failed = await remote_service.export(export(url))
    assert failed.type == "PushFailed"
    assert failed.reason.startswith("remote URL ")
    assert reason in failed.reason
    assert git_commands == []


@pytest.fixture
def token_service(workspaces, tmp_path):
    """The git service with a token for an allowed https remote, wired as the app wires it."""
    settings = Settings(
        workspaces_root=workspaces.root,
        git_release_root=tmp_path / "releases",
        git_remotes=("https://127.0.0.1:1/",),
        git_token=TOKEN,
        git_token_hosts=("127.0.0.1:1",),
    )
    return create_service(settings)


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


def test_git_is_handed_the_token_header_for_its_bound_host_only(tmp_path):
    """git sees a Basic header for the bound host from the environment alone; no other host."""
    settings = Settings(
        workspaces_root=tmp_path / "ws",
        git_token=TOKEN,
        git_token_hosts=("git.example.com/team/",),
        git_username="bot",
    )
    env = push_env(settings)("https://git.example.com/team/x.git")
    git = Git(tmp_path, timeout_s=10)

    def header_for(url: str) -> str:
        done = git.run("config", "--get-urlmatch", "http.extraHeader", url, env=env, accept=(0, 1))
        return done.stdout.decode().strip()

    scheme, _, encoded = header_for("https://git.example.com/team/x.git").partition(" Basic ")
    assert scheme == "Authorization:"
    assert base64.b64decode(encoded).decode() == f"bot:{TOKEN}"
    assert header_for("https://evil.example.org/x.git") == ""
    assert header_for("https://git.example.com/other/x.git") == ""
    assert push_env(settings)("https://git.example.com/other/x.git") == {}
    assert push_env(settings)("ssh://git.example.com/team/x.git") == {}


def test_a_token_bound_to_no_host_is_refused_at_start(tmp_path):
    """A token with no LAYERCAKE_GIT_TOKEN_HOSTS would go nowhere: the settings say so."""
    with pytest.raises(ValueError, match="LAYERCAKE_GIT_TOKEN_HOSTS names no host"):
        Settings(workspaces_root=tmp_path, git_token=TOKEN)


@pytest.mark.parametrize(
    ("field", "entry"), [("git_remotes", "/srv/git/"), ("git_token_hosts", "ada:pw@github.com")]
)
def test_a_setting_that_names_no_remote_is_refused_at_start(tmp_path, field, entry):
    """A local path as a remote, or credentials in a token host, fail the settings by name."""
    with pytest.raises(ValueError, match=field):
        Settings(workspaces_root=tmp_path, **{field: (entry,)})
