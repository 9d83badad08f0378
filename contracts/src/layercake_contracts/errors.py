"""The root of the errors the shared contract code raises; each carries what was wrong."""

from __future__ import annotations


class ContractsError(Exception):
    """Base of every error raised by `layercake_contracts`."""


class BlobMissing(ContractsError):
    """No blob is stored under a sha256 that a manifest names."""

    def __init__(self, digest: str) -> None:
        super().__init__(f"blob {digest} is not in the blob store")
        self.digest = digest


class BlobCorrupt(ContractsError):
    """A stored blob's content does not hash to its name."""

    def __init__(self, digest: str, actual: str) -> None:
        super().__init__(f"blob {digest} holds content hashing to {actual}")
        self.digest = digest
        self.actual = actual


class NotAProducer(ContractsError):
    """A service tried to publish an event type that another service produces."""

    def __init__(self, service: str, event_type: str) -> None:
        super().__init__(f"{service} does not produce {event_type}")
        self.service = service
        self.event_type = event_type


class UnsafeTree(ContractsError):
    """Materialising would have to write outside the target folder."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot write {path!r}: {reason}")
        self.path = path
        self.reason = reason
