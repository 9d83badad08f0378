"""Wiring of the gateway service: settings in, a runtime with its handlers out."""

from layercake_contracts.runtime import ServiceRuntime
from layercake_gateway.settings import Settings

SERVICE = "gateway"


def create_runtime(settings: Settings) -> ServiceRuntime:
    """The gateway service's broker and consumers, built from `settings`."""
    return ServiceRuntime(SERVICE, settings.nats_url, settings.delivery_policy())
