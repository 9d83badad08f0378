"""Whether a network step may open a tunnel: the egress proxy's decisions, without its sockets.

Pure: a request head, the allow-list and the addresses a name resolved to in; the target
and the one address to connect to out, or `EgressRefused` with the reason. A step may
only `CONNECT` to an allow-listed host name on an allowed port, and only when every
address of that name is a public one: a name that also resolves to loopback, a private
range, link-local (cloud metadata) and the like is refused whole, so a rebinding
answer cannot pick the bad one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layercake_builder.errors import EgressRefused

if TYPE_CHECKING:
    from collections.abc import Sequence

# The registries npm, uv and pip-audit use.
REGISTRY_HOSTS = ("registry.npmjs.org", "pypi.org", "files.pythonhosted.org")
HTTPS_PORT = 443
_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# `is_private` is not used: it also holds the documentation ranges, which name no network of
# ours; these are the ranges a neighbour of the host can be on (RFC 1918, RFC 6598, RFC 4193).
_PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class EgressPolicy:
    """The host names and ports a network step may reach."""

    hosts: frozenset[str] = frozenset(REGISTRY_HOSTS)
    ports: frozenset[int] = frozenset({HTTPS_PORT})


@dataclass(frozen=True)
class Target:
    """Where a step asked to tunnel to."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def admit(head: str, policy: EgressPolicy) -> Target:
    """The target of a request head (its first line matters), if the policy lets it through."""
    method, _, rest = head.partition("\r\n")[0].partition(" ")
    authority = rest.split(" ", 1)[0]
    if method != "CONNECT":
        raise EgressRefused(authority, f"{method or 'an empty request'} is not CONNECT")
    host, colon, port = authority.rpartition(":")
    if not colon or not port.isdigit():
        raise EgressRefused(authority, "not host:port")
    target = Target(host.lower().rstrip("."), int(port))
    if _literal(target.host.strip("[]")) is not None:
        raise EgressRefused(str(target), "an address, not a host name")
    if target.host not in policy.hosts:
        raise EgressRefused(str(target), "host not on the allow-list")
    if target.port not in policy.ports:
        raise EgressRefused(str(target), f"port {target.port} not allowed")
    return target


def vet_addresses(target: Target, addresses: Sequence[str]) -> tuple[str, ...]:
    """The addresses to try, in the resolver's order, if every one of them is public."""
    if not addresses:
        raise EgressRefused(str(target), "the name resolved to nothing")
    for address in addresses:
        reason = _why_internal(address)
        if reason is not None:
            raise EgressRefused(str(target), f"resolves to {address}, {reason}")
    return tuple(dict.fromkeys(addresses))


def _why_internal(text: str) -> str | None:
    """Why an address must not be reached, or None for a public one."""
    address = _literal(text.split("%", 1)[0])
    if address is None:
        return "not an address"
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address wrapped in IPv6 is judged as itself.
        nat64 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None
        address = address.ipv4_mapped or address.sixtofour or nat64 or address
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", any(address in network for network in _PRIVATE)),
        ("this network", isinstance(address, ipaddress.IPv4Address) and address.packed[0] == 0),
    )
    return next((name for name, hit in checks if hit), None)


def _literal(text: str) -> _IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
