"""Who holds a port: the kernel's socket tables read, and a listener traced to its process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from layercake.natsd import free_port
from layercake.ports import (
    PortUnusable,
    Process,
    is_taken,
    layercake_up_of,
    listener,
    listening_inodes,
)

TABLE = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   107        0 10258 1 0
   1: 0100007F:0CEA 0100007F:D431 01 00000000:00000000 00:00000000 00000000   107        0 10301 1 0
   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6076 1 0
"""


def test_only_sockets_listening_on_the_port_are_found_in_the_table():
    """Port 0x0CEA (3306) listens on inode 10258; the connected socket on the same port is not a listener."""
    assert listening_inodes(TABLE, 3306) == {10258}
    assert listening_inodes(TABLE, 8080) == {6076}
    assert listening_inodes(TABLE, 4223) == set()


def test_a_listening_socket_is_traced_to_the_process_that_holds_it():
    """A port another process listens on is taken, and its pid and command line are found."""
    port = free_port()
    code = (
        "import socket, sys; s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1])));"
        " s.listen(); print('ok', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", code, str(port)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "ok\n"
        assert is_taken("127.0.0.1", port)
        found = listener(port)
        assert found is not None
        assert found.pid == holder.pid
        assert found.argv[:2] == (sys.executable, "-c")
        assert layercake_up_of(found) is None
    finally:
        holder.kill()
        holder.wait()


def test_a_free_port_is_not_taken_and_has_no_listener():
    """A port nobody listens on is free, and no process is named for it."""
    port = free_port()
    assert not is_taken("127.0.0.1", port)
    assert listener(port) is None


def test_an_address_not_of_this_machine_is_refused_naming_it():
    """Binding an address this machine does not have says which, instead of a traceback."""
    with pytest.raises(PortUnusable, match=r"cannot listen on 192\.0\.2\.1:\d+"):
        is_taken("192.0.2.1", free_port())


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("/venv/bin/python", "/venv/bin/layercake", "up"), True),
        (("python", "-m", "layercake", "up"), True),
        (("python", "-m", "layercake", "gateway", "run"), False),
        (("nats-server", "-p", "4223"), False),
        ((), False),
    ],
)
def test_a_layercake_up_is_known_by_its_command_line(argv, expected):
    """`…/layercake up` and `python -m layercake up` are `up`; a service or a server is not."""
    assert Process(1, argv).is_layercake_up is expected
