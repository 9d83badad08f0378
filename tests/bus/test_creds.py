"""`layercake creds create NAME --read-only [--project P]`: what it writes and what it refuses."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import nats
import pytest
import yaml
from nats.errors import Error as NatsError
from typer.testing import CliRunner

from layercake.cli import app
from layercake.natsauth import ROLES, Credentials
from layercake.natsd import NatsServer
from layercake.stores import STATE_FILE
from layercake_testing.waiting import settle

ROOT = Path(__file__).resolve().parents[2]


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


def test_init_issues_what_up_issues_for_a_cluster(home):
    """`creds init`: the admin's and each service's seed (0600) and a config naming all six."""
    done = CliRunner().invoke(app, ["creds", "init"])
    assert done.exit_code == 0, done.output
    folder = home / "creds"
    seeds = sorted(p.stem for p in folder.glob("*.nk"))
    assert seeds == ["admin", "agent", "builder", "gateway", "git", "parser"]
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.glob("*")} == {0o600}
    config = json.loads((folder / "nats-server.conf").read_text())
    assert "no_auth_user" not in config
    assert len(config["authorization"]["users"]) == len(seeds)


def test_compose_gives_each_service_its_own_seed_and_nats_the_config():
    """In the cluster too, the server requires credentials and no service holds another's."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    nats = compose["services"]["nats"]
    assert "/etc/nats/nats-server.conf" in nats["command"]
    assert any(v.endswith(":/etc/nats/nats-server.conf:ro") for v in nats["volumes"])
    for name in ROLES:
        service = compose["services"][name]
        assert service["secrets"] == [f"{name}-nkey"]
        assert (
            service["environment"]["LAYERCAKE_NATS_NKEY_SEED_FILE"] == f"/run/secrets/{name}-nkey"
        )
        assert compose["secrets"][f"{name}-nkey"]["file"] == f"./.layercake/creds/{name}.nk"


def test_the_bus_document_says_every_server_requires_an_nkey():
    """docs/asyncapi.json names the sign-in on each server and how an integrator reads."""
    document = json.loads((ROOT / "docs" / "asyncapi.json").read_text())
    scheme = document["components"]["securitySchemes"]["nkey"]
    assert "creds create NAME --read-only" in scheme["description"]
    for server in document["servers"].values():
        assert server["security"] == [{"$ref": "#/components/securitySchemes/nkey"}]


@pytest.mark.nats
async def test_a_running_up_lets_new_read_only_credentials_in_at_once(home):
    """`creds create` while `up` runs: the server reloads, the integrator signs in, no restart."""
    CliRunner().invoke(app, ["creds", "init"])
    server = NatsServer(store_dir=home / "nats", config_file=home / "creds" / "nats-server.conf")
    server.store_dir.mkdir()
    server.start()
    try:
        # What `up` writes about itself: this process stands in for it.
        (home / STATE_FILE).write_text(
            json.dumps({"pid": os.getpid(), "nats_pid": server.process.pid, "api_url": "-"})
        )
        done = CliRunner().invoke(app, ["creds", "create", "dashboard", "--read-only"])
        assert done.exit_code == 0, done.output
        seed = str(home / "creds" / "dashboard.nk")

        async def signed_in() -> bool:
            try:
                connection = await nats.connect(
                    server.url, nkeys_seed=seed, allow_reconnect=False, max_reconnect_attempts=0
                )
            except (NatsError, OSError):  # refused: the server closes the connection
                return False
            await connection.close()
            return True

        assert await settle(signed_in)
    finally:
        server.stop()
