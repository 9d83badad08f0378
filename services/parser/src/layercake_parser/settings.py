"""Settings of the parser service (env vars `LAYERCAKE_...`, or a `.env` file)."""

from layercake_contracts.settings import BusSettings


class Settings(BusSettings):
    """The parser service's settings: the shared bus settings, so far nothing more."""
