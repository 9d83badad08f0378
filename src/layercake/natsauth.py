"""Who may speak on the bus: an nkey per service, and what the nats-server lets each do.

The grants are pure values (`service_grant`, `integrator_grant`, `server_config`):
each service may publish only the events it produces, create and read only its own
durable consumers (never `STREAM.MSG.GET` of the event stream), write blobs only if
it writes them, and answer or ask `lc.rpc` only as its role says. `Credentials` is
the shell: a folder of seeds (0600) and grants that `layercake up` and the tests'
nats-server are configured from. Nothing here decides what an event means.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import nkeys  # type: ignore[import-untyped]  # it ships no types

from layercake_contracts.bus import ALL_EVENTS, BLOB_BUCKET, STREAM_NAME, subject_filter
from layercake_contracts.events import PROJECT_ID_PATTERN
from layercake_contracts.rpc import RPC_ROOT
from layercake_contracts.runtime import inbox_prefix

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

ADMIN = "admin"  # the operator (tests, benchmarks, maintenance): every subject
_JS = "$JS.API"
_BLOBS = f"OBJ_{BLOB_BUCKET}"


@dataclass(frozen=True)
class Role:
    """What one service does on the bus, as its code does it (checked against the code)."""

    produces: tuple[str, ...]
    consumes: tuple[str, ...]  # event types, or the name of a consumer of every event
    writes_blobs: bool = False
    answers: bool = False  # answers `lc.rpc.<service>.*`
    asks: bool = False  # asks every `lc.rpc` question (the HTTP API)
    follows: bool = False  # reads a project's events live (the HTTP API's SSE)


ALL_CONSUMERS = frozenset({"flow", "ledger"})  # consumers named for what they do, of every event
ROLES: Mapping[str, Role] = {
    "parser": Role(
        ("FilesWritten", "FilesRejected"), ("CodeGenerated",), writes_blobs=True, answers=True
    ),
    "builder": Role(
        ("BuildStarted", "BuildSucceeded", "BuildFailed"),
        ("FilesWritten", "BuildRequested"),
        writes_blobs=True,
    ),
    "agent": Role(
        ("CodeGenerated", "AgentFailed", "AnswerAwaited"),
        (
            "AgentRequested",
            "HealRequested",
            "ProjectCreated",
            "IntakeRevised",
            "ArtifactRecorded",
            "OptionSelected",
            "AnswerGiven",
            "BuildSucceeded",
        ),
        writes_blobs=True,
    ),
    "git": Role(
        ("CommitCreated", "CommitSkipped", "PushCompleted", "PushFailed"), ("flow",), answers=True
    ),
    "gateway": Role(
        (
            "ProjectCreated",
            "IntakeRevised",
            "GateOpened",
            "GateApproved",
            "GateRejected",
            "OptionSelected",
            "AgentRequested",
            "BuildRequested",
            "HealRequested",
            "EscalationRaised",
            "ExportRequested",
            "FilesWritten",
            "AnswerGiven",
        ),
        ("ledger",),
        writes_blobs=True,
        asks=True,
        follows=True,
    ),
}
EVERYONE_PRODUCES = ("ProcessingFailed",)  # every runtime's dead letters


@dataclass(frozen=True)
class Grant:
    """What one user may publish and subscribe to; `responses`: may answer requests sent to it."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    responses: bool = False


def _consumer(durable: str, filter_subject: str) -> list[str]:
    """Creating (with exactly this filter), reading from and acking one durable consumer."""
    return [
        f"{_JS}.CONSUMER.CREATE.{STREAM_NAME}.{durable}.{filter_subject}",
        f"{_JS}.CONSUMER.INFO.{STREAM_NAME}.{durable}",
        f"{_JS}.CONSUMER.MSG.NEXT.{STREAM_NAME}.{durable}",
        f"$JS.ACK.{STREAM_NAME}.{durable}.>",
    ]


def _blob_reads() -> list[str]:
    # A get is an ordered push consumer on the bucket's stream; its info a last-message read.
    return [
        f"{_JS}.STREAM.INFO.{_BLOBS}",
        f"{_JS}.STREAM.CREATE.{_BLOBS}",  # the same config again is a no-op; another is refused
        f"{_JS}.STREAM.MSG.GET.{_BLOBS}",
        f"{_JS}.DIRECT.GET.{_BLOBS}.>",
        f"{_JS}.CONSUMER.CREATE.{_BLOBS}",
        f"{_JS}.CONSUMER.CREATE.{_BLOBS}.>",
        f"{_JS}.CONSUMER.DELETE.{_BLOBS}.>",
        f"$JS.FC.{_BLOBS}.>",
    ]


def service_grant(service: str, role: Role) -> Grant:
    """What `service` may do: its own events, consumers, blobs and questions, nothing else."""
    publish = [subject_filter(t) for t in (*role.produces, *EVERYONE_PRODUCES)]
    publish += [
        f"{_JS}.INFO",
        f"{_JS}.STREAM.NAMES",  # which stream holds a subject: names only, no messages
        f"{_JS}.STREAM.INFO.{STREAM_NAME}",
        # The same config again is a no-op; a different one is refused (no UPDATE is granted).
        f"{_JS}.STREAM.CREATE.{STREAM_NAME}",
        *_blob_reads(),
    ]
    for name in role.consumes:
        every = name in ALL_CONSUMERS
        publish += _consumer(f"{service}-{name}", ALL_EVENTS if every else subject_filter(name))
    if role.writes_blobs:
        publish.append(f"$O.{BLOB_BUCKET}.>")
    if role.asks:
        publish.append(f"{RPC_ROOT}.>")
    if role.follows:  # ordered, ephemeral consumers of one project's events
        publish += [
            f"{_JS}.CONSUMER.CREATE.{STREAM_NAME}",
            f"{_JS}.CONSUMER.DELETE.{STREAM_NAME}.*",
            f"$JS.FC.{STREAM_NAME}.>",
        ]
    subscribe = [f"{inbox_prefix(service)}.>"]
    if role.answers:
        subscribe.append(f"{RPC_ROOT}.{service}.*")
    return Grant(tuple(publish), tuple(subscribe), responses=role.answers)


# One NATS subject token: it names the integrator's consumer and its inbox.
_INTEGRATOR_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class CredentialsRefused(ValueError):
    """Credentials that would not be what they say: a name or project the bus cannot hold."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"no credentials for {name!r}: {reason}")
        self.name, self.reason = name, reason


def integrator_grant(name: str, project: str | None) -> Grant:
    """Read-only: its own durable consumer `name` on every event (or one project's), no more."""
    if not _INTEGRATOR_NAME.fullmatch(name):
        raise CredentialsRefused(name, f"a name is {_INTEGRATOR_NAME.pattern}")
    if name in {ADMIN, *ROLES}:
        raise CredentialsRefused(name, "that is the name of one of LayerCake's own users")
    if project is not None and not re.fullmatch(PROJECT_ID_PATTERN, project):
        raise CredentialsRefused(name, f"a project id is {PROJECT_ID_PATTERN}")
    events = subject_filter(None, project or "*")
    publish = [f"{_JS}.INFO", f"{_JS}.STREAM.INFO.{STREAM_NAME}", *_consumer(name, events)]
    publish.append(f"{_JS}.CONSUMER.DELETE.{STREAM_NAME}.{name}")
    return Grant(tuple(publish), (f"{inbox_prefix(name)}.>", events))


ADMIN_GRANT = Grant((">",), (">",), responses=True)


def server_config(users: Mapping[str, Grant], anonymous: str | None = None) -> dict[str, object]:
    """The nats-server's authorization: one nkey user per public key, each with its grant.

    `anonymous`: the public key a client without credentials is taken to be (the tests'
    in-process harness, which plays several services at once); None refuses such a client.
    """
    config: dict[str, object] = {
        "authorization": {
            "users": [
                {"nkey": key, "permissions": _permissions(grant)} for key, grant in users.items()
            ]
        },
    }
    if anonymous is not None:
        config["no_auth_user"] = anonymous
    return config


def _permissions(grant: Grant) -> dict[str, object]:
    permissions: dict[str, object] = {
        "publish": {"allow": list(grant.publish)},
        "subscribe": {"allow": list(grant.subscribe)},
    }
    if grant.responses:
        permissions["allow_responses"] = True
    return permissions


class Credentials:
    """A folder (0700) of nkey seeds (0600) and grants, one pair per user."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def seed_file(self, user: str) -> Path:
        """Where `user`'s seed is kept: what `LAYERCAKE_NATS_NKEY_SEED_FILE` names."""
        return self.folder / f"{user}.nk"

    def issue(self, user: str, grant: Grant) -> Path:
        """Give `user` a seed (kept if it has one) and this grant; the seed's file."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        seed = self.seed_file(user)
        if not seed.exists():
            raw = nkeys.encode_seed(secrets.token_bytes(32), nkeys.PREFIX_BYTE_USER)
            _write_private(seed, raw)
        _write_private(self.folder / f"{user}.grant.json", json.dumps(asdict(grant)).encode())
        return seed

    def issue_services(self) -> None:
        """Seeds and grants for `up` itself and each of the five services."""
        self.issue(ADMIN, ADMIN_GRANT)
        for service, role in ROLES.items():
            self.issue(service, service_grant(service, role))

    def public_key(self, user: str) -> str:
        """The public nkey the server knows `user` by."""
        key: bytes = nkeys.from_seed(bytearray(self.seed_file(user).read_bytes())).public_key
        return key.decode()

    def users(self) -> dict[str, Grant]:
        """Every user issued here, by public key, with its grant."""
        found: dict[str, Grant] = {}
        for file in sorted(self.folder.glob("*.grant.json")):
            raw = json.loads(file.read_text())
            grant = Grant(tuple(raw["publish"]), tuple(raw["subscribe"]), raw["responses"])
            found[self.public_key(file.name.removesuffix(".grant.json"))] = grant
        return found

    def write_config(self, path: Path, anonymous: str | None = None) -> None:
        """The server's config for every user issued here (JSON is nats-server config)."""
        config = server_config(self.users(), anonymous)
        _write_private(path, json.dumps(config, indent=1).encode())


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` readable by its owner only, from the first byte (no window at 0644)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    temporary.replace(path)
