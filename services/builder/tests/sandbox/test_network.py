"""Network steps, on both sandbox back-ends: they reach the registries through the builder's
proxy and nothing else: not the host's loopback services, not a private address, not another host.

The probe is hostile code: it tries every way out it can think of and writes what happened
to `probe.json` in its project. It tries a private address only when its network has no route
(its own namespace): if the isolation broke, it records that and sends nothing there.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import structlog

from layercake_builder.app import create_runner, create_sandbox
from layercake_builder.core.plan import cache_key, plan_build
from layercake_builder.settings import Settings
from layercake_contracts.values import Step, StepResult

from .conftest import preinstalling

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


@dataclass(frozen=True)
class Built:
    """What one build did: its folders, its step results, and what the builder logged."""

    tree: Path
    cache: Path
    results: dict[Step, StepResult]
    logs: list[dict[str, object]]

    def egress(self) -> list[tuple[object, object]]:
        """What the egress proxy did during the build: (event, target) pairs."""
        return [
            (e["event"], e.get("target")) for e in self.logs if str(e["event"]).startswith("egress")
        ]


@pytest.fixture(params=["bwrap", "unshare"])
def steps_of(request):
    """Runs a project's steps the way the builder does, on each back-end; the step results by step."""
    base = Path(tempfile.mkdtemp(prefix="lc-net-"))
    base.chmod(0o755)

    async def store(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    runners = {}  # one per setting: each runner's start probes the back-end once

    async def run(files: dict[str, str], steps: tuple[Step, ...], *, install_network: bool = True):
        if install_network not in runners:
            settings = Settings(
                builder_root=base / "builder", max_builds=1, sandbox=request.param,
                install_network=install_network,
            )  # fmt: skip
            runners[install_network] = create_runner(settings, store)
        runner = runners[install_network]
        tree, cache = base / "tree", base / "cache"
        cache.mkdir(exist_ok=True)
        for rel, text in files.items():
            (tree / rel).parent.mkdir(parents=True, exist_ok=True)
            (tree / rel).write_text(text)
        plan = plan_build(list(files), files, steps)
        with structlog.testing.capture_logs() as logs:
            results = await runner.run(plan, tree, cache, cache_key(files, {}), base / "own")
        return Built(tree, cache, {r.step: r for r in results}, logs)

    yield run
    shutil.rmtree(base, ignore_errors=True)


def npm_project(script: str) -> dict[str, str]:
    """A real npm project with one small registry dependency and a hostile `preinstall`."""
    return {"package.json": preinstalling(script, {"is-number": "7.0.0"})}


def python_project(setup_code: str) -> dict[str, str]:
    """A real setuptools project with one small PyPI dependency and a hostile `setup.py`."""
    pyproject = (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "hostile"\nversion = "0.1.0"\ndependencies = ["six"]\n'
        "[tool.setuptools]\npy-modules = []\n"
    )
    setup = f"import subprocess, sys\n{setup_code}\nfrom setuptools import setup\nsetup()\n"
    return {"pyproject.toml": pyproject, "setup.py": setup}


async def test_an_npm_preinstall_reaches_no_host_service_but_the_install_passes(
    steps_of, listener, nats_server
):
    """`preinstall` probes the host's services and a private address; all fail, the install works."""
    port, accepted = listener
    targets = json.dumps(host_targets(port, nats_server.port))
    files = {**npm_project(f"python3 probe.py '{targets}' /workspace"), "probe.py": PROBE}
    built = await steps_of(files, (Step.INSTALL,))
    assert built.results[Step.INSTALL].ok, built.results[Step.INSTALL].output
    assert (built.tree / "node_modules" / "is-number" / "package.json").is_file()
    assert_contained(json.loads((built.tree / "probe.json").read_text()), accepted)


async def test_a_setup_py_reaches_no_host_service_but_the_install_passes(
    steps_of, listener, nats_server
):
    """`setup.py` probes the host's services and a private address; all fail, uv installs it."""
    port, accepted = listener
    targets = json.dumps(host_targets(port, nats_server.port))
    run_probe = f"subprocess.run([sys.executable, 'probe.py', {targets!r}, '/workspace'])"
    files = {**python_project(run_probe), "probe.py": PROBE}
    built = await steps_of(files, (Step.INSTALL,))
    assert built.results[Step.INSTALL].ok, built.results[Step.INSTALL].output
    assert list((built.cache / "venvs" / ".venv" / "lib").glob("python3*/site-packages/six.py"))
    assert_contained(json.loads((built.tree / "probe.json").read_text()), accepted)


PLANTED = "#!/bin/sh\necho planted > /workspace/planted-$(basename $0)-ran\nexit 0\n"


def plant(*paths: Path) -> None:
    """Put a tool of the project's where a PATH lookup or a cache folder would find it."""
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PLANTED)
        path.chmod(0o755)


async def install(steps_of, files: dict[str, str]) -> Built:
    """A first build that installs (what a project plants comes after it)."""
    built = await steps_of(files, (Step.INSTALL,))
    assert built.results[Step.INSTALL].ok, built.results[Step.INSTALL].output
    return built


async def audit_planted(steps_of, files: dict[str, str]) -> Built:
    """A second build, of the audit alone, over the cached install; nothing planted ran."""
    built = await steps_of(files, (Step.AUDIT,))
    assert built.results[Step.INSTALL].cached
    assert list(built.tree.glob("planted-*")) == []
    return built


async def test_the_audit_runs_the_builders_npm_not_one_the_project_planted(steps_of):
    """A `node_modules/.bin/npm` (and `node`) of the project's does not run; our npm does, via the proxy."""
    files = npm_project("true")
    installed = await install(steps_of, files)
    plant(*(installed.tree / "node_modules" / ".bin" / name for name in ("npm", "node")))
    audited = await audit_planted(steps_of, files)
    assert ("egress_opened", "registry.npmjs.org:443") in audited.egress(), audited.logs
    # The registry refuses audits here (405): that it answered at all is what we check.
    assert any(d.tool == "npm-audit" for d in audited.results[Step.AUDIT].diagnostics)


async def test_the_audit_runs_the_builders_pip_audit_not_one_the_project_planted(steps_of):
    """`.venv/bin/pip-audit`, `/cache/tools/bin/pip-audit` and a `pip_audit` package in the
    project do not run; the builder's own pip-audit does, through the proxy."""
    files = {"requirements.txt": "six\n"}
    installed = await install(steps_of, files)
    plant(
        installed.tree / ".venv" / "bin" / "pip-audit",
        installed.cache / "venvs" / ".venv" / "bin" / "pip-audit",
        installed.cache / "tools" / "bin" / "pip-audit",
    )
    shadow = installed.tree / "pip_audit" / "__init__.py"
    shadow.parent.mkdir()
    shadow.write_text("open('/workspace/planted-module-ran', 'w').close()\n")
    audited = await audit_planted(steps_of, files)
    assert ("egress_opened", "pypi.org:443") in audited.egress(), audited.logs
    assert any(d.tool == "pip-audit" for d in audited.results[Step.AUDIT].diagnostics)


async def test_with_install_network_off_no_step_gets_the_proxy_not_even_the_audit(steps_of):
    """`LAYERCAKE_INSTALL_NETWORK=false`: the audit runs without a way out; the proxy sees nothing."""
    files = npm_project("true")
    await install(steps_of, files)
    audited = await steps_of(files, (Step.AUDIT,), install_network=False)
    assert audited.egress() == []
    assert "405 Method Not Allowed" not in audited.results[Step.AUDIT].output


@pytest.fixture(params=["bwrap", "unshare"])
def builder_sandbox(request):
    """The sandbox the builder's wiring makes, on each back-end, and a project folder for it."""
    base = Path(tempfile.mkdtemp(prefix="lc-net-"))
    base.chmod(0o755)
    (base / "project").mkdir()
    yield (
        create_sandbox(Settings(builder_root=base / "builder", sandbox=request.param)),
        base / "project",
    )
    shutil.rmtree(base, ignore_errors=True)


async def test_the_sandbox_shows_the_audit_tools_packages_not_the_builders_environment(
    builder_sandbox,
):
    """pip-audit and what it imports are there, read-only; our own code and `.pth` files are not."""
    sandbox, project = builder_sandbox
    listing = "ls -a /opt/layercake/audit; touch /opt/layercake/audit/pip_audit/x 2>&1 | grep -c Read-only"
    async with sandbox.slot(project, project) as slot:
        done = await sandbox.run(
            ("sh", "-c", listing), slot=slot, project=project, cache=project,
            network=False, timeout_s=30, path=("/usr/bin", "/bin"),
        )  # fmt: skip
    *names, read_only = done.output.split()
    assert {"pip_audit", "requests", "filelock"} <= set(names), done.output
    assert [n for n in names if n.endswith(".pth") or "layercake" in n] == []
    assert read_only == "1", done.output
