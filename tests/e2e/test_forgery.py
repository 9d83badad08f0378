"""Issue #15's forgeries, replayed against a running `layercake up`: one test per line of its list.

Each forgery is tried as an outsider would: with no credentials (refused at connect), with a
read-only integrator's (made by `layercake creds create`), and with the credentials of a
service that does not produce the event. After each, the projects are as they were: their
gates, their commits, whose list they are in.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import subprocess
from typing import TYPE_CHECKING

import httpx
import nats
import pytest
from nats.errors import Error as NatsError
from tests.e2e.conftest import LAYERCAKE, TESTER

from layercake.stores import jwt_secret
from layercake.up import bus_credentials
from layercake_contracts.blobs import (
    BLOB_BUCKET,
    BlobStore,
    blob_stream_config,
    declare_stream,
    sha256_of,
)
from layercake_contracts.bus import STREAM_NAME
from layercake_contracts.events import (
    BuildSucceeded,
    ExportRequested,
    FilesWritten,
    GateApproved,
    GateRejected,
    ProjectCreated,
)
from layercake_contracts.rpc import HISTORY_SUBJECT, PARSE_SUBJECT
from layercake_contracts.values import FileEntry, Gate, Manifest, Role, Step
from layercake_gateway.api import create_token
from layercake_gateway.core.names import bus_id
from layercake_testing.session import signed_in
from layercake_testing.waiting import settle

if TYPE_CHECKING:
    from tests.e2e.conftest import System

    from layercake_contracts.events import EventBase

pytestmark = [pytest.mark.nats, pytest.mark.timeout(600)]
MINE, THEIRS = bus_id(TESTER, "forged"), bus_id(TESTER, "theirs")
READER = "watcher"  # the read-only integrator
ROOT = ProjectCreated(project_id=MINE, name="tally", intake="x", owner=TESTER)
ANSWERLESS = (b'{"project_id": "%s"}' % MINE.encode(),)  # what an outsider asks an rpc


@pytest.fixture(scope="module")
def system(shared_system: System) -> System:
    """One `up` with two projects of the tester's and a read-only integrator, `watcher`."""
    headers = {
        "Authorization": f"Bearer {create_token(jwt_secret(shared_system.state_home), TESTER)}"
    }
    with httpx.Client(base_url=shared_system.api_url, headers=headers, timeout=30) as client:
        for name in ("forged", "theirs"):
            intake = {"project_id": name, "name": "tally", "intake": "count the words of a text"}
            client.post("/projects", json=intake).raise_for_status()
    subprocess.run(  # noqa: S603
        [LAYERCAKE, "creds", "create", READER, "--read-only"],
        env=shared_system.env, cwd=shared_system.home, check=True, capture_output=True,
    )  # fmt: skip
    return shared_system


async def state(system: System) -> dict[str, object]:
    """What a forgery could change: gates, commits, bob's projects, and the events of each type."""
    bob = create_token(jwt_secret(system.state_home), "bob")
    async with system.client() as client:
        gates = {p: (await client.get(f"/projects/{p}/gates")).json() for p in ("forged", "theirs")}
        commits = (await client.get("/projects/forged/commits")).json()
        bobs = (await client.get("/projects", headers={"Authorization": f"Bearer {bob}"})).json()
    kinds = collections.Counter(
        (e.project_id, e.type) for _, e in await system.stream() if e.type != "ProcessingFailed"
    )
    return {"gates": gates, "commits": commits, "bob": bobs, "events": kinds}


async def settled(system: System) -> dict[str, object]:
    """The state once the projects' own work has stopped changing it (two reads alike)."""
    last: list[dict[str, object]] = []

    async def same_twice() -> dict[str, object] | None:
        now = await state(system)
        found = now if last and last[-1] == now else None
        last.append(now)
        return found

    return await settle(same_twice, within=180, interval=2)


async def anonymous_is_refused(system: System) -> None:
    with pytest.raises(NatsError, match=r"[Aa]uthorization"):
        await nats.connect(system.nats_url, allow_reconnect=False, max_reconnect_attempts=0)


def seed(system: System, user: str):  # a Path
    return bus_credentials(system.state_home).seed_file(user)


async def blobs(connection: nats.NATS) -> BlobStore:
    """The blob store as a service opens it: the bucket declared on first use."""
    await declare_stream(connection.jetstream(), blob_stream_config())
    return BlobStore(connection)


async def publish_is_refused(system: System, user: str, event: EventBase, subject: str) -> None:
    """`user` publishes `event`: the stream never acknowledges it and the server says why."""
    async with signed_in(system.nats_url, seed(system, user), user) as forger:
        assert not await forger.publish(event, subject)
        await settle(lambda: asyncio.sleep(0, forger.refused(subject)), within=10)


async def forge(system: System, event: EventBase, *services: str) -> None:
    """Try `event` on its own subject as nobody, as the integrator and as each of `services`;
    every attempt is refused and nothing changes."""
    before = await settled(system)
    subject = f"lc.evt.{event.project_id}.{event.type}"
    await anonymous_is_refused(system)
    for user in (READER, *services):
        await publish_is_refused(system, user, event, subject)
    assert await settled(system) == before


async def test_a_forged_gate_approval_approves_nothing(system):
    """GateApproved of G0 from anyone but the gateway: refused; the gate and git stay as they were."""
    await forge(
        system, GateApproved.follow(ROOT, gate=Gate.G0, by=TESTER), "builder", "agent", "git"
    )


async def test_forged_files_with_a_blob_of_ours_are_not_built_nor_committed(system):
    """FilesWritten naming a blob the forger stored: refused to all but the parser; no build."""
    async with signed_in(system.nats_url, seed(system, "builder"), "builder") as builder:
        digest = await (await blobs(builder.connection)).put(b"import os; os.system('forge')\n")
    manifest = Manifest({"tally/core.py": FileEntry(sha256=digest, size=30)})
    forged = FilesWritten.follow(
        ROOT, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=1, manifest=manifest,
        changed=("tally/core.py",),
    )  # fmt: skip
    await forge(system, forged, "builder", "agent", "git")


async def test_a_forged_build_success_clears_neither_build_nor_coverage(system):
    """BuildSucceeded for G5 and G6 from the parser: refused; G5 and G6 still lack their proof."""
    for gate in (Gate.G5, Gate.G6):
        forged = BuildSucceeded.follow(
            ROOT, role=Role.BACKEND_DEVELOPER, gate=gate, attempt=1, manifest=Manifest({}),
            results=(),
        )  # fmt: skip
        await forge(system, forged, "parser", "agent", "git")


async def test_a_forged_project_created_puts_nothing_in_bobs_list(system):
    """ProjectCreated with owner bob from the builder: refused; bob has no project."""
    forged = ProjectCreated(project_id=bus_id("bob", "stolen"), name="x", intake="x", owner="bob")
    await forge(system, forged, "builder", "parser", "agent", "git")
    async with system.client() as client:
        bob = create_token(jwt_secret(system.state_home), "bob")
        assert (
            await client.get("/projects", headers={"Authorization": f"Bearer {bob}"})
        ).json() == []


async def test_a_forged_export_sends_git_nowhere(system):
    """ExportRequested from the builder: refused; git pushes nothing (no PushCompleted/Failed)."""
    forged = ExportRequested.follow(ROOT, remote_url="https://127.0.0.1:9/loot.git")
    await forge(system, forged, "builder", "parser", "agent", "git")
    pushes = [e for _, e in await system.stream() if e.type in {"PushCompleted", "PushFailed"}]
    assert pushes == []


async def test_a_gate_approval_for_another_project_than_its_subject_is_dead_lettered(system):
    """The gateway's own credentials, subject of `forged`, payload of `theirs`: ProcessingFailed
    naming both projects, and neither project's gates move."""
    before = await settled(system)
    forged = GateApproved(project_id=THEIRS, gate=Gate.G0, by=TESTER)
    async with signed_in(system.nats_url, seed(system, "gateway"), "gateway") as gateway:
        assert await gateway.publish(forged, f"lc.evt.{MINE}.GateApproved")

    async def dead_letter():
        return [
            e for _, e in await system.stream()
            if e.type == "ProcessingFailed" and e.original_event_id == forged.event_id
        ]  # fmt: skip

    letters = await settle(dead_letter, within=60, interval=0.5)
    assert all(MINE in e.error and THEIRS in e.error for e in letters), letters
    stored = collections.Counter({(THEIRS, "GateApproved"): 1})  # on the stream, dead-lettered
    assert await settled(system) == {**before, "events": before["events"] + stored}


async def test_no_outsider_reads_the_whole_stream_nor_the_blobs(system):
    """`$JS.API.STREAM.MSG.GET` of the events and of the blobs: refused to the integrator;
    the events' to the builder too (it reads blobs, which it needs to build)."""
    await anonymous_is_refused(system)
    blobs = f"OBJ_{BLOB_BUCKET}"
    async with signed_in(system.nats_url, seed(system, READER), READER) as reader:
        js = reader.connection.jetstream()
        for stream in (STREAM_NAME, blobs):
            with pytest.raises(NatsError):
                await js.get_msg(stream, 1)
            assert reader.refused(f"$JS.API.STREAM.MSG.GET.{stream}")
    async with signed_in(system.nats_url, seed(system, "builder"), "builder") as builder:
        with pytest.raises(NatsError):
            await builder.connection.jetstream().get_msg(STREAM_NAME, 1)
        assert builder.refused(f"$JS.API.STREAM.MSG.GET.{STREAM_NAME}")


async def test_a_blob_put_again_under_its_sha256_reads_as_first_stored(system):
    """The builder stores a blob, then overwrites its name: through the Object Store's own API
    (refused: rollup or purge) and by a second description of other chunks (stored, and
    never read): every reader still gets the first bytes, no BlobCorrupt."""
    first = b"def count(text):\n    return len(text.split())\n"
    forged = b"import os; os.system('forge')\n"
    name = base64.urlsafe_b64encode(sha256_of(first).encode()).decode()
    async with signed_in(system.nats_url, seed(system, "builder"), "builder") as builder:
        digest = await (await blobs(builder.connection)).put(first)
        js = builder.connection.jetstream()
        with pytest.raises(NatsError):  # a rollup (refused) or a purge (not granted)
            await (await js.object_store(BLOB_BUCKET)).put(digest, forged)
        await js.publish(f"$O.{BLOB_BUCKET}.C.forged", forged)
        description = {"name": digest, "bucket": BLOB_BUCKET, "nuid": "forged", "chunks": 1}
        await js.publish(f"$O.{BLOB_BUCKET}.M.{name}", json.dumps(description).encode())
    async with signed_in(system.nats_url, seed(system, "parser"), "parser") as parser:
        assert await BlobStore(parser.connection).get(digest) == first


@pytest.mark.parametrize("subject", [HISTORY_SUBJECT, PARSE_SUBJECT])
async def test_the_rpc_subjects_answer_no_outsider(system, subject):
    """A question from the integrator or the builder gets no answer; the gateway's API still does."""
    await anonymous_is_refused(system)
    for user in (READER, "builder"):
        async with signed_in(system.nats_url, seed(system, user), user) as outsider:
            with pytest.raises(NatsError):
                await outsider.connection.request(subject, *ANSWERLESS, timeout=3)
    async with system.client() as client:
        assert (await client.get("/projects/forged/commits")).status_code == 200


async def test_a_forged_rejection_with_a_huge_reason_starts_no_agent(system):
    """GateRejected with a 1 MB reason from the builder: refused; no AgentRequested follows."""
    forged = GateRejected.follow(ROOT, gate=Gate.G0, by=TESTER, reason="x" * 1_000_000)
    await forge(system, forged, "builder", "parser", "agent", "git")


FORGER = """\
const socket = require("net").connect(Number(process.argv[2]), "127.0.0.1");
socket.on("data", (data) => { console.log("CONNECTED " + data); process.exit(0); });
socket.on("error", (error) => { console.log("REFUSED " + error.code); process.exit(1); });
"""


async def test_a_forging_script_kept_in_the_tree_cannot_reach_the_bus(system):
    """A project file run by npm's install script (a network step) and by its tests, given the
    machine's NATS port, is refused every time: the build fails at install saying so."""
    port = system.nats_url.rsplit(":", 1)[1]
    script = f"node forger.js {port}"
    package = {"name": "forger", "version": "1.0.0", "scripts": {"install": script, "test": script}}

    async def built(*paths: str) -> list[EventBase]:
        return [
            e for _, e in await system.stream()
            if e.type in {"BuildSucceeded", "BuildFailed"} and e.project_id == MINE
            and set(paths) <= set(e.manifest.root)
        ]  # fmt: skip

    # One file at a time: each write goes onto the tree the ledger knows, after its build.
    async with system.client() as client:
        for written, path, content in (
            (("package.json",), "package.json", json.dumps(package)),
            (("package.json", "forger.js"), "forger.js", FORGER),
        ):
            reply = await client.post(
                "/projects/forged/files", json={"gate": "G0", "path": path, "content": content}
            )
            assert reply.status_code == 202, reply.text
            [result] = await settle(lambda paths=written: built(*paths), within=240, interval=1)
    assert result.type == "BuildFailed", result
    assert result.failed_step == Step.INSTALL, result
    outputs = " ".join(r.output for r in result.results)
    assert "REFUSED" in outputs, outputs
    assert "CONNECTED" not in outputs, outputs
