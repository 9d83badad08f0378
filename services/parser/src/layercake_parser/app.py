"""Wiring of the parser service: settings in, a runtime with its handlers out."""

from layercake_contracts.runtime import ServiceRuntime
from layercake_parser import handlers
from layercake_parser.settings import Settings

SERVICE = "parser"


def create_runtime(settings: Settings) -> ServiceRuntime:
    """The parser's broker and its CodeGenerated consumer, built from `settings`."""
    runtime = ServiceRuntime(
        SERVICE, settings.nats_url, settings.delivery_policy(), settings.nats_nkey_seed_file
    )
    handlers.register(runtime)
    return runtime
