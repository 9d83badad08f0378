"""`layercake agent ask` as a user runs it: a real process, streaming to the terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from layercake_agent.settings import SHIPPED_RECORDINGS

LAYERCAKE = str(Path(sys.executable).parent / "layercake")
TALLY_INTAKE = SHIPPED_RECORDINGS / "tally" / "intake.md"


def ask(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LAYERCAKE_")}
    return subprocess.run(  # noqa: S603
        [LAYERCAKE, "agent", "ask", *args], capture_output=True, text=True, check=False,
        cwd=cwd, env={**clean, **env}, timeout=60,
    )  # fmt: skip


def test_ask_replays_the_designer_for_the_demos_intake_and_prints_the_usage(tmp_path):
    """With --provider replay and the demo's intake, tally's recorded answer goes to stdout,
    the usage line to stderr."""
    done = ask(
        tmp_path, "designer", "--prompt", "x", "--provider", "replay", "--intake", str(TALLY_INTAKE)
    )
    assert done.returncode == 0, done.stderr
    recorded = SHIPPED_RECORDINGS / "tally" / "designer" / "G4" / "attempt-1.md"
    assert done.stdout == recorded.read_text()
    assert "replay: 0 input, 0 output" in done.stderr


def test_ask_replaying_without_a_recorded_intake_exits_1_naming_what_to_configure(tmp_path):
    """No intake, so no set of recordings: the error says which settings would answer."""
    done = ask(tmp_path, "designer", "--prompt", "A shop for socks.", "--provider", "replay")
    assert done.returncode == 1
    assert "no recording for project 'cli'" in done.stderr
    assert "set LAYERCAKE_ANTHROPIC_API_KEY, or LAYERCAKE_OPENAI_BASE_URL" in done.stderr


def test_ask_streams_a_real_sdk_answer_with_the_context_folder(tmp_path, model_api):
    """Against the Anthropic API, the answer streams out, the folder is in the prompt, cost shown."""
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "app" / "main.py").write_text("print('hi')\n")
    model_api.answer("Use FastAPI.", input_tokens=1000, output_tokens=100)
    done = ask(
        tmp_path, "backend_developer", "--prompt", "Which framework?", "--context", str(project),
        LAYERCAKE_ANTHROPIC_API_KEY="test-key", LAYERCAKE_ANTHROPIC_BASE_URL=model_api.url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Use FastAPI."
    assert "1000 input, 100 output" in done.stderr
    assert "$0.0045" in done.stderr  # 1000 x $3 + 100 x $15 per million
    context = model_api.bodies[0]["messages"][0]["content"][0]["text"]
    assert "print('hi')" in context


def test_ask_without_a_recording_exits_1_naming_the_path(tmp_path):
    """A missing recording is an error on stderr that names where it looked."""
    done = ask(
        tmp_path, "designer", "--prompt", "x", "--gate", "G9", "--provider", "replay",
        "--intake", str(TALLY_INTAKE),
    )  # fmt: skip
    assert done.returncode == 1
    assert "no recorded answer for designer/G9/attempt-1" in done.stderr
    assert "tally/designer/G9/attempt-1.md" in done.stderr
