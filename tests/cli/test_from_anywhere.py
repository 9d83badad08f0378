"""`layercake` as a user runs it, with none of our settings: from the clone, a folder inside
its home, /tmp-like folders elsewhere; what it finds, and what it says when it finds nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from layercake.natsd import free_port
from layercake_contracts.events import GateApproved, ProjectCreated
from layercake_contracts.values import Gate
from layercake_gateway.adapters.ledger import Ledger
from layercake_gateway.core.policy import Policy

LAYERCAKE = str(Path(sys.executable).parent / "layercake")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Clone:
    """A clone after the demo: its home holds a key, a ledger, a workspace and a checkout."""

    root: Path
    elsewhere: Path  # outside the clone, like /tmp
    env: dict[str, str]

    @property
    def home(self) -> Path:
        return self.root / ".layercake"

    @property
    def checkout(self) -> Path:
        return self.home / "demo" / "calc"

    def run(self, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [LAYERCAKE, *args], cwd=cwd, env={**self.env, **env}, capture_output=True,
            text=True, check=False, timeout=60,
        )  # fmt: skip


def git(*args: str, cwd: Path) -> str:
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1"}
    argv = ["git", *args]  # git from PATH, as a user's
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=True)  # noqa: S603
    return done.stdout.strip()


@pytest.fixture
def clone(tmp_path):
    home = tmp_path / "clone" / ".layercake"
    home.mkdir(parents=True)
    (home / "jwt-secret").write_text("the key an earlier demo made, 32 bytes or more")
    ledger = Ledger(f"sqlite:///{home / 'ledger.db'}", Policy())
    root = ProjectCreated(project_id="calc", name="calc", intake="i", owner="local")
    for position, event in enumerate([root, GateApproved.follow(root, gate=Gate.G0, by="local")]):
        ledger.record(event, position + 1)
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    (work / "app.py").write_text("print('hi')\n")
    git("add", ".", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "G5: the build", cwd=work)
    (home / "workspaces").mkdir()
    git("clone", "-q", "--bare", str(work), str(home / "workspaces" / "calc.git"), cwd=tmp_path)
    git("clone", "-q", str(work), str(home / "demo" / "calc"), cwd=tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "user").mkdir()
    # No setting of ours; a free port only so that no one else's LayerCake on 8080 answers.
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "user"),
           "LAYERCAKE_HTTP_PORT": str(free_port())}  # fmt: skip
    return Clone(tmp_path / "clone", tmp_path / "elsewhere", env)


@pytest.fixture
def sleeper():
    """A live process, to stand for a running `up`."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process.pid
    process.kill()
    process.wait()


def assert_reads_the_clones_home(clone: Clone, cwd: Path, **env: str) -> None:
    replay = clone.run("replay", "calc", "--at", "2", cwd=cwd, **env)
    assert replay.returncode == 0, replay.stderr
    assert "calc at position 2" in replay.stdout
    verified = clone.run("audit", "verify", cwd=cwd, **env)
    assert verified.returncode == 0, verified.stderr
    assert "intact" in verified.stdout
    log = clone.run("log", "calc", cwd=cwd, **env)
    assert log.returncode == 0, log.stderr
    assert git("rev-parse", "--short=7", "HEAD", cwd=clone.checkout) in log.stdout


def test_from_the_clone_and_from_inside_the_generated_repository_the_home_above_is_used(clone):
    """`replay`, `audit verify` and `log` read the ledger and workspaces of the home above."""
    assert_reads_the_clones_home(clone, clone.root)
    assert_reads_the_clones_home(clone, clone.checkout)


def test_from_elsewhere_layercake_home_is_honoured_by_replay_audit_and_log(clone):
    assert_reads_the_clones_home(clone, clone.elsewhere, LAYERCAKE_HOME=str(clone.home))


def test_from_elsewhere_the_running_up_is_found_and_status_says_which_home(clone, sleeper):
    """The user's record names the running up's home; `status` says it was found that way."""
    record = Path(clone.env["HOME"]) / ".local" / "state" / "layercake" / "last-up.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"home": str(clone.home), "pid": sleeper}))
    api = f"http://127.0.0.1:{free_port()}"
    state = {"pid": sleeper, "nats_url": "nats://127.0.0.1:1", "api_url": api, "services": {}}
    (clone.home / "up.json").write_text(json.dumps(state))
    status = clone.run("status", cwd=clone.elsewhere)
    assert status.returncode == 0, status.stderr
    assert f"home {clone.home} (found: the running up)" in status.stdout
    assert f"API {api}: unreachable" in status.stdout
    assert_reads_the_clones_home(clone, clone.elsewhere)
    approve = clone.run("approve", "calc", "G1", cwd=clone.elsewhere)
    assert approve.stderr.startswith(f"LayerCake is not running at {api} (home {clone.home})")


@pytest.mark.parametrize(
    "command", [["replay", "calc"], ["audit", "verify"], ["log", "calc"], ["status"],
                ["status", "calc"], ["approve", "calc", "G0"]],
)  # fmt: skip
def test_with_no_home_anywhere_a_command_says_where_it_looked_in_one_line(clone, command):
    done = clone.run(*command, cwd=clone.elsewhere)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("no LayerCake home found (looked at LAYERCAKE_HOME (unset); ")
    assert str(clone.elsewhere) in line
    assert "last-up.json (no up started yet, or its home is gone)" in line


@pytest.mark.parametrize(
    "command", [["status", "calc"], ["approve", "calc", "G0"], ["reject", "calc", "G0",
                "--reason", "no"], ["select", "calc", "option-a"], ["events", "calc"],
                ["events", "calc", "--follow"], ["prompts"]],
)  # fmt: skip
def test_every_api_command_with_up_stopped_says_so_in_one_line(clone, command):
    done = clone.run(*command, cwd=clone.checkout)
    assert done.returncode == 2, done.stdout
    url = f"http://127.0.0.1:{clone.env['LAYERCAKE_HTTP_PORT']}"
    assert done.stderr.splitlines() == [
        f"LayerCake is not running at {url} (home {clone.home}): start it with `layercake up`"
    ]


def test_status_with_a_home_but_no_up_names_the_home_and_how_it_was_found(clone):
    done = clone.run("status", cwd=clone.checkout)
    assert done.returncode == 1
    expected = f"LayerCake is not running (home {clone.home} (found: upwards from cwd)): start"
    assert done.stderr.splitlines() == [f"{expected} it with `layercake up`"]


class _StreamThenStop(BaseHTTPRequestHandler):
    """A gateway that sends one event of a stream, then goes away mid-stream."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        body = b'event: GateOpened\ndata: {"gate": "G0"}\n\n'
        self.wfile.write(b"%x\r\n%s\r\n" % (len(body), body))
        self.wfile.flush()
        self.close_connection = True  # no closing chunk: the stream is cut, as when up stops

    def log_message(self, *_args: object) -> None:
        pass


def test_events_follow_ends_with_one_clear_line_when_the_gateway_stops(clone):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StreamThenStop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = clone.run(
            "events", "calc", "--follow", cwd=clone.checkout,
            LAYERCAKE_API_URL=f"http://127.0.0.1:{server.server_port}", LAYERCAKE_TOKEN="t",  # noqa: S106  # the stand-in reads none
        )  # fmt: skip
    finally:
        server.shutdown()
    assert done.returncode == 1
    assert done.stdout == 'GateOpened {"gate": "G0"}\n'
    [line] = done.stderr.splitlines()
    assert line.startswith("the event stream of calc ended: the gateway stopped")


def test_the_suite_gives_each_test_a_home_of_its_own_never_the_clones():
    """After the demo the clone has a `.layercake/`; a test must not find it."""
    from layercake.home import find_home  # noqa: PLC0415

    found = find_home(ROOT, os.environ)
    assert found.found == "LAYERCAKE_HOME"
    assert not found.path.is_relative_to(ROOT)
    assert not Path(os.environ["XDG_STATE_HOME"]).is_relative_to(Path.home() / ".local")


def test_token_create_with_no_home_asks_for_the_key_it_lacks_and_signs_with_one_given(clone):
    lacking = clone.run("token", "create", "ada", cwd=clone.elsewhere)
    assert lacking.returncode == 2
    assert "set LAYERCAKE_JWT_SECRET first" in lacking.stderr
    given = clone.run("token", "create", "ada", cwd=clone.elsewhere, LAYERCAKE_JWT_SECRET="k" * 32)
    assert given.returncode == 0, given.stderr
    assert given.stdout.count(".") == 2, "a JWT"
