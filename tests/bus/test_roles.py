"""The bus's access list (`natsauth.ROLES`) says what each service's own code does, no more."""

from __future__ import annotations

import pytest

from layercake.asyncapi import load_services
from layercake.natsauth import ALL_CONSUMERS, EVERYONE_PRODUCES, ROLES, Role, service_grant


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    return {s.name: s for s in load_services(tmp_path_factory.mktemp("services"))}


def test_each_service_may_publish_exactly_the_events_its_code_makes(services):
    """A role naming an event the code never makes, or missing one it makes, fails here."""
    granted = {name: {*role.produces, *EVERYONE_PRODUCES} for name, role in ROLES.items()}
    assert granted == {name: set(service.publishes) for name, service in services.items()}


def test_each_service_may_create_exactly_the_consumers_its_code_declares(services):
    """The durable consumers (and their filters) the roles grant are those the handlers use."""
    declared = {
        name: {
            (sub.config.durable_name, sub.config.filter_subject)
            for sub in service.runtime.broker.subscribers
            if sub.config.durable_name
        }
        for name, service in services.items()
    }
    granted = {
        name: {
            (f"{name}-{c}", "lc.evt.>" if c in ALL_CONSUMERS else f"lc.evt.*.{c}")
            for c in role.consumes
        }
        for name, role in ROLES.items()
    }
    assert granted == declared


def test_a_service_that_answers_questions_is_granted_its_own_rpc_subjects_only():
    """The parser answers `lc.rpc.parser.*`; it may neither answer git's nor ask anyone."""
    grant = service_grant("parser", ROLES["parser"])
    assert "lc.rpc.parser.*" in grant.subscribe
    assert not any(s.startswith("lc.rpc") for s in grant.publish)
    assert grant.responses


def test_no_service_but_the_gateway_may_ask_questions():
    """Only the HTTP API asks `lc.rpc`: a grant of `lc.rpc.>` to publish is the gateway's alone."""
    askers = {n for n, r in ROLES.items() if "lc.rpc.>" in service_grant(n, r).publish}
    assert askers == {"gateway"}


def test_no_service_may_read_the_event_stream_message_by_message():
    """`STREAM.MSG.GET` of LC_EVENTS read every tenant's intake: no grant allows it."""
    for name, role in [*ROLES.items(), ("nobody", Role((), ()))]:
        grant = service_grant(name, role)
        assert not any(s.startswith("$JS.API.STREAM.MSG.GET.LC_EVENTS") for s in grant.publish)
        assert not any(s in {">", "$JS.API.>", "$JS.>"} for s in grant.publish)
