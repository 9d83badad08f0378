"""The settings every service shares, and the delivery policy they describe.

Apart from `runtime` (which imports the bus's client): a command that only reads its
service's settings starts without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True)
class DeliveryPolicy:
    """How often, and how patiently, a message is tried before it is dead-lettered."""

    max_deliver: int = 5
    ack_wait_s: float = 30.0
    backoff_s: tuple[float, ...] = (0.5, 2.0, 5.0, 10.0)

    def backoff_after(self, deliveries: int) -> float:
        """The delay before the next delivery, after `deliveries` failed ones."""
        return self.backoff_s[min(deliveries, len(self.backoff_s)) - 1]

    @property
    def heartbeat_s(self) -> float:
        """How often a working handler tells the server it is still busy."""
        return self.ack_wait_s / 3


class BusSettings(BaseSettings):
    """Settings every service shares; each service's `Settings` extends these."""

    model_config = SettingsConfigDict(env_prefix="LAYERCAKE_", env_file=".env", extra="ignore")

    # 4223: the port `layercake up` gives its own nats-server, beside any NATS on 4222.
    nats_url: str = "nats://127.0.0.1:4223"
    # The service's own nkey seed (`up` writes one per service, 0600); None: no credentials.
    nats_nkey_seed_file: Path | None = None
    # Touched while the worker is on the bus (see `heartbeat`); None: no heartbeat.
    heartbeat_file: Path | None = None
    max_deliver: int = Field(default=5, ge=1)
    ack_wait_s: float = Field(default=30.0, gt=0)

    def delivery_policy(self) -> DeliveryPolicy:
        """The delivery policy these settings describe."""
        return DeliveryPolicy(max_deliver=self.max_deliver, ack_wait_s=self.ack_wait_s)
