"""Which declared consumer fields differ on the server, and what a refusal says."""

from __future__ import annotations

import datetime as dt

from nats.js.api import ConsumerInfo, DeliverPolicy

from layercake_contracts.consumers import Change, ConsumerDrift, changes, declared

SUBJECT = "lc.evt.*.GateOpened"


def test_only_declared_fields_that_differ_are_changes():
    """The server's defaults for fields not declared are no change; ordered is max_ack_pending 1."""
    ordered = declared("git-flow", SUBJECT, 30.0, ordered=True)
    on_server = declared("git-flow", SUBJECT, 30.0, ordered=False).evolve(max_waiting=512)
    assert changes(ordered, on_server) == [Change("max_ack_pending", 1000, 1)]
    assert changes(ordered, ordered) == []


def test_an_ack_wait_is_compared_as_the_server_holds_it():
    """2.01 s is sent as 2009999999 ns and read back as 2.009999999: the same, no change."""
    config = declared("git-flow", SUBJECT, 2.01, ordered=True)
    assert changes(config, config.evolve(ack_wait=2.009999999)) == []
    assert changes(config, config.evolve(ack_wait=2.0)) == [Change("ack_wait", 2.0, 2.01)]


def test_a_refusal_names_the_place_and_no_password_of_the_url():
    """The error says where the consumer stands, and keeps a user and password out."""
    config = declared("git-flow", SUBJECT, 30.0, ordered=True)
    info = ConsumerInfo(
        name="git-flow",
        stream_name="LC_EVENTS",
        config=config.evolve(deliver_policy=DeliverPolicy.NEW),
        created=dt.datetime.now(tz=dt.UTC),
        num_ack_pending=1,
        num_pending=7,
    )
    fixed = changes(config, info.config)
    message = str(ConsumerDrift("LC_EVENTS", info, fixed, "nats://ada:s3cret@nats.example:4222"))
    assert "deliver_policy 'new' (declared: 'all')" in message
    assert "1 in flight, 7 waiting" in message
    assert "s3cret" not in message
    assert "--server nats://nats.example:4222 " in message
