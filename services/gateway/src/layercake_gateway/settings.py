"""Settings of the gateway service (env vars `LAYERCAKE_...`, or a `.env` file)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from layercake_contracts.settings import BusSettings
from layercake_gateway.core.policy import Policy
from layercake_gateway.core.tokens import DEFAULT_TOKEN_TTL_S
from layercake_gateway.guard import DEFAULT_MAX_BODY_BYTES


class Settings(BusSettings):
    """The gateway's settings: where the ledger is stored and how it decides."""

    ledger_url: str = "sqlite:///.layercake/ledger.db"
    heal_limit: int = Field(default=3, ge=1)
    coverage_min: float = Field(default=80.0, ge=0, le=100)
    build_retries: int = Field(default=3, ge=0)  # after an infrastructure fault, then escalate
    relay_interval_s: float = Field(default=2.0, gt=0)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)  # 0: no HTTP API
    jwt_secret: SecretStr | None = None
    token_ttl_s: int = Field(default=DEFAULT_TOKEN_TTL_S, ge=1)  # `layercake token create`
    runs_per_minute: int = Field(default=30, ge=1)  # agent runs and builds, per user
    http_max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1)  # 413 past it
    # For the CLI over the API (`layercake status`, `approve`, …):
    api_url: str = "http://127.0.0.1:8080"
    token: SecretStr | None = None
    home: str | None = None  # named when the API does not answer (the umbrella CLI sets it)

    def policy(self) -> Policy:
        """The decision policy these settings describe."""
        return Policy(
            heal_limit=self.heal_limit,
            coverage_min=self.coverage_min,
            build_retries=self.build_retries,
        )
