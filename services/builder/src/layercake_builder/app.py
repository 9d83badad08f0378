"""Wiring of the builder service: settings in, a runtime with its handlers out."""

from layercake_builder.settings import Settings
from layercake_contracts.runtime import ServiceRuntime

SERVICE = "builder"


def create_runtime(settings: Settings) -> ServiceRuntime:
    """The builder service's broker and consumers, built from `settings`."""
    return ServiceRuntime(SERVICE, settings.nats_url, settings.delivery_policy())
