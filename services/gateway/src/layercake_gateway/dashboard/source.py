"""Where a section reads from: one project, its bus events and its blobs, fetched once a request.

A section never fails for want of data: an event stream or a blob that cannot
be read is a sentence (`unavailable`), not an error page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from layercake_contracts.bus import Bus
from layercake_contracts.errors import ContractsError
from layercake_contracts.events import EventBase
from layercake_gateway.core.project import Project
from layercake_gateway.dashboard.history import HistoryUnavailable, project_history
from layercake_gateway.dashboard.markup import decoded

NO_BUS = "the bus is not connected"


class Unavailable(Exception):
    """What a section needs cannot be read now: `reason` says why, in a sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Source:
    """A project the caller owns, and lazily its events and blobs."""

    project: Project
    bus: Bus | None
    _events: list[EventBase] | None = field(default=None, init=False)
    _texts: dict[str, str | None] = field(default_factory=dict, init=False)

    def connected(self) -> Bus:
        """The bus; `Unavailable` without one."""
        if self.bus is None:
            raise Unavailable(NO_BUS)
        return self.bus

    async def events(self) -> list[EventBase]:
        """The project's bus events, read once (see `history.project_history`)."""
        if self._events is None:
            try:
                self._events = await project_history(self.connected(), self.project.project_id)
            except HistoryUnavailable as exc:
                raise Unavailable(str(exc)) from exc
        return self._events

    async def text(self, digest: str | None) -> str | None:
        """A blob as text; None when there is none or it cannot be read."""
        if digest is None or self.bus is None:
            return None
        if digest not in self._texts:
            try:
                data = await (await self.bus.blobs()).get(digest)
            except ContractsError:  # missing or corrupt: shown as absent
                self._texts[digest] = None
            else:
                self._texts[digest] = decoded(data)
        return self._texts[digest]
