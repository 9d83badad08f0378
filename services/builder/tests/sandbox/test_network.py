"""Network steps, on both sandbox back-ends: they reach the registries through the builder's
proxy and nothing else: not the host's loopback services, not a private address, not another host.

The probe is hostile code: it tries every way out it can think of and writes what happened
to `probe.json` in its project. It tries a private address only when its network has no route
(its own namespace): if the isolation broke, it records that and sends nothing there.
"""

from __future__ import annotations

import json
import os
import socket
import threading

import pytest

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="slot users need root; see the sandbox README"
)

PROBE = """\
import json, os, socket, sys

def attempt(host, port):
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as exc:
        return f"REFUSED {exc.errno}"
    return "CONNECTED"

def through_proxy(target):
    proxy = os.environ.get("HTTPS_PROXY", "")
    if not proxy:
        return "NO-PROXY"
    host, port = proxy.removeprefix("http://").rstrip("/").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"CONNECT {target} HTTP/1.1\\r\\nHost: {target}\\r\\n\\r\\n".encode())
        return conn.recv(4096).decode(errors="replace").split("\\r\\n")[0]

results = {name: attempt(host, port) for name, host, port in json.loads(sys.argv[1])}
with open("/proc/net/route") as table:
    routes = table.read().splitlines()[1:]
results["private"] = "ROUTE-PRESENT" if routes else attempt("10.255.255.1", 80)
for name, target in (
    ("proxy_loopback", "127.0.0.1:5432"),
    ("proxy_private", "10.255.255.1:443"),
    ("proxy_other_host", "example.com:443"),
    ("proxy_localhost_name", "localhost:443"),
):
    results[name] = through_proxy(target)
with open(os.path.join(sys.argv[2], "probe.json"), "w") as out:
    json.dump(results, out)
print("PROBED", json.dumps(results))
"""
ECONNREFUSED, ENETUNREACH = 111, 101


@pytest.fixture
def listener():
    """A TCP server on the host's loopback that records whether anyone connected."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.5)
    accepted: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            accepted.append("accepted")
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join(2)
    server.close()


def host_targets(listener_port: int, nats_port: int) -> list[tuple[str, str, int]]:
    """What runs on this machine's loopback: a test's own server, NATS, PostgreSQL, Redis."""
    return [
        ("listener", "127.0.0.1", listener_port),
        ("nats", "127.0.0.1", nats_port),
        ("postgresql", "127.0.0.1", 5432),
        ("redis_v6", "::1", 6379),
    ]


def assert_contained(results: dict[str, str], accepted: list[str]) -> None:
    """Every direct way out failed, the private address at once, and the proxy refused the rest."""
    assert accepted == [], "the host's loopback server was reached"
    for name in ("listener", "nats", "postgresql", "redis_v6"):
        assert results[name] == f"REFUSED {ECONNREFUSED}", (name, results)
    assert results["private"] == f"REFUSED {ENETUNREACH}", results
    for name in ("proxy_loopback", "proxy_private", "proxy_other_host", "proxy_localhost_name"):
        assert results[name].startswith("HTTP/1.1 403"), (name, results)


async def test_a_network_step_reaches_no_host_service_and_no_private_address(
    jail, listener, nats_server
):
    """A network step connecting to the host's loopback services and a private address fails."""
    port, accepted = listener
    script = jail.script("probe.py", PROBE)
    targets = json.dumps(host_targets(port, nats_server.port))
    done = await jail.run("python3", script, targets, "/workspace", network=True)
    assert done.exit_code == 0, done.output
    assert_contained(json.loads((jail.project / "probe.json").read_text()), accepted)
