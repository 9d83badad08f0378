"""One project's bus events read back as the gateway may, on a server that checks credentials."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from layercake.natsauth import ADMIN
from layercake_contracts.bus import ensure_stream, subject_for
from layercake_contracts.events import GateOpened, ProjectCreated
from layercake_contracts.values import Gate
from layercake_gateway.dashboard.history import project_history
from layercake_testing.session import signed_in

pytestmark = pytest.mark.nats


async def test_the_gateway_reads_one_projects_events_in_order_and_no_other(
    guarded_nats_server, nats_credentials
):
    """Its grant suffices (no permission refused); another project's events are not among them."""
    url = guarded_nats_server.url
    ours = ProjectCreated(project_id="ada-tally", name="t", intake="i", owner="ada")
    theirs = ProjectCreated(project_id="bob-tally", name="t", intake="i", owner="bob")
    opened = GateOpened.follow(ours, gate=Gate.G1)
    async with signed_in(url, nats_credentials.seed_file(ADMIN), ADMIN) as admin:
        js = admin.connection.jetstream()
        await ensure_stream(js)
        for event in (ours, theirs, opened):
            await js.publish(subject_for(event), event.model_dump_json().encode())
    async with signed_in(url, nats_credentials.seed_file("gateway"), "gateway") as gateway:
        bus = SimpleNamespace(connection=gateway.connection)  # all the reader uses of a Bus
        found = await project_history(bus, "ada-tally")
        none = await project_history(bus, "cy-nothing")
        again = await project_history(bus, "ada-tally")
    assert [e.event_id for e in found] == [ours.event_id, opened.event_id]
    assert none == []
    assert again == found  # it acknowledged nothing, changed nothing
    assert gateway.errors == []
