"""The replay provider: recorded answers, no network, no key, and only for their own project."""

from __future__ import annotations

import hashlib
import socket

import pytest

from layercake.demo import shipped
from layercake_agent.app import create_provider
from layercake_agent.errors import RecordingsInvalid
from layercake_agent.settings import ProviderName, Settings
from layercake_contracts.events import AgentFailed, AgentRequested, CodeGenerated, ProjectCreated
from layercake_contracts.values import Gate, Role, Usage
from layercake_parser.core.extract import extract

DESIGNS = ["design/option-a.html", "design/option-b.html", "design/option-c.html"]
CONFIGURE = (
    "set LAYERCAKE_ANTHROPIC_API_KEY, or LAYERCAKE_OPENAI_BASE_URL, or LAYERCAKE_PROVIDER=manual"
)
NOTES = "# notes\n\nA web page to keep notes in, with a JSON API.\n"


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No key in the environment or a .env file, and any attempt to connect fails the test."""
    for name in ("PROVIDER", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(f"LAYERCAKE_{name}", raising=False)
    monkeypatch.chdir(tmp_path)

    def refuse(self, address):
        pytest.fail(f"the replay provider tried to connect to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def designer(attempt: int = 1) -> AgentRequested:
    return AgentRequested(
        project_id="shop", role=Role.DESIGNER, gate=Gate.G4, attempt=attempt,
        instructions="Three directions for the main screen.",
    )  # fmt: skip


async def replaying(make_service, settings: Settings, name: str, intake: str):
    """The service on the replay provider, having seen project `shop` created as `name`."""
    service = make_service(create_provider(settings))
    await service.remember(ProjectCreated(project_id="shop", name=name, intake=intake, owner="ada"))
    return service


def a_set(root, folder: str, manifest: str, answers: dict[str, str]) -> None:
    """A set of recordings under `root`: its manifest and answers by `role/gate/attempt-n`."""
    (root / folder).mkdir(parents=True)
    (root / folder / "manifest.toml").write_text(manifest)
    for key, text in answers.items():
        (root / folder / f"{key}.md").parent.mkdir(parents=True, exist_ok=True)
        (root / folder / f"{key}.md").write_text(text)


async def test_the_designers_recorded_answer_yields_three_html_files_the_parser_extracts(
    offline, make_service, blobs
):
    """With no key, replay is the provider; for the demo's intake, its designer answer holds
    three self-contained pages."""
    settings = Settings()
    assert settings.chosen_provider() is ProviderName.REPLAY
    service = await replaying(make_service, settings, "tally", shipped().intake)
    outcome = await service.answer(designer(), blobs)
    assert isinstance(outcome, CodeGenerated)
    assert (outcome.model, outcome.usage) == ("replay", Usage())
    result = extract((await blobs.get(outcome.answer)).decode())
    assert [f.path for f in result.files] == DESIGNS
    assert result.rejected == ()
    for page in result.files:
        assert page.content.startswith("<!doctype html>")
        assert "<style>" in page.content
        assert "</html>" in page.content
        for external in ("http://", "https://", "<link", "src="):
            assert external not in page.content, f"{page.path} is not self-contained"


async def test_a_project_with_another_intake_fails_at_once_naming_what_to_configure(
    offline, make_service, blobs
):
    """A user's own project is not answered with the demo's recordings, even when it is named
    `tally`: AgentFailed, not retryable, says which settings would answer it."""
    service = await replaying(make_service, Settings(), "tally", NOTES)
    outcome = await service.answer(designer(), blobs)
    assert isinstance(outcome, AgentFailed)
    assert outcome.retryable is False
    assert outcome.reason.startswith("no recording for project 'tally'")
    assert CONFIGURE in outcome.reason


async def test_a_missing_recording_fails_naming_the_key_and_the_path(
    offline, make_service, blobs, recordings
):
    """The demo's set has no attempt-2: AgentFailed names designer/G4/attempt-2 and its file."""
    settings = Settings(replay_dir=recordings)
    service = await replaying(make_service, settings, "tally", shipped().intake)
    outcome = await service.answer(designer(attempt=2), blobs)
    assert isinstance(outcome, AgentFailed)
    assert outcome.retryable is False
    assert "no recorded answer for designer/G4/attempt-2" in outcome.reason
    assert str(recordings / "tally" / "designer" / "G4" / "attempt-2.md") in outcome.reason


async def test_a_second_set_is_a_folder_with_a_manifest_and_answers_its_own_project(
    offline, make_service, blobs, tmp_path
):
    """Two sets side by side: each project gets the answers recorded for its intake."""
    root = tmp_path / "recordings"
    digest = hashlib.sha256(NOTES.encode()).hexdigest()
    a_set(root, "notes", f'project = "notes"\nintake_sha256 = "{digest}"\n',
          {"designer/G4/attempt-1": "notes' designs"})  # fmt: skip
    a_set(root, "other", f'project = "other"\nintake_sha256 = "{"0" * 64}"\n',
          {"designer/G4/attempt-1": "other designs"})  # fmt: skip
    service = await replaying(make_service, Settings(replay_dir=root), "mine", NOTES)
    outcome = await service.answer(designer(), blobs)
    assert isinstance(outcome, CodeGenerated)
    assert (await blobs.get(outcome.answer)).decode() == "notes' designs"


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        (None, "no manifest.toml"),
        ('project = "x"\nintake_sha256 = "abc"\n', "intake_sha256"),
        (f'project = "x"\nintake_sha256 = "{"0" * 64}"\nname = "y"\n', "name"),
        ('project = "x\n', "not TOML"),
    ],
    ids=["missing", "bad digest", "unknown key", "broken toml"],
)
def test_a_set_with_a_bad_manifest_is_refused_naming_the_file_and_what_is_wrong(
    tmp_path, manifest, problem
):
    """The provider is not made from a set it cannot key: the error names the set and the fault."""
    (tmp_path / "broken" / "designer").mkdir(parents=True)
    if manifest is not None:
        (tmp_path / "broken" / "manifest.toml").write_text(manifest)
    with pytest.raises(RecordingsInvalid) as raised:
        create_provider(Settings(provider="replay", replay_dir=tmp_path))
    assert str(tmp_path / "broken") in str(raised.value)
    assert problem in str(raised.value)


def test_two_sets_for_one_intake_are_refused_naming_both(tmp_path):
    """Which set would answer is not left to the order of a directory listing."""
    for folder in ("first", "second"):
        a_set(tmp_path, folder, f'project = "x"\nintake_sha256 = "{"1" * 64}"\n', {})
    with pytest.raises(RecordingsInvalid, match=r"first.*second|second.*first"):
        create_provider(Settings(provider="replay", replay_dir=tmp_path))


async def test_a_project_whose_creation_was_not_seen_yet_fails_retryably(
    offline, make_service, blobs
):
    """The request came before ProjectCreated reached the agent: its intake is unknown, so which
    set answers cannot be told yet, and asking again later may succeed."""
    outcome = await make_service(create_provider(Settings())).answer(designer(), blobs)
    assert isinstance(outcome, AgentFailed)
    assert outcome.retryable is True
    assert "its intake was not seen yet" in outcome.reason
    assert CONFIGURE in outcome.reason
