"""The command lines of network steps: never the host's network, only the egress socket."""

from __future__ import annotations

import json

import pytest

from layercake_builder.core.confinement import (
    EGRESS_SOCKET,
    FORWARDER,
    Backend,
    Confinement,
    Descriptors,
    Launch,
    Limits,
    Mounts,
    confine,
)

MOUNTS = Mounts(project="/p", cache="/c", egress="/srv/egress/egress.sock")
COMMAND = ("/usr/bin/npm", "ci")
FDS = Descriptors(args=7, seccomp=8, files=())


def launch(backend: Backend, *, network: bool) -> Launch:
    how = Confinement(backend, MOUNTS, Limits(), trampoline=("python3", "t.py"), new_root="/r")
    return confine(COMMAND, {"PATH": "/usr/bin"}, how, FDS, network=network)


def bwrap_options(step: Launch) -> list[str]:
    """What bwrap reads from `--args`: its options, NUL-separated."""
    return dict(step.inputs)[FDS.args].decode().split("\0")[:-1]


def unshare_spec(step: Launch) -> dict:
    return json.loads(dict(step.inputs)[FDS.args])


@pytest.mark.parametrize("network", [True, False])
def test_bwrap_never_shares_the_hosts_network(network):
    options = bwrap_options(launch(Backend.BWRAP, network=network))
    assert "--unshare-all" in options
    assert "--share-net" not in options


@pytest.mark.parametrize("network", [True, False])
def test_unshare_always_makes_a_network_namespace(network):
    line = launch(Backend.UNSHARE, network=network).argv
    assert "--net" in line[: line.index("--", line.index("unshare"))]


def test_a_network_step_runs_behind_the_forwarder_with_the_proxy_in_its_env():
    step = launch(Backend.BWRAP, network=True)
    command = step.argv[step.argv.index("--", step.argv.index("bwrap")) + 1 :]
    assert command[:4] == ["/usr/bin/python3", "-I", "-S", FORWARDER]
    assert command[-2:] == list(COMMAND)
    options = bwrap_options(step)
    assert ["--ro-bind", MOUNTS.egress, EGRESS_SOCKET] == options[
        options.index(MOUNTS.egress) - 1 : options.index(MOUNTS.egress) + 2
    ]
    env = {options[i + 1]: options[i + 2] for i, part in enumerate(options) if part == "--setenv"}
    assert env["HTTPS_PROXY"] == env["npm_config_https_proxy"] == "http://127.0.0.1:3128"


def test_an_unshare_network_step_binds_the_egress_socket_and_wraps_the_command():
    spec = unshare_spec(launch(Backend.UNSHARE, network=True))
    assert [MOUNTS.egress, EGRESS_SOCKET, True, False] in spec["binds"]
    assert spec["command"][3] == FORWARDER
    assert spec["env"]["HTTP_PROXY"] == "http://127.0.0.1:3128"


def test_a_step_without_network_gets_neither_the_socket_nor_the_proxy():
    spec = unshare_spec(launch(Backend.UNSHARE, network=False))
    assert all(bind[1] != EGRESS_SOCKET for bind in spec["binds"])
    assert spec["command"] == list(COMMAND)
    assert "HTTPS_PROXY" not in spec["env"]
