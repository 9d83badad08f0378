"""Hostile steps, on both sandbox back-ends: each is stopped or contained, reported, and the host is untouched."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import structlog

from layercake_builder.adapters.sandbox import SLOT_UID_BASE, _claim_slot, _sweep
from layercake_testing.waiting import settle

from .conftest import codes

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="slot users need root; see the sandbox README"
)


async def test_fork_bomb_is_bounded_and_reported(jail, leftover):
    """A fork bomb hits the process limit, the step ends, and no process of it is left."""
    script = jail.script(
        "bomb.py",
        "import os, time\nwhile True:\n    try:\n        os.fork()\n    except OSError as e:\n"
        "        print('fork failed:', e, flush=True)\n        time.sleep(0.05)\n        os._exit(1)\n",
    )
    done = await jail.run("python3", script, timeout_s=20)
    assert not done.timed_out
    assert "process_limit" in codes(done), done.output[-500:]
    assert leftover() == []


async def test_memory_hog_is_killed_and_reported_as_out_of_memory(jail):
    """Allocating far past the memory limit fails the step with an out-of-memory finding."""
    script = jail.script(
        "hog.py", "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))\n"
    )
    done = await jail.run("python3", script)
    assert done.exit_code not in (0, None)
    assert "out_of_memory" in codes(done)


async def test_infinite_loop_times_out_and_leaves_no_process(jail, leftover):
    """The whole process group goes at the timeout, even a child that left the session."""
    script = jail.script(
        "spin.py",
        "import os, subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import os; os.setsid(); [0 for _ in iter(int, 1)]'],"
        " start_new_session=True)\nwhile True:\n    pass\n",
    )
    done = await jail.run("python3", script, timeout_s=3)
    assert done.timed_out
    assert "timeout" in codes(done)
    assert leftover() == []


async def test_two_gigabyte_write_is_stopped_by_the_file_size_limit(jail):
    """Writing past the file-size limit stops the step; the file stays at the limit."""
    script = jail.script(
        "big.py",
        "chunk = b'x' * (1024 * 1024)\nwith open('big.bin', 'wb') as f:\n"
        "    for _ in range(2048):\n        f.write(chunk)\n",
    )
    done = await jail.run("python3", script)
    assert done.exit_code not in (0, None)
    assert "file_size_limit" in codes(done) or "File too large" in done.output
    assert (jail.project / "big.bin").stat().st_size <= 16 * 1024 * 1024


async def test_output_flood_is_capped(jail):
    """A step printing 50 MB keeps 1 MB (head and tail) and says how much it cut."""
    script = jail.script(
        "flood.py",
        "import sys\nprint('FIRST-LINE')\nfor _ in range(50):\n    sys.stdout.write('y' * (1024 * 1024))\n"
        "print('LAST-LINE')\n",
    )
    done = await jail.run("python3", script)
    assert done.exit_code == 0
    assert done.dropped_bytes > 48 * 1024 * 1024
    assert len(done.output) < 1100 * 1024
    assert done.output.startswith("FIRST-LINE")
    assert done.output.rstrip().endswith("LAST-LINE")
    assert "output_capped" in codes(done)


async def test_connecting_to_a_loopback_server_of_the_host_is_refused(jail):
    """A server listening on the host's 127.0.0.1 is out of reach: the sandbox has its own network."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted: list[object] = []
    server.settimeout(5)
    thread = threading.Thread(target=lambda: accepted.append(_accept(server)), daemon=True)
    thread.start()
    script = jail.script(
        "connect.py",
        f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
        "    print('CONNECTED')\nexcept OSError as e:\n    print('REFUSED', e)\n    raise SystemExit(3)\n",
    )
    done = await jail.run("python3", script)
    thread.join(6)
    server.close()
    assert done.exit_code == 3, done.output
    assert "REFUSED" in done.output
    assert accepted == [None]


def _accept(server: socket.socket):
    try:
        connection, _ = server.accept()
    except OSError:
        return None
    connection.close()
    return "accepted"


async def test_reading_a_host_file_through_a_planted_symlink_fails(jail):
    """A link inside the project to a file outside it leads nowhere in the sandbox."""
    secret = jail.outside / "secret.txt"
    secret.write_text("HOST-SECRET")
    secret.chmod(0o644)
    os.symlink(secret, jail.project / "link.txt")
    os.symlink("/etc/shadow", jail.project / "shadow")
    script = jail.script(
        "read.py",
        "for name in ('link.txt', 'shadow'):\n    try:\n        print(open(name).read())\n"
        "    except OSError as e:\n        print('FAILED', name, type(e).__name__)\n",
    )
    done = await jail.run("python3", script)
    assert "HOST-SECRET" not in done.output
    assert "FAILED link.txt" in done.output
    assert "FAILED shadow" in done.output


async def test_the_environment_holds_no_host_variable(jail, monkeypatch):
    """A planted secret in the builder's environment is not in the step's."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-planted-secret")
    monkeypatch.setenv("LAYERCAKE_NATS_URL", "nats://secret-bus:4222")
    done = await jail.run("sh", "-c", "env; id -u; ls -a / ; ls /root /home 2>&1")
    assert done.exit_code is not None
    assert "sk-planted-secret" not in done.output
    assert "secret-bus" not in done.output
    assert "HOME=/cache/home" in done.output


async def test_the_step_is_not_root_and_has_no_capabilities(jail):
    """Inside, every capability set is empty."""
    done = await jail.run("sh", "-c", "grep Cap /proc/self/status")
    lines = dict(line.split(":") for line in done.output.strip().splitlines())
    assert {key: value.strip() for key, value in lines.items()} == dict.fromkeys(
        ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"), "0000000000000000"
    )


# Both Popen objects are kept: one dropped is collected, and the next Popen reaps it (the
# subprocess module's clean-up of its active children), so the zombie was sometimes gone.
ADOPTER = """import subprocess, sys, time
uid = int(sys.argv[1])
kept = [subprocess.Popen(["true"], user=uid), subprocess.Popen(["sleep", "60"], user=uid)]
print("started", flush=True)
time.sleep(60)
"""


@pytest.fixture
def adopted():
    """A slot user's processes, one ended and one asleep, under a parent that never reaps.

    The slot is claimed as a builder claims it: a builder of another test running beside
    this one would otherwise take the same uid, and its sweep would kill the sleeper.
    """
    slot, lock = _claim_slot()
    uid = SLOT_UID_BASE + slot
    adopter = subprocess.Popen(  # noqa: S603  # our own script
        [sys.executable, "-c", ADOPTER, str(uid)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert adopter.stdout is not None
        assert adopter.stdout.readline() == "started\n"
        yield uid, adopter.pid
    finally:
        adopter.kill()
        adopter.wait()
        os.close(lock)


async def test_a_zombie_of_another_parent_does_not_hold_a_slot_but_a_running_process_goes(adopted):
    """After a builder is killed its steps' zombies belong to whoever adopted them: the sweep
    kills what still runs as the slot's user and does not wait on what only waits to be reaped."""
    uid, adopter = adopted
    try:
        await settle(lambda: has_states(uid, adopter, ["S", "Z"]), within=30)
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}: the adopter's children are {states_of(uid, adopter)}"
        ) from exc
    with structlog.testing.capture_logs() as logs:
        await _sweep(uid)
    assert [e for e in logs if e["event"] == "sandbox_processes_survived"] == []
    assert states_of(uid, adopter) == ["Z", "Z"], (
        "the sleeper was killed; the zombies stay unreaped"
    )


async def has_states(uid: int, parent: int, wanted: list[str]) -> bool:
    return states_of(uid, parent) == wanted


def states_of(uid: int, parent: int) -> list[str]:
    """The states (R, S, Z, …) of `parent`'s children that run as `uid`, sorted.

    Only the adopter's own: whatever else of that uid the machine holds is no part of the test.
    """
    states = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    stat = (entry / "stat").read_text()
                    state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
                    if int(ppid) == parent:
                        states.append(state)
            except OSError:
                continue
    return sorted(states)
