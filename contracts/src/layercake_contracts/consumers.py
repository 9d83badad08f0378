"""Durable consumers brought to the config the code declares, when a service starts.

A durable consumer outlives the process that made it. One an older version
created keeps that version's settings, and FastStream (through nats-py) binds to
it as it is. So, before its consumers start, a runtime compares each consumer on
the server with what it declares:

- one not there yet is left to FastStream, which creates it as declared;
- a field JetStream changes in place (`EDITABLE`) is updated, on the consumer's
  own config with only those fields changed, and `consumer_updated` names them;
- any other declared field that differs (`FIXED`) stops the start with
  `ConsumerDrift`, naming the consumer, the field, both values and the fix.

A consumer is never recreated for the operator. It holds its place in the
stream: what was acknowledged, what is in flight and each message's delivery
count. Made anew with the declared policy (every message from the first), it
would hand its service the whole stream again: models asked again, pushes made
again. Made at its old place, its deliver policy would differ from the declared
one again. Either is the operator's call, taken with the service stopped. A filter
JetStream would change in place, but then the consumer would skip, for good, the
new filter's messages behind its place: that is refused too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import structlog
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from layercake_contracts.errors import ContractsError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from nats.js import JetStreamContext
    from nats.js.api import ConsumerInfo

log = structlog.get_logger(__name__)

# Declared fields JetStream changes on an existing consumer, and those it cannot (or must not).
EDITABLE = ("ack_wait", "max_deliver", "max_ack_pending")
FIXED = ("filter_subject", "deliver_policy", "ack_policy")
_NANOSECONDS = 10**9
SERVER_MAX_ACK_PENDING = 1000  # JetStream's default for a consumer that sets none


def declared(durable: str, subject: str, ack_wait_s: float, *, ordered: bool) -> ConsumerConfig:
    """The config of a service's durable pull consumer `durable` on `subject`."""
    return ConsumerConfig(
        durable_name=durable,
        # Named, so the create names its filter and the server checks it against the grant.
        name=durable,
        filter_subject=subject,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ack_wait_s,
        # The bound is the runtime's (see `runtime.Reliability`); the server only redelivers.
        max_deliver=-1,
        deliver_policy=DeliverPolicy.ALL,
        # The server's default otherwise, said: a consumer once ordered is brought back.
        max_ack_pending=1 if ordered else SERVER_MAX_ACK_PENDING,
    )


@dataclass(frozen=True)
class Change:
    """One declared field whose value on the server differs."""

    field: str
    old: object
    new: object

    def __str__(self) -> str:
        return f"{self.field} {_shown(self.old)} (declared: {_shown(self.new)})"


def _value(value: object) -> object:
    """A config value as JetStream names it: `all`, not `DeliverPolicy.ALL`."""
    return getattr(value, "value", value)


def _shown(value: object) -> str:
    return repr(_value(value))


def changes(declared: ConsumerConfig, found: ConsumerConfig) -> list[Change]:
    """The fields `declared` sets that `found` (the server's config) holds otherwise."""
    return [
        Change(name, getattr(found, name), getattr(declared, name))
        for name in (*FIXED, *EDITABLE)
        if getattr(declared, name) is not None
        and _held(name, getattr(found, name), round) != _held(name, getattr(declared, name), int)
    ]


def _held(name: str, value: object, to_int: Callable[[float], int]) -> object:
    """A value as the server holds it: ack wait in whole nanoseconds.

    nats-py sends a declared ack wait as `int(seconds * 10**9)` and reads it back
    divided by 10**9: `int` for the one declared, `round` to recover the one found.
    """
    if name == "ack_wait" and isinstance(value, float | int):
        return to_int(value * _NANOSECONDS)
    return value


class ConsumerDrift(ContractsError):
    """A durable consumer on the server differs from the declared one in a field JetStream keeps."""

    def __init__(self, stream: str, info: ConsumerInfo, fixed: list[Change], nats_url: str) -> None:
        name = info.name
        floor = info.ack_floor.stream_seq if info.ack_floor else 0
        super().__init__(
            f"consumer {name} on {stream} has {'; '.join(map(str, fixed))}: JetStream cannot "
            f"change that on an existing consumer, and a new one would not resume at its place "
            f"(acknowledged up to stream sequence {floor}, {info.num_ack_pending} in flight, "
            f"{info.num_pending} waiting). To make it anew, stop every worker using it, "
            f"then, as the admin: `nats --server {_without_user(nats_url)} --nkey "
            f"<home>/creds/admin.nk consumer rm {stream} {name} --force`; the next start "
            f"creates it as declared, and it is delivered the stream from its first message "
            f"again (its handlers see every event again)."
        )
        self.stream, self.consumer, self.fixed = stream, name, tuple(fixed)


def _without_user(url: str) -> str:
    """`url` without a user or password in it: the error is logged and printed."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


async def reconcile(
    js: JetStreamContext, stream: str, declared: Iterable[ConsumerConfig], nats_url: str
) -> None:
    """Bring every `declared` consumer that exists on `stream` to its declared config."""
    for config in declared:
        name = config.durable_name or ""
        try:
            info = await js.consumer_info(stream, name)
        except NotFoundError:
            continue  # FastStream creates it as declared
        found = changes(config, info.config)
        fixed = [change for change in found if change.field not in EDITABLE]
        if fixed:
            drift = ConsumerDrift(stream, info, fixed, nats_url)
            log.error(
                "consumer_config_refused",
                consumer=name,
                fields=[c.field for c in fixed],
                reason=str(drift),
            )
            raise drift
        if found:
            await js.add_consumer(stream, info.config.evolve(**{c.field: c.new for c in found}))
            log.info(
                "consumer_updated",
                consumer=name,
                changed={c.field: [_value(c.old), _value(c.new)] for c in found},
            )
