"""The builder's errors: one root, each subclass carrying what was wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


class BuilderError(Exception):
    """Base of every error the builder raises."""


class SandboxUnavailable(BuilderError):
    """No sandbox back-end works on this machine and running bare was not allowed."""

    def __init__(self, reasons: list[str]) -> None:
        joined = "; ".join(reasons) or "no back-end was tried"
        super().__init__(
            "no sandbox works here (" + joined + "). Install bubblewrap, allow unprivileged "
            "user namespaces, or set LAYERCAKE_SANDBOX=none to run builds unconfined."
        )
        self.reasons = reasons


class SlotsExhausted(BuilderError):
    """Every sandbox user of this machine is busy with another build."""

    def __init__(self, slots: int) -> None:
        super().__init__(f"all {slots} sandbox users of this machine are busy; try again later")
        self.slots = slots


class PrivateFolderUnsafe(BuilderError):
    """A folder the builder keeps its own files in is not a real folder of its own."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"the builder's own folder {path} is unsafe: {reason}")
        self.path = path
        self.reason = reason


class FolderRejected(BuilderError):
    """A step was asked to run in a folder that is no plain relative folder of its project."""

    def __init__(self, folder: str, reason: str) -> None:
        super().__init__(f"a step cannot run in the project's folder {folder!r}: {reason}")
        self.folder = folder
        self.reason = reason


class InstallPathUnknown(BuilderError):
    """A plan names an install's folder neither in the project nor in its cache."""

    def __init__(self, path: str) -> None:
        super().__init__(f"an install's folder {path!r} is neither under /workspace nor /cache")
        self.path = path


class EgressRefused(BuilderError):
    """A network step asked the egress proxy for a tunnel it may not have."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"egress to {target or '(nothing)'} refused: {reason}")
        self.target = target
        self.reason = reason


class DiskUnavailable(BuilderError):
    """A project's file system could not be made, mounted or unmounted (no free loop device?)."""

    def __init__(self, image: object, reason: str) -> None:
        super().__init__(f"the project disk {image} is unavailable: {reason}")
        self.image = image
        self.reason = reason


class TreeMoved(BuilderError):
    """A folder moved while the builder walked the tree (something of the build still ran)."""

    def __init__(self, root: object) -> None:
        super().__init__(f"a folder under {root} moved while it was walked; the walk stopped")
        self.root = root
