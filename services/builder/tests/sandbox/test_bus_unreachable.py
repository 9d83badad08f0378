"""No route from a build to the bus (issue #15), on both sandbox back-ends.

A build's code is given the machine's NATS address and the path of the builder's own
nkey seed, and tries to sign in: by TCP to the nats-server, with or without network
steps, and by reading the seed. It must find neither a connection nor a credential.
"""

from __future__ import annotations

import json
import os

import pytest

pytestmark = [
    pytest.mark.nats,
    pytest.mark.skipif(os.geteuid() != 0, reason="slot users need root; see the sandbox README"),
]

PROBE = """\
import json, os, socket, sys

host, port, seed, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
results = {}
try:
    with socket.create_connection((host, port), timeout=3) as conn:
        results["nats"] = "CONNECTED " + conn.recv(64).decode(errors="replace")
except OSError as exc:
    results["nats"] = f"REFUSED {exc.errno}"
try:
    with open(seed) as file:
        results["seed"] = "READ " + file.read(2)
except OSError as exc:
    results["seed"] = f"UNREADABLE {exc.errno}"
results["env"] = sorted(k for k in os.environ if k.startswith("LAYERCAKE"))
with open(os.path.join(out, "probe.json"), "w") as file:
    json.dump(results, file)
"""
ECONNREFUSED, ENETUNREACH, ENOENT = 111, 101, 2


@pytest.mark.parametrize("network", [False, True], ids=["offline-step", "network-step"])
async def test_a_builds_code_given_the_nats_address_cannot_connect_or_find_credentials(
    jail, guarded_nats_server, nats_credentials, network
):
    """A step connecting to the nats-server's port is refused, and no seed is in its view."""
    script = jail.script("probe.py", PROBE)
    seed = nats_credentials.seed_file("builder")
    done = await jail.run(
        "python3", script, "127.0.0.1", str(guarded_nats_server.port), str(seed), "/workspace",
        network=network,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    results = json.loads((jail.project / "probe.json").read_text())
    assert results["nats"] in {f"REFUSED {ECONNREFUSED}", f"REFUSED {ENETUNREACH}"}, results
    assert results["seed"] == f"UNREADABLE {ENOENT}", results
    assert results["env"] == [], results
