"""Wiring of the git service: settings in, a runtime with its handlers out."""

from layercake_contracts.runtime import ServiceRuntime
from layercake_git.settings import Settings

SERVICE = "git"


def create_runtime(settings: Settings) -> ServiceRuntime:
    """The git service's broker and consumers, built from `settings`."""
    return ServiceRuntime(SERVICE, settings.nats_url, settings.delivery_policy())
