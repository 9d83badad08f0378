"""Wiring of the agent service: settings in, a runtime with its handlers out."""

from layercake_agent.settings import Settings
from layercake_contracts.runtime import ServiceRuntime

SERVICE = "agent"


def create_runtime(settings: Settings) -> ServiceRuntime:
    """The agent service's broker and consumers, built from `settings`."""
    return ServiceRuntime(SERVICE, settings.nats_url, settings.delivery_policy())
