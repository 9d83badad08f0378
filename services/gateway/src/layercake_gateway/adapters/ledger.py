"""The ledger's store: the `Project` aggregates in an eventsourcing application.

SQLite is the embedded default, PostgreSQL the production store, both through
eventsourcing's own persistence modules (chosen by `store_env`). A bus message
is recorded together with its tracking record (the stream sequence) in one
transaction, so a message delivered again changes nothing. Sync code: the
bus edge calls it in a thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Tracking

from layercake_gateway.core.policy import Policy, react
from layercake_gateway.core.project import LedgerError, Project

if TYPE_CHECKING:
    from collections.abc import Callable

    from eventsourcing.persistence import ProcessRecorder

    from layercake_contracts.events import EventBase

STREAM_TRACKING = "LC_EVENTS"
SNAPSHOT_INTERVAL = 100
_RETRIES_ON_CONFLICT = 5


class ConcurrentChange(LedgerError):
    """Someone else changed the project between our read and our write."""

    def __init__(self, project_id: str) -> None:
        super().__init__(f"project {project_id} was changed concurrently; read it again")
        self.project_id = project_id


class UnknownProject(LedgerError):
    """No project with this id has been created."""

    def __init__(self, project_id: str) -> None:
        super().__init__(f"no project {project_id!r}")
        self.project_id = project_id


class LedgerApplication(Application[Any]):
    """The eventsourcing application holding every project; a process recorder (tracking)."""

    name = "ledger"
    snapshotting_intervals = {Project: SNAPSHOT_INTERVAL}  # noqa: RUF012  # the library's own class attribute

    def construct_recorder(self) -> ProcessRecorder:
        """Record events and tracking positions together."""
        return self.factory.process_recorder()


def store_env(url: str) -> dict[str, str]:
    """Eventsourcing's settings for a store URL: `sqlite:///path` or `postgresql://…`."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": parsed.path}
    if parsed.scheme in {"postgres", "postgresql"}:
        schema = dict(p.split("=", 1) for p in parsed.query.split("&") if "=" in p).get(
            "schema", ""
        )
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parsed.path.lstrip("/"),
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_SCHEMA": schema,
        }
    msg = f"store URL {url!r}: use sqlite:///PATH or postgresql://USER@HOST/DB"
    raise ValueError(msg)


class Ledger:
    """The system of record: bus events in (exactly once), decisions and reads out."""

    def __init__(self, url: str, policy: Policy) -> None:
        self.app = LedgerApplication(env=store_env(url))
        self.policy = policy
        self.recorder: ProcessRecorder = self.app.recorder  # type: ignore[assignment]  # see construct_recorder

    def record(self, event: EventBase, position: int) -> bool:
        """Apply a bus event delivered at stream `position`, once; False if seen before.

        The library's tracking keeps the highest position: positions must come
        in order, which the ledger's ordered consumer (one message in flight)
        guarantees.
        """
        tracking = Tracking(STREAM_TRACKING, position)
        for _ in range(_RETRIES_ON_CONFLICT):
            if self.recorder.has_tracking_id(STREAM_TRACKING, position):
                return False
            project = react(self._find(event.project_id), event, self.policy)
            pending = project.collect_events() if project is not None else []
            try:
                self.app.events.put(pending, tracking=tracking)
            except IntegrityError:
                continue  # a concurrent write (or the same message, twice): read again
            self._snapshot(project)
            return True
        raise ConcurrentChange(event.project_id)

    def decide(self, project_id: str, decision: Callable[[Project], object]) -> Project:
        """Run a person's decision (approve, reject, select) on the latest state and store it."""
        project = self.get(project_id)
        decision(project)
        try:
            self.app.save(project)
        except IntegrityError as exc:
            raise ConcurrentChange(project_id) from exc
        return project

    def get(self, project_id: str, version: int | None = None) -> Project:
        """A project as its events say it is now (or at `version`)."""
        try:
            project: Project = self.app.repository.get(
                Project.create_id(project_id), version=version
            )
        except AggregateNotFoundError as exc:
            raise UnknownProject(project_id) from exc
        return project

    def _find(self, project_id: str) -> Project | None:
        try:
            return self.get(project_id)
        except UnknownProject:
            return None

    def _snapshot(self, project: Project | None) -> None:
        if project is not None and project.version % SNAPSHOT_INTERVAL == 0:
            self.app.take_snapshot(project.id)
