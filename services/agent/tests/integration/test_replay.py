"""The replay provider: recorded answers, no network, no key."""

from __future__ import annotations

import socket

import pytest

from layercake_agent.app import create_provider
from layercake_agent.settings import ProviderName, Settings
from layercake_contracts.events import AgentFailed, AgentRequested, CodeGenerated
from layercake_contracts.values import Gate, Role, Usage
from layercake_parser.core.extract import extract

DESIGNS = ["design/option-a.html", "design/option-b.html", "design/option-c.html"]


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


async def test_the_designers_recorded_answer_yields_three_html_files_the_parser_extracts(
    offline, make_service, blobs
):
    """With no key, replay is the provider; its designer answer holds three self-contained pages."""
    settings = Settings()
    assert settings.chosen_provider() is ProviderName.REPLAY
    outcome = await make_service(create_provider(settings)).answer(designer(), blobs)
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


async def test_a_missing_recording_fails_naming_the_key_and_the_path(
    offline, make_service, blobs, recordings
):
    """No attempt-2 recording: AgentFailed names designer/G4/attempt-2 and the file it looked for."""
    provider = create_provider(Settings(replay_dir=recordings))
    outcome = await make_service(provider).answer(designer(attempt=2), blobs)
    assert isinstance(outcome, AgentFailed)
    assert outcome.retryable is False
    assert "no recorded answer for designer/G4/attempt-2" in outcome.reason
    assert str(recordings / "designer" / "G4" / "attempt-2.md") in outcome.reason
