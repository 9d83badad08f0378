"""Settings of the gateway service (env vars `LAYERCAKE_...`, or a `.env` file)."""

from layercake_contracts.runtime import BusSettings


class Settings(BusSettings):
    """The gateway service's settings: the shared bus settings, so far nothing more."""
