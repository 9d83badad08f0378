"""The project's fault, or ours (issue #19), on real builds: real npm, the real registry.

registry.npmjs.org answers `npm audit` with 405 here, as it did in the live walk;
a refused registry is our own egress proxy told to allow none of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from layercake_contracts.events import BuildFailed, BuildSucceeded
from layercake_contracts.values import FaultCause, Step

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="slot users need root; see the sandbox README"
)
LAYERCAKE = str(Path(sys.executable).parent / "layercake")
NODE_TEST = (
    "const test = require('node:test');\nconst assert = require('node:assert');\n"
    "const ms = require('ms');\n"
    "test('two seconds', () => assert.strictEqual(ms('2s'), 2000));\n"
    "test.skip('not yet', () => {});\n"
)


def node_project(dependencies: dict[str, str], test: str = "node --test") -> dict[str, bytes]:
    """A plain Node project without package-lock.json, as most that a model writes."""
    package = {"name": "plain", "version": "1.0.0", "private": True,
               "scripts": {"test": test}, "dependencies": dependencies}  # fmt: skip
    return {"package.json": json.dumps(package).encode(), "test/ms.test.js": NODE_TEST.encode()}


async def test_an_audit_refused_with_405_is_a_passing_build_whose_audit_has_an_advisory_fault(
    builds,
):
    """Tests pass, the registry refuses the audit: BuildSucceeded, no BuildFailed, the 405 kept."""
    steps = (Step.INSTALL, Step.TEST, Step.AUDIT)
    outcome = await builds.build("refused-audit", node_project({"ms": "2.1.3"}), steps)
    assert isinstance(outcome, BuildSucceeded), [r.output[-300:] for r in outcome.results]
    audit = next(r for r in outcome.results if r.step is Step.AUDIT)
    assert audit.fault is not None, audit.output[-500:]
    assert audit.fault.cause is FaultCause.ADVISORY
    assert "405" in audit.fault.detail


@pytest.mark.parametrize("builder_settings", [{"egress_hosts": ("example.org",)}])
async def test_an_install_the_registry_cannot_be_reached_for_fails_with_a_registry_fault(builds):
    """Our proxy lets no registry through: BuildFailed at install, with a fault, for a retry."""
    outcome = await builds.build("no-registry", node_project({"ms": "2.1.3"}))
    assert isinstance(outcome, BuildFailed)
    assert outcome.failed_step is Step.INSTALL
    assert outcome.fault is not None, outcome.results[0].output[-500:]
    assert outcome.fault.cause in {FaultCause.REGISTRY, FaultCause.NETWORK}
    assert "registry.npmjs.org" in outcome.fault.detail


@pytest.mark.parametrize("builder_settings", [{"install_timeout_s": 0.3}])
async def test_an_install_out_of_time_fails_with_a_timeout_fault(builds):
    """Downloading ran past the install's limit: ours to retry, not the model's to heal."""
    outcome = await builds.build("slow-registry", node_project({"ms": "2.1.3"}))
    assert isinstance(outcome, BuildFailed)
    assert outcome.results[0].timed_out, outcome.results[0].output[-300:]
    assert outcome.fault is not None
    assert outcome.fault.cause is FaultCause.TIMEOUT


async def test_a_dependency_that_does_not_exist_fails_the_build_without_a_fault(builds):
    """npm's E404 is the project's to heal: BuildFailed at install, no fault."""
    outcome = await builds.build("no-package", node_project({"lc19-no-such-package-xyz": "1.0.0"}))
    assert isinstance(outcome, BuildFailed)
    assert outcome.failed_step is Step.INSTALL
    assert "E404" in outcome.results[0].output
    assert outcome.fault is None


async def test_node_test_with_a_glob_still_gets_counts(builds):
    """`node --test test/*.test.js` (a glob Node 20 leaves to the shell): counts 1 passed, 1 skipped."""
    files = node_project({"ms": "2.1.3"}, test="node --test test/*.test.js")
    outcome = await builds.build("node-glob", files, (Step.INSTALL, Step.TEST))
    test = next(r for r in outcome.results if r.step is Step.TEST)
    assert test.ok, test.output[-500:]
    assert test.tests is not None, test.output[-500:]
    assert (test.tests.passed, test.tests.failed, test.tests.skipped) == (1, 0, 1)


def test_a_lockless_projects_audit_runs_against_the_lock_its_install_made():
    """Built twice by `layercake build`, which drops what the folder lacks (the lock npm wrote)
    and keeps node_modules: the cached second build's audit makes the lock of the installed
    tree, so only the advisory service refuses it (405), never ENOLOCK."""
    base = Path(tempfile.mkdtemp(prefix="lc-lockless-"))
    base.chmod(0o755)
    project = base / "project"
    for rel, data in node_project({"ms": "2.1.3"}).items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_bytes(data)
    env = {**os.environ, "LAYERCAKE_BUILDER_ROOT": str(base / "builder")}
    argv = [LAYERCAKE, "build", str(project), "--steps", "install,test,audit", "--json"]
    for run in range(2):
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)  # noqa: S603
        results = {r["step"]: r for r in json.loads(done.stdout)}
        assert results["install"]["cached"] is bool(run), "the second install is cached"
        audit = results["audit"]
        assert "ENOLOCK" not in audit["output"], audit["output"][-500:]
        assert audit["fault"]["cause"] == "advisory"
        assert "405" in audit["fault"]["detail"]
        assert done.returncode == 0, "only the audit's service failed: the build passes"
    assert not (project / "package-lock.json").exists(), "the user's folder is built as a copy"


async def test_a_pip_audit_that_could_look_nothing_up_is_a_passing_build_with_an_advisory_fault(
    builds,
):
    """pip-audit exits 0 having skipped every dependency ("not found on PyPI"): the audit did
    not happen, so its result says why, and the build still passes."""
    files = {
        "pyproject.toml": b'[project]\nname = "p"\nversion = "0.1.0"\ndependencies = ["iniconfig"]\n',
        "test_p.py": b"def test_p():\n    assert True\n",
    }
    outcome = await builds.build("py-audit", files, (Step.INSTALL, Step.TEST, Step.AUDIT))
    assert isinstance(outcome, BuildSucceeded), [r.output[-300:] for r in outcome.results]
    audit = next(r for r in outcome.results if r.step is Step.AUDIT)
    assert audit.fault is not None, audit.output[-500:]
    assert audit.fault.cause is FaultCause.ADVISORY
    assert "pip-audit" in audit.fault.detail
