"""`layercake up` never meets another: it refuses a taken port naming the holder, gives up on a
nats-server that keeps failing, and stops at once, even with a live event stream open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from tests.e2e.conftest import LAYERCAKE, TESTER, System, launched

from layercake.natsd import free_port
from layercake.stores import SERVICES, jwt_secret, read_state
from layercake.up import SERVER_CONFIG, bus_credentials
from layercake_gateway.api import create_token

pytestmark = pytest.mark.nats

LISTENER = """
import socket, sys, time
sock = socket.socket()
sock.bind(("127.0.0.1", int(sys.argv[1])))
sock.listen()
print("listening", flush=True)
time.sleep(300)
"""


def refused_up(system: System) -> subprocess.CompletedProcess[str]:
    """`up` run to its end (a refusal ends it at once)."""
    return subprocess.run(  # noqa: S603
        [LAYERCAKE, "up"], env=system.env, cwd=system.home, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture
def alone(tmp_path):
    """A system that is not started: its folder and free ports."""
    return System(tmp_path)


@pytest.fixture
def squatter():
    """Start a process that listens on a port, as another program would; its process and port."""
    started: list[subprocess.Popen[str]] = []

    def listen() -> tuple[subprocess.Popen[str], int]:
        port = free_port()
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", LISTENER, str(port)], stdout=subprocess.PIPE, text=True
        )
        started.append(process)
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "listening"
        return process, port

    yield listen
    for process in started:
        process.kill()
        process.wait()


@pytest.mark.parametrize(
    ("setting", "value"),
    [("LAYERCAKE_NATS_URL", "nats://127.0.0.1:{port}"), ("LAYERCAKE_HTTP_PORT", "{port}")],
)
def test_up_refuses_a_port_another_process_listens_on_naming_its_pid_and_command(
    alone, squatter, setting, value
):
    """With its NATS or HTTP port taken, `up` exits 1 naming the port, the holder's pid and command
    and the setting to change, having started nothing."""
    holder, port = squatter()
    alone.env[setting] = value.format(port=port)

    done = refused_up(alone)

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"port {port}" in done.stderr
    assert f"pid {holder.pid} ({sys.executable} -c" in done.stderr
    assert setting in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not (alone.state_home / "nats" / "server.log").exists(), "no nats-server was started"
    assert not list((alone.state_home / "logs").glob("*.log")), "no service was started"
    assert holder.poll() is None, "the holder is left alone"


def test_a_second_up_from_another_folder_refuses_naming_the_first_ones_home(tmp_path):
    """A second `up` on the first one's ports exits 1 naming the first's home folder and pid;
    the first runs on, none of its services restarted."""
    with launched() as first:
        second = System(tmp_path)
        second.env.update(
            LAYERCAKE_NATS_URL=first.nats_url, LAYERCAKE_HTTP_PORT=first.env["LAYERCAKE_HTTP_PORT"]
        )

        done = refused_up(second)

        assert done.returncode == 1, done.stdout + done.stderr
        first_up = read_state(first.state_home)
        assert first_up is not None
        assert f"the layercake up (pid {first_up['pid']}) that runs from {first.state_home}" in (
            done.stderr
        )
        assert "nats-server" in done.stderr
        assert not (second.state_home / "nats" / "server.log").exists()
        assert httpx.get(f"{first.api_url}/healthz", timeout=5).status_code == 200
        assert all(first.restarts_of(name) == 0 for name in SERVICES)
        assert first.stop() == 0, first.logs()


def test_a_nats_server_that_keeps_failing_stops_up_with_the_end_of_its_log():
    """With the server's config broken and the server killed, `up` tries again with a backoff, then
    exits 1 saying how often it failed and what the server logged, in seconds, not for ever."""
    with launched() as system:
        state = read_state(system.state_home)
        assert state is not None
        config = bus_credentials(system.state_home).folder / SERVER_CONFIG
        config.write_text("this is { not a config")
        os.kill(int(state["nats_pid"]), signal.SIGKILL)
        began = time.monotonic()

        assert system.process is not None
        code = system.process.wait(timeout=60)

        took = time.monotonic() - began
        said = (system.home / "up.out").read_text()
        assert code == 1, said
        assert "nats-server failed 4 times in a row" in said
        assert "Parse error on line 1" in said
        assert said.count("starting it again in") == 3, said
        assert 3 < took < 40, said
        assert "Traceback" not in said


def test_ctrl_c_with_a_live_event_stream_stops_up_in_seconds_and_the_gateway_by_itself():
    """SIGINT to `up` while `layercake events --follow` is connected: everything stops well
    before the 20 s kill, the gateway exits by itself, and the follower ends without a traceback."""
    with launched() as system:
        token = create_token(jwt_secret(system.state_home), TESTER)
        with httpx.Client(
            base_url=system.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            created = client.post(
                "/projects", json={"project_id": "quiet", "name": "quiet", "intake": "A notes app."}
            )
            assert created.status_code == 201, created.text
        follower = subprocess.Popen(  # noqa: S603
            [LAYERCAKE, "events", "quiet", "--follow"],
            env={**system.env, "LAYERCAKE_API_URL": system.api_url, "LAYERCAKE_TOKEN": token},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert follower.stdout is not None
        assert follower.stdout.readline().startswith("ProjectCreated "), "the stream is live"

        assert system.process is not None
        system.process.send_signal(signal.SIGINT)
        began = time.monotonic()
        code = system.process.wait(timeout=60)
        took = time.monotonic() - began

        said = (system.home / "up.out").read_text()
        assert code == 0, said
        assert took < 10, f"up took {took:.1f} s to stop:\n{said}"
        assert "killing it" not in said
        gateway_log = (system.state_home / "logs" / "gateway.log").read_text()
        assert "service_stopped" in gateway_log, gateway_log[-3000:]
        for log in (system.state_home / "logs").glob("*.log"):  # idle pulls are no errors
            assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
        rest, _ = follower.communicate(timeout=10)
        assert follower.returncode == 0, rest
        assert "Traceback" not in rest
