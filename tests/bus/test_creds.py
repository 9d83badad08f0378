"""`layercake creds create NAME --read-only [--project P]`: what it writes and what it refuses."""

from __future__ import annotations

import json
import stat

import pytest
from typer.testing import CliRunner

from layercake.cli import app
from layercake.natsauth import Credentials


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERCAKE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_read_only_credentials_are_a_private_seed_the_servers_config_knows(home):
    """The seed is 0600; the server's config gains a user who may publish no event."""
    done = CliRunner().invoke(app, ["creds", "create", "dashboard", "--read-only"])
    assert done.exit_code == 0, done.output
    seed = home.resolve() / "creds" / "dashboard.nk"
    assert str(seed) in done.output
    assert "lc.evt.>" in done.output
    assert stat.S_IMODE(seed.stat().st_mode) == 0o600
    config = json.loads((home / "creds" / "nats-server.conf").read_text())
    [user] = config["authorization"]["users"]
    assert user["nkey"] == Credentials(home / "creds").public_key("dashboard")
    assert not any(s.startswith("lc.") for s in user["permissions"]["publish"]["allow"])


def test_credentials_that_may_act_are_refused(home):
    """Without --read-only nothing is issued: a system that acts uses the HTTP API."""
    done = CliRunner().invoke(app, ["creds", "create", "robot"])
    assert done.exit_code == 2
    assert "HTTP API" in done.output
    assert not (home / "creds").exists()


@pytest.mark.parametrize("name", ["gateway", "admin", "a.b", "x>", "Upper"])
def test_a_name_that_is_a_service_or_no_subject_token_is_refused(home, name):
    """An integrator cannot be issued a service's name, nor one that would widen its subjects."""
    done = CliRunner().invoke(app, ["creds", "create", name, "--read-only"])
    assert done.exit_code == 2
    assert "no credentials" in done.output
    assert not (home / "creds" / f"{name}.nk").exists()
