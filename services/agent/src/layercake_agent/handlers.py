"""The agent's bus edge: requests in, CodeGenerated or AgentFailed out; project facts remembered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from layercake_contracts.events import (
    AgentRequested,
    AnswerGiven,
    ArtifactRecorded,
    BuildSucceeded,
    HealRequested,
    IntakeRevised,
    OptionSelected,
    ProjectCreated,
)

if TYPE_CHECKING:
    from layercake_agent.adapters.manual import ManualDesk
    from layercake_agent.service import AgentService
    from layercake_contracts.runtime import ServiceRuntime


def register(
    runtime: ServiceRuntime,
    service: AgentService,
    max_requests: int,
    desk: ManualDesk,
    *,
    manual: bool = False,
) -> None:
    """Subscribe the agent's handlers on `runtime`; `manual`: the desk answers, not a model."""
    bus = runtime.bus
    answer = desk.request if manual else service.answer

    @runtime.subscribe(runtime.broker, AgentRequested, max_workers=max_requests)
    async def on_agent_requested(event: AgentRequested) -> None:
        await bus.publish(await answer(event, await bus.blobs()))

    @runtime.subscribe(runtime.broker, HealRequested, max_workers=max_requests)
    async def on_heal_requested(event: HealRequested) -> None:
        await bus.publish(await answer(event, await bus.blobs()))

    @runtime.subscribe(runtime.broker, AnswerGiven)
    async def on_answer_given(event: AnswerGiven) -> None:
        outcome = await desk.answered(event)
        if outcome is not None:
            await bus.publish(outcome)

    @runtime.subscribe(runtime.broker, ProjectCreated)
    async def on_project_created(event: ProjectCreated) -> None:
        await service.remember(event)

    @runtime.subscribe(runtime.broker, IntakeRevised)
    async def on_intake_revised(event: IntakeRevised) -> None:
        await service.remember(event)

    @runtime.subscribe(runtime.broker, ArtifactRecorded)
    async def on_artifact_recorded(event: ArtifactRecorded) -> None:
        await service.remember(event)

    @runtime.subscribe(runtime.broker, OptionSelected)
    async def on_option_selected(event: OptionSelected) -> None:
        await service.remember(event)

    @runtime.subscribe(runtime.broker, BuildSucceeded)
    async def on_build_succeeded(event: BuildSucceeded) -> None:
        await service.remember(event)
