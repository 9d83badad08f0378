"""Wiring of the agent service: settings in, a runtime with its handlers out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from layercake_agent import handlers
from layercake_agent.adapters.provider import Endpoint
from layercake_agent.adapters.replay import ReplayProvider
from layercake_agent.adapters.state import ProjectStore
from layercake_agent.adapters.templates import load_templates
from layercake_agent.errors import ProviderNotConfigured
from layercake_agent.service import AgentService
from layercake_agent.settings import ProviderName
from layercake_contracts.runtime import ServiceRuntime

if TYPE_CHECKING:
    from layercake_agent.adapters.provider import Provider
    from layercake_agent.settings import Settings

SERVICE = "agent"
# Local OpenAI-compatible servers want no key, but the SDK insists on one.
NO_KEY = "none"


def create_provider(settings: Settings, choice: ProviderName | None = None) -> Provider:
    """The provider `choice` names (by default the settings' choice), configured from `settings`."""
    name = choice or settings.chosen_provider()
    if name is ProviderName.REPLAY:
        return ReplayProvider(settings.replay_dir)
    if name is ProviderName.ANTHROPIC:
        if settings.anthropic_api_key is None:
            raise ProviderNotConfigured(name, "LAYERCAKE_ANTHROPIC_API_KEY")
        key, base_url = settings.anthropic_api_key.get_secret_value(), settings.anthropic_base_url
    else:
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else NO_KEY
        base_url = settings.openai_base_url
    endpoint = Endpoint(
        api_key=key,
        model=settings.model,
        max_tokens=settings.max_tokens,
        base_url=base_url,
        timeout_s=settings.request_timeout_s,
        max_continuations=settings.max_continuations,
    )
    # Each SDK takes a second or more to import: load only the one chosen, and only now,
    # so that every other `layercake` command starts fast.
    if name is ProviderName.ANTHROPIC:
        from layercake_agent.adapters.anthropic_api import AnthropicProvider  # noqa: PLC0415

        return AnthropicProvider(endpoint, settings.retry_policy())
    from layercake_agent.adapters.openai_api import OpenAIProvider  # noqa: PLC0415

    return OpenAIProvider(endpoint, settings.retry_policy())


def create_service(settings: Settings) -> AgentService:
    """The agent service: its provider, templates and state folder, from `settings`."""
    return AgentService(
        create_provider(settings),
        ProjectStore(settings.agent_root.resolve()),
        load_templates(settings.prompts_dir),
        settings,
    )


def create_runtime(settings: Settings) -> ServiceRuntime:
    """The agent service's broker and consumers, built from `settings`."""
    runtime = ServiceRuntime(
        SERVICE, settings.nats_url, settings.delivery_policy(), settings.nats_nkey_seed_file
    )
    handlers.register(runtime, create_service(settings), settings.max_requests)
    return runtime
