"""The attacks of issue #15 on a real nats-server configured as `layercake up` configures it.

Each test signs in with the credentials `up` issues (an nkey per service, one per integrator)
and tries what a forger tried: no credentials, another service's events, the whole stream,
someone else's questions. The server, not our code, must refuse.
"""

from __future__ import annotations

import asyncio
import dataclasses
import stat
from typing import TYPE_CHECKING

import nats
import pytest
from nats.errors import Error as NatsError
from nats.js.api import ConsumerConfig

from layercake.natsauth import ADMIN, integrator_grant
from layercake_contracts.bus import STREAM_NAME, ensure_stream, stream_config
from layercake_contracts.events import BuildSucceeded, FilesWritten, GateApproved, ProjectCreated
from layercake_contracts.rpc import HISTORY_SUBJECT
from layercake_contracts.values import Gate, Manifest, Role
from layercake_testing import session

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from layercake.natsauth import Credentials
    from layercake.natsd import NatsServer
    from layercake_testing.session import Session

pytestmark = pytest.mark.nats
ROOT = ProjectCreated(project_id="alice-tally", name="tally", intake="x", owner="alice")


def signed_in(
    server: NatsServer, credentials: Credentials, user: str
) -> AbstractAsyncContextManager[Session]:
    return session.signed_in(server.url, credentials.seed_file(user), user)


async def stored(server: NatsServer, credentials: Credentials) -> list[str]:
    """The subjects of every message on the event stream (read as the admin)."""
    async with signed_in(server, credentials, ADMIN) as admin:
        js = admin.connection.jetstream()
        await ensure_stream(js)
        last = (await js.stream_info(STREAM_NAME)).state.last_seq
        return [(await js.get_msg(STREAM_NAME, seq)).subject for seq in range(1, last + 1)]


def build_succeeded() -> BuildSucceeded:
    return BuildSucceeded.follow(
        ROOT, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=1, manifest=Manifest({}),
        results=(),
    )  # fmt: skip


async def test_a_client_without_credentials_is_refused(guarded_nats_server):
    """An anonymous client, like the red team's Node.js script, cannot connect at all."""
    with pytest.raises(NatsError, match=r"[Aa]uthorization"):
        await nats.connect(guarded_nats_server.url, allow_reconnect=False, max_reconnect_attempts=0)


async def test_the_builders_credentials_cannot_publish_a_gate_decision(
    guarded_nats_server, nats_credentials
):
    """A GateApproved signed in as the builder is refused by the server and never stored."""
    forged = GateApproved.follow(ROOT, gate=Gate.G5, by="builder")
    subject = f"lc.evt.{ROOT.project_id}.GateApproved"
    await stored(guarded_nats_server, nats_credentials)  # the stream exists
    async with signed_in(guarded_nats_server, nats_credentials, "builder") as builder:
        assert not await builder.publish(forged, subject)
        await asyncio.sleep(0.2)
        assert builder.refused(subject)
    assert subject not in await stored(guarded_nats_server, nats_credentials)


async def test_the_builder_publishes_its_build_results_but_not_the_parsers_files(
    guarded_nats_server, nats_credentials
):
    """BuildSucceeded from the builder is stored; a FilesWritten from it is refused."""
    files = FilesWritten.follow(
        ROOT, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=1, manifest=Manifest({}),
        changed=(),
    )  # fmt: skip
    await stored(guarded_nats_server, nats_credentials)
    async with signed_in(guarded_nats_server, nats_credentials, "builder") as builder:
        assert await builder.publish(build_succeeded(), "lc.evt.alice-tally.BuildSucceeded")
        assert not await builder.publish(files, "lc.evt.alice-tally.FilesWritten")
    assert await stored(guarded_nats_server, nats_credentials) == [
        "lc.evt.alice-tally.BuildSucceeded"
    ]


async def test_the_builders_credentials_cannot_read_the_whole_stream(
    guarded_nats_server, nats_credentials
):
    """`$JS.API.STREAM.MSG.GET` of the event stream, which read every tenant's intake, is refused."""
    await stored(guarded_nats_server, nats_credentials)
    async with signed_in(guarded_nats_server, nats_credentials, "gateway") as gateway:
        assert await gateway.publish(ROOT, "lc.evt.alice-tally.ProjectCreated")
    async with signed_in(guarded_nats_server, nats_credentials, "builder") as builder:
        with pytest.raises(NatsError):
            await builder.connection.jetstream().get_msg(STREAM_NAME, 1)
        assert builder.refused("$JS.API.STREAM.MSG.GET.LC_EVENTS")


async def test_the_builders_credentials_cannot_consume_the_ledgers_events(
    guarded_nats_server, nats_credentials
):
    """A consumer of every event (the gateway's ledger, or a new one) is refused to the builder."""
    await stored(guarded_nats_server, nats_credentials)
    async with signed_in(guarded_nats_server, nats_credentials, "builder") as builder:
        with pytest.raises(NatsError):
            await builder.connection.jetstream().add_consumer(
                STREAM_NAME,
                ConsumerConfig(durable_name="gateway-ledger", filter_subject="lc.evt.>"),
                timeout=2,
            )
    async with signed_in(guarded_nats_server, nats_credentials, ADMIN) as admin:
        names = await admin.connection.jetstream().consumers_info(STREAM_NAME)
    assert [c.name for c in names] == []


async def test_only_the_gateway_asks_another_service_a_question(
    guarded_nats_server, nats_credentials
):
    """`lc.rpc.git.history` answered anyone; the builder's question is refused before git sees it."""
    async with signed_in(guarded_nats_server, nats_credentials, "git") as git:
        asked: list[bytes] = []

        async def answer(msg) -> None:
            asked.append(msg.data)
            await msg.respond(b"{}")

        await git.connection.subscribe(HISTORY_SUBJECT, cb=answer)
        async with signed_in(guarded_nats_server, nats_credentials, "builder") as builder:
            with pytest.raises(NatsError):
                await builder.connection.request(HISTORY_SUBJECT, b"{}", timeout=1)
        async with signed_in(guarded_nats_server, nats_credentials, "gateway") as gateway:
            assert (await gateway.connection.request(HISTORY_SUBJECT, b"{}", timeout=5)).data
    assert asked == [b"{}"]


async def test_a_read_only_integrator_follows_every_event_and_cannot_publish(
    guarded_nats_server, nats_credentials
):
    """With its own durable consumer on `lc.evt.>` it reads the events; its publish is refused."""
    nats_credentials.issue("dashboard", integrator_grant("dashboard", None))
    nats_credentials.write_config(guarded_nats_server.config_file)
    guarded_nats_server.reload()
    await stored(guarded_nats_server, nats_credentials)
    async with signed_in(guarded_nats_server, nats_credentials, "gateway") as gateway:
        assert await gateway.publish(ROOT, "lc.evt.alice-tally.ProjectCreated")
    async with signed_in(guarded_nats_server, nats_credentials, "dashboard") as dashboard:
        js = dashboard.connection.jetstream()
        pull = await js.pull_subscribe("lc.evt.>", durable="dashboard", stream=STREAM_NAME)
        [message] = await pull.fetch(1, timeout=5)
        await message.ack()
        assert message.subject == "lc.evt.alice-tally.ProjectCreated"
        assert not await dashboard.publish(build_succeeded(), "lc.evt.alice-tally.BuildSucceeded")
        with pytest.raises(NatsError):
            await js.get_msg(STREAM_NAME, 1)
    assert await stored(guarded_nats_server, nats_credentials) == [
        "lc.evt.alice-tally.ProjectCreated"
    ]


async def test_a_project_integrator_reads_its_project_and_no_other(
    guarded_nats_server, nats_credentials
):
    """`--project P`: a consumer of P's events is made; one of every event is refused."""
    nats_credentials.issue("alice-ci", integrator_grant("alice-ci", "alice-tally"))
    nats_credentials.write_config(guarded_nats_server.config_file)
    guarded_nats_server.reload()
    await stored(guarded_nats_server, nats_credentials)
    async with signed_in(guarded_nats_server, nats_credentials, "alice-ci") as ci:
        js = ci.connection.jetstream()
        with pytest.raises(NatsError):
            await js.pull_subscribe("lc.evt.>", durable="alice-ci", stream=STREAM_NAME)
        pull = await js.pull_subscribe(
            "lc.evt.alice-tally.>", durable="alice-ci", stream=STREAM_NAME
        )
        assert (await js.consumer_info(STREAM_NAME, "alice-ci")).config.filter_subject == (
            "lc.evt.alice-tally.>"
        )
        await pull.unsubscribe()


def test_every_seed_is_readable_by_its_owner_only(nats_credentials):
    """The seeds `up` issues are 0600 in a 0700 folder: no other local user signs in as a service."""
    seeds = sorted(nats_credentials.folder.glob("*.nk"))
    assert [s.stem for s in seeds] == sorted(
        [ADMIN, "agent", "builder", "gateway", "git", "parser"]
    )
    assert stat.S_IMODE(nats_credentials.folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(s.stat().st_mode) for s in seeds} == {0o600}


async def test_the_gateway_follows_one_projects_events_live_as_its_api_does(
    guarded_nats_server, nats_credentials
):
    """The SSE endpoint's ordered consumer works under the gateway's grant; the builder's fails."""
    await stored(guarded_nats_server, nats_credentials)
    async with signed_in(guarded_nats_server, nats_credentials, "gateway") as gateway:
        assert await gateway.publish(ROOT, "lc.evt.alice-tally.ProjectCreated")
        js = gateway.connection.jetstream()
        following = await js.subscribe("lc.evt.alice-tally.>", ordered_consumer=True)
        message = await following.next_msg(timeout=5)
        assert message.subject == "lc.evt.alice-tally.ProjectCreated"
        await following.unsubscribe()
    async with signed_in(guarded_nats_server, nats_credentials, "builder") as builder:
        with pytest.raises(NatsError):
            await builder.connection.jetstream().subscribe(
                "lc.evt.alice-tally.>", ordered_consumer=True
            )


async def test_the_builders_credentials_cannot_change_the_event_stream(
    guarded_nats_server, nats_credentials
):
    """A stream kept to one message would wipe every project's history: the update is refused."""
    await stored(guarded_nats_server, nats_credentials)
    async with signed_in(guarded_nats_server, nats_credentials, "gateway") as gateway:
        assert await gateway.publish(ROOT, "lc.evt.alice-tally.ProjectCreated")
        assert await gateway.publish(
            GateApproved.follow(ROOT, gate=Gate.G0, by="alice"), "lc.evt.alice-tally.GateApproved"
        )
    async with signed_in(guarded_nats_server, nats_credentials, "builder") as builder:
        js = builder.connection.jetstream()
        wiping = dataclasses.replace(stream_config(), max_msgs=1)
        with pytest.raises(NatsError):
            await js.update_stream(wiping)
        with pytest.raises(NatsError):
            await js.add_stream(wiping)
        assert builder.refused(f"$JS.API.STREAM.UPDATE.{STREAM_NAME}")
    async with signed_in(guarded_nats_server, nats_credentials, ADMIN) as admin:
        info = await admin.connection.jetstream().stream_info(STREAM_NAME)
    assert info.config.max_msgs in {None, -1}
    assert info.state.messages == 2
