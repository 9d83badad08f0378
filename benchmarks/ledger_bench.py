"""Ledger benchmarks: rebuilding a 10,000-event project, and recording throughput.

1. A project with 10,000 events, rebuilt from the store with snapshots (every
   100 events) and without, in the same run (target: under 100 ms with).
2. Recording bus events (each with its tracking record, in one transaction) on
   SQLite and on PostgreSQL (LAYERCAKE_TEST_PG_DSN, default the local server),
   as events per second and as a ratio.

    uv run python benchmarks/ledger_bench.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from layercake_contracts.events import ArtifactRecorded, ProjectCreated
from layercake_contracts.values import Gate
from layercake_gateway.adapters.ledger import Ledger
from layercake_gateway.core.policy import Policy

EVENTS = 10_049  # the last snapshot at 10,000, then 49 events replayed on top
RECORDED = 1_000
PG_DSN = os.environ.get("LAYERCAKE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def fill(ledger: Ledger, project_id: str, count: int) -> float:
    """Record `count` events for one project; the seconds it took."""
    root = ProjectCreated(project_id=project_id, name=project_id, intake="i", owner="ada")
    position = ledger.recorder.max_notification_id() or 0
    start = time.perf_counter()
    ledger.record(root, position + 1)
    for n in range(1, count):
        event = ArtifactRecorded.follow(root, gate=Gate.G1, kind="note", name=f"n{n % 50}",
                                        facts={"n": n})  # fmt: skip
        ledger.record(event, position + 1 + n)
    return time.perf_counter() - start


def rebuild_ms(url: str, *, snapshots: bool) -> float:
    ledger = Ledger(url, Policy(), snapshots=snapshots, cache=False)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        ledger.get("big")
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="lc-ledger-bench-"))
    url = f"sqlite:///{folder / 'ledger.db'}"
    ledger = Ledger(url, Policy())
    fill(ledger, "big", EVENTS)
    version = ledger.get("big").version
    with_snapshots = rebuild_ms(url, snapshots=True)
    without = rebuild_ms(url, snapshots=False)
    print(f"rebuild of a project with {version} events (SQLite):")
    print(f"  with snapshots every 100: {with_snapshots:.1f} ms (target < 100 ms)")
    print(f"  without snapshots: {without:.1f} ms; ratio {without / with_snapshots:.0f}x")

    sqlite_rate = RECORDED / fill(
        Ledger(f"sqlite:///{folder / 'rate.db'}", Policy()), "r", RECORDED
    )
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        pg = Ledger(f"{PG_DSN}?schema={schema}", Policy())
        pg_rate = RECORDED / fill(pg, "r", RECORDED)
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print(f"recording {RECORDED} bus events, each with its tracking record:")
    print(f"  SQLite: {sqlite_rate:.0f} events/s; PostgreSQL: {pg_rate:.0f} events/s; "
          f"ratio PostgreSQL/SQLite {pg_rate / sqlite_rate:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
