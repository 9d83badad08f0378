"""The builder's bus edge: FilesWritten and BuildRequested in, build events out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from layercake_contracts.events import BuildRequested, FilesWritten
from layercake_contracts.values import Step

if TYPE_CHECKING:
    from layercake_builder.service import BuildService
    from layercake_contracts.runtime import ServiceRuntime


def register(runtime: ServiceRuntime, service: BuildService, max_builds: int) -> None:
    """Subscribe the builder's handlers on `runtime`."""

    @runtime.subscribe(runtime.broker, FilesWritten, max_workers=max_builds)
    async def on_files_written(event: FilesWritten) -> None:
        await service.handle(event, runtime.bus, tuple(Step))

    @runtime.subscribe(runtime.broker, BuildRequested, max_workers=max_builds)
    async def on_build_requested(event: BuildRequested) -> None:
        await service.handle(event, runtime.bus, event.steps)
