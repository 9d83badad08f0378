"""Upgrading a running git service: its old consumer and the records of projects under way."""

from __future__ import annotations

import json

import nats
import pytest
import structlog
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from layercake.natsauth import ADMIN
from layercake_contracts.bus import ALL_EVENTS, STREAM_NAME, ensure_stream
from layercake_contracts.runtime import ServiceRuntime
from layercake_contracts.values import Gate
from layercake_git.app import create_runtime
from layercake_git.settings import Settings
from layercake_git.upgrade import migrate_gate_books
from layercake_testing.waiting import eventually

pytestmark = pytest.mark.nats

# `git-flow` as the version before issue #18 declared it: no max_ack_pending (the server's 1000).
OLD_GIT_FLOW = ConsumerConfig(
    durable_name="git-flow",
    name="git-flow",
    filter_subject=ALL_EVENTS,
    ack_policy=AckPolicy.EXPLICIT,
    ack_wait=30.0,
    max_deliver=-1,
    deliver_policy=DeliverPolicy.ALL,
)


async def test_an_old_git_flow_is_updated_to_one_message_in_flight(
    guarded_nats_server, nats_credentials, tmp_path
):
    """Made by the old version, `git-flow` is updated in place at start, as git itself (its grant)."""
    admin = await nats.connect(
        guarded_nats_server.url, nkeys_seed=str(nats_credentials.seed_file(ADMIN))
    )
    js = admin.jetstream()
    await ensure_stream(js)
    made = await js.add_consumer(STREAM_NAME, OLD_GIT_FLOW)
    assert made.config.max_ack_pending == 1000
    settings = Settings(
        nats_url=guarded_nats_server.url,
        nats_nkey_seed_file=nats_credentials.seed_file("git"),
        workspaces_root=tmp_path / "workspaces",
    )
    git = create_runtime(settings)
    with structlog.testing.capture_logs() as logs:
        await git.start()
    try:
        info = await js.consumer_info(STREAM_NAME, "git-flow")
    finally:
        await git.stop()
        await admin.close()
    assert info.config.max_ack_pending == 1
    assert (info.config.ack_wait, info.config.deliver_policy) == (30.0, DeliverPolicy.ALL)
    [updated] = [entry for entry in logs if entry["event"] == "consumer_updated"]
    assert updated["consumer"] == "git-flow"
    assert updated["changed"] == {"max_ack_pending": [1000, 1]}


def old_shape(record_path) -> None:
    """Write the record as the version before gate books did: the same fields, no `gates`."""
    record = json.loads(record_path.read_bytes())
    del record["gates"]
    record_path.write_text(json.dumps(record))


async def test_a_project_under_way_is_followed_after_the_upgrade(
    nats_server, tmp_path, service, approve, document, approval, workspaces, inspect, repo_path
):
    """Old record, g0..g2 tagged: G3's approval is tagged, G7's (never opened) still ignored."""
    for gate in (Gate.G0, Gate.G1, Gate.G2):
        await service.record_artifact(document(gate, f"{gate} notes", f"{gate} text"))
        await approve(service, approval(gate))
    old_shape(workspaces.root / "shop.json")
    settings = Settings(nats_url=nats_server.url, workspaces_root=workspaces.root)
    with structlog.testing.capture_logs() as logs:
        git = create_runtime(settings)
        observer = ServiceRuntime("observer", nats_server.url)
        await git.start()
        await observer.start()
        try:
            # Ordered: G7's approval is handled before G3's.
            await observer.bus.publish(approval(Gate.G7))
            await observer.bus.publish(approval(Gate.G3))
            await eventually(lambda: "g3-approved" in inspect(repo_path, "tag"))
        finally:
            await observer.stop()
            await git.stop()
    [migrated] = [entry for entry in logs if entry["event"] == "gate_book_migrated"]
    assert (migrated["approved"], migrated["awaiting"]) == (["G0", "G1", "G2"], "G3")
    assert migrated["tags_not_believed"] == []
    assert inspect(repo_path, "tag").split() == [f"g{n}-approved" for n in range(4)]
    [ignored] = [entry for entry in logs if entry["event"] == "gate_approval_ignored"]
    assert (ignored["gate"], ignored["reason"]) == (Gate.G7, "G7 was never opened: G3 awaits")
    assert "gates" in json.loads((workspaces.root / "shop.json").read_bytes())


async def test_records_with_a_gate_book_or_of_no_project_git_met_are_left_alone(
    service, project, workspaces, build, blobs
):
    """A record kept since ProjectCreated is not rebuilt; a record of a repository alone is."""
    await service.follow_gate(project)
    await service.commit_build(build({"app.py": b"x\n"}), blobs)
    kept = (workspaces.root / "shop.json").read_bytes()
    other = workspaces.repository("other")
    other.create()  # a repository with no record: written before records held books
    with structlog.testing.capture_logs() as logs:
        migrate_gate_books(workspaces)
    assert (workspaces.root / "shop.json").read_bytes() == kept
    assert [(e["event"], e["project_id"]) for e in logs] == [("gate_book_migrated", "other")]
    assert workspaces.record("other").load().gates.awaiting is Gate.G0
