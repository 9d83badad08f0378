from __future__ import annotations

import asyncio
import contextlib

import pytest

from layercake_contracts.bus import BLOB_BUCKET, STREAM_NAME, Bus, ensure_stream, sha256_of
from layercake_contracts.errors import NotAProducer
from layercake_contracts.events import parse_event
from layercake_contracts.producers import Service

pytestmark = pytest.mark.nats


async def test_every_event_type_is_stored_and_read_back_equal(bus, every_event):
    """Each event published to a real server comes back as an equal model, on its subject."""
    js = bus._broker.connection.jetstream()
    for event in every_event:
        published = await bus.publish(event)
        assert not published.duplicate
        raw = await js.get_msg(STREAM_NAME, published.sequence)
        assert raw.subject == f"lc.evt.{event.project_id}.{event.type}"
        assert raw.headers["Nats-Msg-Id"] == str(event.event_id)
        assert parse_event(raw.data) == event


async def test_publishing_the_same_event_twice_stores_one_message(bus, every_event):
    """Nats-Msg-Id is the event id, so a retried publish is deduplicated by the stream."""
    js = bus._broker.connection.jetstream()
    first = await bus.publish(every_event[0])
    second = await bus.publish(every_event[0])
    assert second.duplicate
    assert second.sequence == first.sequence
    info = await js.stream_info(STREAM_NAME)
    assert info.state.messages == 1


async def test_ensure_stream_is_idempotent(bus):
    """A second service declaring the stream finds it and keeps one copy."""
    js = bus._broker.connection.jetstream()
    await ensure_stream(js)
    info = await js.stream_info(STREAM_NAME)
    assert info.config.subjects == ["lc.evt.>"]
    assert info.config.storage == "file"


async def test_a_services_bus_names_it_as_the_producer_and_refuses_what_it_does_not_produce(
    bus, every_event
):
    """The builder's bus stamps `builder` on a BuildSucceeded and stores no GateApproved at all."""
    builder = Bus(bus._broker, Service.BUILDER)
    js = bus._broker.connection.jetstream()
    [succeeded] = [e for e in every_event if e.type == "BuildSucceeded"]
    [approval] = [e for e in every_event if e.type == "GateApproved"]
    stored = await builder.publish(succeeded)
    assert parse_event((await js.get_msg(STREAM_NAME, stored.sequence)).data).producer == "builder"
    with pytest.raises(NotAProducer):
        await builder.publish(approval)
    assert (await js.stream_info(STREAM_NAME)).state.messages == 1


async def test_a_blob_overwritten_under_its_digest_changes_nothing_a_reader_gets(bus):
    """Other bytes put under a stored blob's sha256 through the bucket's own API: readers still get the first."""
    blobs = await bus.blobs()
    good = b"print('the file every project shares')\n"
    digest = await blobs.put(good)
    bucket = await bus._broker.connection.jetstream().object_store(BLOB_BUCKET)
    with contextlib.suppress(Exception):  # refused by the server, or stored aside: either way
        await bucket.put(digest, b"import os; os.system('evil')\n")
    assert await blobs.put(good) == digest
    assert await blobs.get(digest) == good
    assert await (await Bus(bus._broker).blobs()).get(digest) == good


async def test_two_services_putting_the_same_blob_at_once_store_it_once_and_both_read_it(bus):
    """Concurrent puts of one content all return its digest; readers during them never see it missing or torn."""
    blobs = await bus.blobs()
    data = bytes(range(256)) * 4096  # several chunks
    digests = await asyncio.gather(*(blobs.put(data) for _ in range(8)))
    assert set(digests) == {sha256_of(data)}
    reads = await asyncio.gather(*(blobs.get(digests[0]) for _ in range(4)), blobs.put(data))
    assert reads[:4] == [data] * 4
