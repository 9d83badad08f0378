"""The ledger's store: the `Project` aggregates in an eventsourcing application.

SQLite is the embedded default, PostgreSQL the production store, both through
eventsourcing's own persistence modules (chosen by `store_env`). A bus message
is recorded together with its tracking record (the stream sequence) in one
transaction, so a message delivered again changes nothing. Sync code: the
bus edge calls it in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime  # a dataclass field's type
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import IntegrityError, Mapper, StoredEvent, Tracking, Transcoder

from layercake_gateway.core.causes import Seen, caused_by, decided_here
from layercake_gateway.core.chain import GENESIS, Break, first_break, seal, unseal
from layercake_gateway.core.policy import Policy, react
from layercake_gateway.core.project import LedgerError, Project
from layercake_gateway.core.tokens import REVOCATIONS_ID, Revocations

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from eventsourcing.persistence import ProcessRecorder

    from layercake_contracts.events import EventBase

STREAM_TRACKING = "LC_EVENTS"
SNAPSHOT_INTERVAL = 100
PROJECTS_CACHED = 1000
_RETRIES_ON_CONFLICT = 5
SQLITE_PREFIX = "sqlite:///"
# The project's own events that record a person's decision, each naming who (`by`).
PERSON_DECIDED = frozenset({
    "GateApproved", "GateRejected", "OptionSelected", "FindingsAccepted", "EscalationResolved",
    "IntakeRevised", "ExportAsked",
})  # fmt: skip
_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp"})


@dataclass(frozen=True)
class Decided:
    """One decision a person made, as stored: its kind, when it was stored, what it says."""

    kind: str
    at: datetime
    facts: dict[str, Any]


class ConcurrentChange(LedgerError):
    """Someone else changed the project between our read and our write."""

    def __init__(self, project_id: str) -> None:
        super().__init__(f"project {project_id} was changed concurrently; read it again")
        self.project_id = project_id


class ProjectExists(LedgerError):
    """A project with this id was created before."""

    def __init__(self, project_id: str) -> None:
        super().__init__(f"project {project_id!r} exists already")
        self.project_id = project_id


class DenyListBusy(LedgerError):
    """Other revocations kept winning the race to the deny list; try again."""

    def __init__(self, jti: str) -> None:
        super().__init__(f"the deny list was changed concurrently; revoke {jti} again")
        self.jti = jti


class NothingToVerify(LedgerError):
    """The store holds no project: a check of nothing is no proof of anything."""

    def __init__(self) -> None:
        super().__init__("the ledger holds no project: nothing to verify")


class NoLedger(LedgerError):
    """A command that reads the ledger was pointed at an SQLite file that is not there."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no ledger at {path.absolute()}")


DENY_LIST = "the token deny list"  # not a project: its chain is walked as theirs are


@dataclass
class Verification:
    """What an audit walked (events by project) and what it found broken."""

    checked: dict[str, int] = field(default_factory=dict)
    broken: dict[str, Break] = field(default_factory=dict)


class UnknownProject(LedgerError):
    """No project with this id has been created."""

    def __init__(self, project_id: str) -> None:
        super().__init__(f"no project {project_id!r}")
        self.project_id = project_id


class ChainedMapper(Mapper[Any]):
    """Seals each stored event with its chain link (see `core/chain.py`); snapshots stay plain."""

    def __init__(self, transcoder: Transcoder, previous: Callable[[Any, int], str]) -> None:
        super().__init__(transcoder)
        self._previous = previous
        self._pending: dict[Any, tuple[int, str]] = {}

    def begin(self) -> None:
        """Forget the links of a write that did not happen (a conflict); start a new one."""
        self._pending.clear()

    def to_stored_event(self, domain_event: Any) -> StoredEvent:  # noqa: ANN401  # the library's signature
        """The library's stored event, its state sealed with the link to its predecessor."""
        stored = super().to_stored_event(domain_event)
        if isinstance(domain_event, Snapshot):
            return stored
        version, originator = stored.originator_version, stored.originator_id
        pending = self._pending.get(originator)
        if version == 1:
            previous = GENESIS
        elif pending is not None and pending[0] == version - 1:
            previous = pending[1]
        else:
            previous = self._previous(originator, version - 1)
        state = seal(previous, str(originator), version, stored.topic, stored.state)
        link = unseal(state)
        self._pending[originator] = (version, link[1] if link else GENESIS)
        return StoredEvent(originator_id=originator, originator_version=version,
                           topic=stored.topic, state=state)  # fmt: skip

    def to_domain_event(self, stored_event: StoredEvent) -> Any:  # noqa: ANN401  # the library's signature
        """The domain event, its chain link set aside."""
        link = unseal(stored_event.state)
        if link is not None:
            stored_event = StoredEvent(
                originator_id=stored_event.originator_id,
                originator_version=stored_event.originator_version,
                topic=stored_event.topic,
                state=link[2],
            )
        return super().to_domain_event(stored_event)


class LedgerApplication(Application[Any]):
    """The eventsourcing application holding every project; a process recorder (tracking)."""

    name = "ledger"
    snapshotting_intervals = {Project: SNAPSHOT_INTERVAL, Revocations: SNAPSHOT_INTERVAL}  # noqa: RUF012  # the library's own class attribute

    def construct_mapper(self) -> Mapper[Any]:
        """A mapper that chains each project's events (tamper evidence)."""
        return ChainedMapper(self.construct_transcoder(), self._stored_link)

    def construct_recorder(self) -> ProcessRecorder:
        """Record events and tracking positions together."""
        return self.factory.process_recorder()

    def _stored_link(self, originator_id: Any, version: int) -> str:  # noqa: ANN401  # an aggregate id
        [stored] = self.recorder.select_events(originator_id, gt=version - 1, lte=version)
        link = unseal(stored.state)
        return link[1] if link else GENESIS


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite store URL; None for another kind of store."""
    path = url.removeprefix(SQLITE_PREFIX)
    return None if path in {url, ""} else Path(path)


def store_env(url: str) -> dict[str, str]:
    """Eventsourcing's settings for a store URL: `sqlite:///path` or `postgresql://…`.

    SQLAlchemy's convention: `sqlite:///relative/path` is relative to the current
    folder, `sqlite:////absolute/path` absolute (issue #16: the first was read at `/`).
    """
    if (path := sqlite_path(url)) is not None:
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    parsed = urlparse(url)
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

    def __init__(
        self, url: str, policy: Policy, *, snapshots: bool = True, cache: bool = True
    ) -> None:
        env = store_env(url)
        if not snapshots:
            env["IS_SNAPSHOTTING_ENABLED"] = "n"  # for the benchmark's baseline
        if cache:
            # Projects stay in memory and are brought up to date from the store on each
            # read (what another replica wrote included); each read gets its own copy.
            env["AGGREGATE_CACHE_MAXSIZE"] = str(PROJECTS_CACHED)
        self.app = LedgerApplication(env=env)
        self.policy = policy
        self.recorder: ProcessRecorder = self.app.recorder  # type: ignore[assignment]  # see construct_recorder
        self._mapper: ChainedMapper = self.app.mapper  # type: ignore[assignment]  # see construct_mapper

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
            caused_by(pending, event.event_id)
            self._mapper.begin()
            try:
                self.app.events.put(pending, tracking=tracking)
            except IntegrityError:
                continue  # a concurrent write (or the same message, twice): read again
            self._snapshot(project, pending)
            return True
        raise ConcurrentChange(event.project_id)

    def decide(self, project_id: str, decision: Callable[[Project], object]) -> Project:
        """Run a person's decision (approve, reject, select) on the latest state and store it.

        Another write in between (a bus event recorded, another decision) makes the
        decision run again on the state that write left: the rules are checked anew,
        so a second approval of the same gate is refused by the gate machine.
        """
        for _ in range(_RETRIES_ON_CONFLICT):
            project = self.get(project_id)
            decision(project)
            decided_here(project.pending_events, project.id)
            self._mapper.begin()
            try:
                self.app.save(project)
            except IntegrityError:
                continue
            return project
        raise ConcurrentChange(project_id)

    def create(self, project: Project) -> Project:
        """Store a project made by a person (the API); refused if the id is taken."""
        decided_here(project.pending_events, project.id)
        try:
            self.app.save(project)
        except IntegrityError as exc:
            raise ProjectExists(project.project_id) from exc
        return project

    def projects(self) -> list[Project]:
        """Every project in the store."""
        return [
            self.app.repository.get(originator)
            for originator in self._originators()
            if originator != REVOCATIONS_ID
        ]

    def revoke(self, jti: str, by: str) -> bool:
        """Deny the token `jti` on every gateway on this store; False if it was denied already."""
        for _ in range(_RETRIES_ON_CONFLICT):
            revocations = self._revocations() or Revocations()
            if not revocations.revoke(jti, by):
                return False
            self._mapper.begin()
            try:
                self.app.save(revocations)
            except IntegrityError:
                continue  # another revocation (or the list's creation) came first
            return True
        raise DenyListBusy(jti)

    def is_revoked(self, jti: str) -> bool:
        """Whether the token `jti` was revoked, here or by any other process on the store."""
        # Every request asks: the cached list itself, brought up to date, not a copy of it
        # (a copy cost 1.8 ms a request with 1,000 ids revoked).
        revocations = self._revocations(copy=False)
        return revocations is not None and jti in revocations.revoked

    def _revocations(self, *, copy: bool = True) -> Revocations | None:
        # The cache brings the list up to date from the store on each read.
        try:
            found: Revocations = self.app.repository.get(REVOCATIONS_ID, deepcopy_from_cache=copy)
        except AggregateNotFoundError:
            return None
        return found

    def get(self, project_id: str, version: int | None = None) -> Project:
        """A project as its events say it is now (or at `version`)."""
        try:
            project: Project = self.app.repository.get(
                Project.create_id(project_id), version=version
            )
        except AggregateNotFoundError as exc:
            raise UnknownProject(project_id) from exc
        return project

    def seen(self, project_id: str) -> dict[str, Seen]:
        """Every bus event of `project_id` the ledger saw, by id (`UnknownProject` if none)."""
        stored = self.recorder.select_events(Project.create_id(project_id))
        if not stored:
            raise UnknownProject(project_id)
        kept = (vars(self.app.mapper.to_domain_event(e)).get("seen") for e in stored)
        return {facts["event_id"]: Seen(**facts) for facts in kept if facts}

    def decided(self, project_id: str) -> list[Decided]:
        """Each decision a person made on `project_id`, oldest first (none for no project)."""
        found = []
        for stored in self.recorder.select_events(Project.create_id(project_id)):
            kind = stored.topic.rsplit(".", 1)[-1]
            if kind in PERSON_DECIDED:
                event = vars(self.app.mapper.to_domain_event(stored))
                facts = {k: v for k, v in event.items() if k not in _ENVELOPE}
                found.append(Decided(kind, event["timestamp"], facts))
        return found

    def verify(self, project_id: str | None = None) -> Verification:
        """Walk each project's chain (all when none is named); what was walked and broken.

        `UnknownProject` for a named project with no event, `NothingToVerify` for a store
        with no project.
        """
        originators = [Project.create_id(project_id)] if project_id else self._originators()
        if not project_id and set(originators) <= {REVOCATIONS_ID}:
            raise NothingToVerify
        done = Verification()
        for originator in originators:
            stored = self.recorder.select_events(originator)
            if not stored and project_id:
                raise UnknownProject(project_id)
            name = project_id or self._name_of(originator, stored)
            done.checked[name] = len(stored)
            found = first_break(
                str(originator), ((e.originator_version, e.topic, e.state) for e in stored)
            )
            if found is not None:
                done.broken[name] = found
        return done

    def _originators(self) -> list[Any]:
        """Every aggregate in the store, from the notification log."""
        originators: dict[Any, None] = {}
        start = 1
        while notifications := self.recorder.select_notifications(start, 500):
            for notification in notifications:
                originators.setdefault(notification.originator_id, None)
            start = notifications[-1].id + 1
        return list(originators)

    def _name_of(self, originator: Any, stored: Sequence[StoredEvent]) -> str:  # noqa: ANN401  # an aggregate id
        """The project id its first event names, or the aggregate id if that is unreadable."""
        if originator == REVOCATIONS_ID:
            return DENY_LIST
        try:
            return str(self.app.mapper.to_domain_event(stored[0]).__dict__["project_id"])
        except Exception:  # noqa: BLE001  # a tampered row may not decode at all
            return f"aggregate {originator}"

    def _find(self, project_id: str) -> Project | None:
        try:
            return self.get(project_id)
        except UnknownProject:
            return None

    def _snapshot(self, project: Project | None, written: Sequence[Any]) -> None:
        """A snapshot when `written` (one bus event's effects) passed a multiple of the interval."""
        if (
            self.app.snapshots is not None
            and project is not None
            and any(e.originator_version % SNAPSHOT_INTERVAL == 0 for e in written)
        ):
            self.app.take_snapshot(project.id)
