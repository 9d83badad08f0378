"""Each service as a deployable of its own: its wheel, the contracts wheel, a fresh venv.

Each service's console script runs as an operator would run it, from a folder outside the
checkout and with none of our settings (the venvs: `conftest.py`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.packaging.conftest import SERVICES, ok, run

# What each script's help lists: the worker, its health check and that service's own commands.
COMMANDS = {
    "parser": ("run", "health", "parse"),
    "builder": ("run", "health", "build"),
    "agent": ("run", "health", "ask"),
    "git": ("run", "health", "log"),
    "gateway": ("run", "health", "replay", "audit", "token"),
}
pytestmark = pytest.mark.timeout(300)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_s_own_script_and_module_list_its_worker_and_its_commands(
    venvs: dict[str, Path], service: str, tmp_path: Path
) -> None:
    """`layercake-SERVICE --help` and `python -m layercake_SERVICE --help` name its commands."""
    bin_ = venvs[service]
    for argv in ([str(bin_ / f"layercake-{service}"), "--help"],
                 [str(bin_ / "python"), "-m", f"layercake_{service}", "--help"]):  # fmt: skip
        shown = ok(argv, tmp_path)
        assert all(command in shown for command in COMMANDS[service]), shown
        assert "layercake-" + service in shown, shown


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_s_venv_holds_no_other_service(venvs: dict[str, Path], service: str) -> None:
    """Only the contracts come along: no other service, no umbrella."""
    listed = ok(["uv", "pip", "list", "--python", str(venvs[service] / "python")], venvs[service])
    ours = {line.split()[0] for line in listed.splitlines() if line.startswith("layercake")}
    assert ours == {"layercake-contracts", f"layercake-{service}"}


def test_the_parser_s_wheel_parses_an_answer_from_stdin(
    venvs: dict[str, Path], tmp_path: Path
) -> None:
    """`layercake-parser parse -` names the file a small answer writes."""
    answer = "Here it is.\n\n```python src/hello.py\nprint('hello')\n```\n"
    done = run(
        [str(venvs["parser"] / "layercake-parser"), "parse", "-", "--json"], tmp_path, answer
    )
    assert done.returncode == 0, done.stderr
    assert '"src/hello.py"' in done.stdout


def test_the_agent_s_wheel_replays_its_packaged_recording_for_the_tally_intake(
    venvs: dict[str, Path], tmp_path: Path
) -> None:
    """The recordings are package data: found in the venv by the intake's sha256, offline."""
    python = str(venvs["agent"] / "python")
    where = "from layercake_agent.settings import SHIPPED_RECORDINGS as R; print(R)"
    recordings = Path(ok([python, "-c", where], tmp_path).strip())
    assert recordings.is_relative_to(venvs["agent"].parent), recordings
    intake = recordings / "tally" / "intake.md"
    done = run([str(venvs["agent"] / "layercake-agent"), "ask", "designer", "--prompt", "x",
                 "--provider", "replay", "--intake", str(intake)], tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == (recordings / "tally" / "designer" / "G4" / "attempt-1.md").read_text()


def test_the_gateway_s_wheel_creates_a_token_with_the_secret_set(
    venvs: dict[str, Path], tmp_path: Path
) -> None:
    """`layercake-gateway token create` signs a JWT with LAYERCAKE_JWT_SECRET; without it, says so."""
    script = str(venvs["gateway"] / "layercake-gateway")
    made = run([script, "token", "create", "alice"], tmp_path, LAYERCAKE_JWT_SECRET="s" * 32)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().count(".") == 2, made.stdout
    assert "for alice expires" in made.stderr
    assert "`layercake-gateway token revoke " in made.stderr, made.stderr
    refused = run([script, "token", "create", "alice"], tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert "LAYERCAKE_JWT_SECRET" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_the_contracts_wheel_ships_a_schema_per_event(
    venvs: dict[str, Path], tmp_path: Path
) -> None:
    """`schema_folder()` finds the JSON Schemas inside the installed contracts wheel."""
    count = ("from layercake_contracts.schemas import schema_folder as f; "
             "from layercake_contracts.events import EVENT_TYPES as E; "
             "print(f(), len(list(f().glob('*.json'))), len(E))")  # fmt: skip
    folder, schemas, events = ok([str(venvs["parser"] / "python"), "-c", count], tmp_path).split()
    assert Path(folder).is_relative_to(venvs["parser"].parent), folder
    assert schemas == events
    assert int(schemas) > 0
