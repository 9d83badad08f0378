"""The egress proxy's decisions: only CONNECT to an allow-listed name, only to public addresses."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layercake_builder.core.egress import EgressPolicy, Target, admit, vet_addresses
from layercake_builder.errors import EgressRefused

POLICY = EgressPolicy()


def connect(authority: str) -> str:
    return f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n"


def refusal(call, *args) -> str:
    with pytest.raises(EgressRefused) as refused:
        call(*args)
    return refused.value.reason


def test_connect_to_a_registry_on_443_is_admitted():
    assert admit(connect("registry.npmjs.org:443"), POLICY) == Target("registry.npmjs.org", 443)


def test_a_host_name_is_compared_without_case_or_trailing_dot():
    assert admit(connect("PyPI.org.:443"), POLICY) == Target("pypi.org", 443)


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        ("GET http://pypi.org/simple/ HTTP/1.1\r\n\r\n", "GET is not CONNECT"),
        ("", "an empty request is not CONNECT"),
        (connect("pypi.org"), "not host:port"),
        (connect("pypi.org:https"), "not host:port"),
        (connect("example.com:443"), "host not on the allow-list"),
        (connect("pypi.org.evil.example:443"), "host not on the allow-list"),
        (connect("pypi.org:22"), "port 22 not allowed"),
        (connect("127.0.0.1:5432"), "an address, not a host name"),
        (connect("10.255.255.1:443"), "an address, not a host name"),
        (connect("[::1]:443"), "an address, not a host name"),
        (connect("169.254.169.254:443"), "an address, not a host name"),
    ],
)
def test_anything_but_connect_to_an_allowed_name_and_port_is_refused(head, reason):
    assert refusal(admit, head, POLICY) == reason


def test_the_allow_list_is_the_policys_not_a_fixed_one():
    policy = EgressPolicy(hosts=frozenset({"mirror.example"}), ports=frozenset({8443}))
    assert admit(connect("mirror.example:8443"), policy) == Target("mirror.example", 8443)
    assert refusal(admit, connect("pypi.org:443"), policy) == "host not on the allow-list"


TARGET = Target("pypi.org", 443)


def test_a_name_that_resolves_to_loopback_is_refused():
    """A fake resolver's answer for an allow-listed name: 127.0.0.1 is never connected to."""
    resolved = ["127.0.0.1"]
    assert refusal(vet_addresses, TARGET, resolved) == "resolves to 127.0.0.1, loopback"


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),  # noqa: S104  # an answer to refuse, not a bind
        ("0.1.2.3", "this network"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1%eth0", "link-local"),
        ("fd00::1", "private"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::a00:1", "private"),
        ("2002:7f00:1::", "loopback"),
        ("not-an-address", "not an address"),
    ],
)
def test_an_internal_address_among_the_answers_refuses_the_name(address, why):
    """One bad answer among good ones refuses the whole name: no rebinding by order."""
    reason = refusal(vet_addresses, TARGET, ["151.101.0.223", address])
    assert reason == f"resolves to {address}, {why}"


def test_a_name_that_resolved_to_nothing_is_refused():
    assert refusal(vet_addresses, TARGET, []) == "the name resolved to nothing"


def test_public_answers_are_tried_in_the_resolvers_order_once_each():
    answers = ["151.101.0.223", "2a04:4e42::223", "151.101.0.223"]
    assert vet_addresses(TARGET, answers) == ("151.101.0.223", "2a04:4e42::223")


@given(st.ip_addresses())
def test_an_accepted_address_is_never_loopback_private_link_local_or_multicast(address):
    """Whatever a resolver answers, what the proxy would connect to is none of the host's."""
    try:
        (vetted,) = vet_addresses(TARGET, [str(address)])
        chosen = ipaddress.ip_address(vetted)
    except EgressRefused:
        return
    unwrapped = getattr(chosen, "ipv4_mapped", None) or chosen
    assert not unwrapped.is_loopback
    assert not unwrapped.is_link_local
    assert not unwrapped.is_multicast
    assert not unwrapped.is_unspecified
    assert not any(
        unwrapped in ipaddress.ip_network(n)
        for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
        if ipaddress.ip_network(n).version == unwrapped.version
    )


@given(st.text(max_size=200))
def test_any_request_head_is_admitted_or_refused_never_crashes(head):
    try:
        hosts = {admit(head, POLICY).host}
    except EgressRefused as refused:
        hosts = set() if refused.reason else {"(a refusal without a reason)"}
    assert hosts <= POLICY.hosts
