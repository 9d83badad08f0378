"""The command lines of network steps: never the host's network, only the egress socket."""

from __future__ import annotations

import json

import pytest

from layercake_builder.core.confinement import (
    EGRESS_SOCKET,
    FORWARDER,
    Backend,
    Confinement,
    Limits,
    Mounts,
    confine,
)

MOUNTS = Mounts(project="/p", cache="/c", etc="/e", egress="/srv/egress/egress.sock")
COMMAND = ("/usr/bin/npm", "ci")


def argv(backend: Backend, *, network: bool, mounts: Mounts = MOUNTS) -> list[str]:
    how = Confinement(backend, mounts, Limits(), trampoline=("python3", "t.py"), new_root="/r")
    return confine(COMMAND, {"PATH": "/usr/bin"}, how, network=network)


def unshare_spec(line: list[str]) -> dict:
    return json.loads(line[-1])


@pytest.mark.parametrize("network", [True, False])
def test_bwrap_never_shares_the_hosts_network(network):
    line = argv(Backend.BWRAP, network=network)
    assert "--unshare-all" in line
    assert "--share-net" not in line


@pytest.mark.parametrize("network", [True, False])
def test_unshare_always_makes_a_network_namespace(network):
    line = argv(Backend.UNSHARE, network=network)
    assert "--net" in line[: line.index("--", line.index("unshare"))]


def test_a_network_step_runs_behind_the_forwarder_with_the_proxy_in_its_env():
    line = argv(Backend.BWRAP, network=True)
    command = line[line.index("--", line.index("bwrap")) + 1 :]
    assert command[:4] == ["/usr/bin/python3", "-I", "-S", FORWARDER]
    assert command[-2:] == list(COMMAND)
    assert ["--ro-bind", MOUNTS.egress, EGRESS_SOCKET] == line[
        line.index(MOUNTS.egress) - 1 : line.index(MOUNTS.egress) + 2
    ]
    env = {line[i + 1]: line[i + 2] for i, part in enumerate(line) if part == "--setenv"}
    assert env["HTTPS_PROXY"] == env["npm_config_https_proxy"] == "http://127.0.0.1:3128"


def test_an_unshare_network_step_binds_the_egress_socket_and_wraps_the_command():
    spec = unshare_spec(argv(Backend.UNSHARE, network=True))
    assert [MOUNTS.egress, EGRESS_SOCKET, True, False] in spec["binds"]
    assert spec["command"][3] == FORWARDER
    assert spec["env"]["HTTP_PROXY"] == "http://127.0.0.1:3128"


def test_a_step_without_network_gets_neither_the_socket_nor_the_proxy():
    spec = unshare_spec(argv(Backend.UNSHARE, network=False))
    assert all(bind[1] != EGRESS_SOCKET for bind in spec["binds"])
    assert spec["command"] == list(COMMAND)
    assert "HTTPS_PROXY" not in spec["env"]
