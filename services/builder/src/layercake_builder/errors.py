"""The builder's errors: one root, each subclass carrying what was wrong."""

from __future__ import annotations


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
