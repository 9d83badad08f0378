"""An outside system on the bus: tests/outside/consumer.mjs (Node, npm `nats` and `ajv`), written
from the published documents only, follows one demo run through its own durable consumer with
read-only credentials, checks every event against the published schemas and rebuilds the chain
of causes of the first commit back to the person's approval."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.e2e.conftest import LAYERCAKE, System, running

from layercake_testing.npm import npm_installed

NODE, NPM = shutil.which("node"), shutil.which("npm")
pytestmark = [
    pytest.mark.nats,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        NODE is None or NPM is None, reason="the outside consumer needs Node and npm"
    ),
]

ROOT = Path(__file__).resolve().parents[2]
CONSUMER = Path(__file__).resolve().parent
SCHEMAS = ROOT / "contracts" / "schemas"
ASYNCAPI = ROOT / "docs" / "asyncapi.json"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The consumer's folder with its locked packages from npm (`npm ci`)."""
    names = ("package.json", "package-lock.json", "consumer.mjs")
    return npm_installed(str(NPM), CONSUMER, names, tmp_path_factory.mktemp("outside-consumer"))


def layercake(system: System, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`layercake ARGS` on the machine `system` runs on, as its person (the demo's user)."""
    return subprocess.run(  # noqa: S603  # our own command line
        [LAYERCAKE, *args], env=system.env, cwd=system.home,
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def seed_for(system: System, name: str) -> str:
    """`layercake creds create NAME --read-only`, as the README tells another system; the seed's path."""
    done = layercake(system, "creds", "create", name, "--read-only")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.split("nkey seed: ", 1)[1].split(" (keep it secret)", 1)[0]


def consumer_argv(system: System, name: str, schemas: Path = SCHEMAS) -> list[str]:
    """The consumer's command line, with read-only credentials made for `name`."""
    return [
        str(NODE), "consumer.mjs", "--server", system.nats_url, "--seed", seed_for(system, name),
        "--name", name, "--schemas", str(schemas), "--asyncapi", str(ASYNCAPI),
    ]  # fmt: skip


@dataclass(frozen=True)
class Followed:
    """What the consumer reported of the demo's run, and the run's events as the API lists them."""

    system: System
    code: int
    report: str
    ledger_events: int
    commits: int  # as the demo's summary counts them


@pytest.fixture(scope="module")
def followed(installed: Path):
    """The consumer started (its durable consumer made) before the demo creates its project, then
    the demo, G0 to G9; the consumer stops by itself at the release (PushCompleted)."""
    with running() as system:
        consumer = subprocess.Popen(  # noqa: S603  # our own command line
            consumer_argv(system, "outside"), cwd=installed,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            assert consumer.stdout is not None
            ready = consumer.stdout.readline()
            assert ready.startswith("ready: durable consumer outside on LC_EVENTS"), ready
            demo = layercake(system, "demo", "--yes", timeout=600)
            assert demo.returncode == 0, demo.stdout + demo.stderr + system.logs()
            report, _ = consumer.communicate(timeout=120)
        finally:
            consumer.kill()
            consumer.wait()
        summary = json.loads(demo.stdout.strip().splitlines()[-1])
        listed = layercake(system, "events", summary["project"])
        assert listed.returncode == 0, listed.stderr
        yield Followed(
            system, consumer.returncode, report, len(listed.stdout.splitlines()), summary["commits"]
        )


def test_the_node_consumer_validates_every_event_of_a_demo_run_and_the_causes_of_its_first_commit(
    followed,
):
    """It saw each event the ledger lists, none failed its schema, and the first commit's causes
    lead, event by event, back to G0's approval by the person."""
    report = followed.report
    assert followed.code == 0, report
    assert f"events: {followed.ledger_events} (" in report, report
    assert followed.ledger_events > 0
    assert "schema failures: 0" in report
    assert "FAIL" not in report
    chain = report.split("chain of causes of the first commit", 1)[1].splitlines()[1:]
    links = [line.strip() for line in chain if line.startswith("  ")]
    assert links[0].startswith("CommitCreated G1 "), report
    assert links[-1].startswith("GateApproved G0 "), report
    assert links[-1].endswith("from gateway by local"), report
    assert f"chain: complete, {len(links)} events" in report


def test_the_node_consumer_counts_and_names_each_event_its_schemas_refuse(
    followed, installed, tmp_path
):
    """With a CommitCreated schema that wants upper-case shas, a second durable consumer reads the
    same run from the stream, prints a failure for every commit, and exits 1."""
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, schemas)
    commit = json.loads((schemas / "CommitCreated.json").read_text(encoding="utf-8"))
    commit["properties"]["sha"]["pattern"] = "^[0-9A-F]{40}$"
    (schemas / "CommitCreated.json").write_text(json.dumps(commit), encoding="utf-8")

    done = subprocess.run(  # noqa: S603  # our own command line
        consumer_argv(followed.system, "upper-shas", schemas), cwd=installed,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 1, done.stdout + done.stderr
    failures = [line for line in done.stdout.splitlines() if line.startswith("FAIL ")]
    assert len(failures) == followed.commits, done.stdout
    assert all(".CommitCreated: payload: /sha must match pattern" in line for line in failures)
    assert f"schema failures: {len(failures)}" in done.stdout
    assert f"events: {followed.ledger_events} (" in done.stdout
