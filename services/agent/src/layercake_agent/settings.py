"""Settings of the agent service (env vars `LAYERCAKE_...`, or a `.env` file)."""

from __future__ import annotations

from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from layercake_agent.core.budget import Limits, ModelPrice
from layercake_agent.core.retry import RetryPolicy
from layercake_contracts.settings import BusSettings
from layercake_contracts.values import Role


class ProviderName(StrEnum):
    """The model providers."""

    ANTHROPIC = "anthropic"
    OPENAI = "openai"
    REPLAY = "replay"
    MANUAL = "manual"  # a person answers each prompt through the API


# The recordings shipped in the package (its data, in a checkout and in the wheel alike); a
# wheel is installed unzipped, so the resource is a folder on disk that replay can walk.
SHIPPED_RECORDINGS = Path(str(files("layercake_agent") / "recordings"))
DEFAULT_CONTEXT_TOKENS = 16_000
CONTEXT_TOKENS: dict[Role, int] = {
    Role.PRODUCT_MANAGER: 8_000,
    Role.ARCHITECT: 16_000,
    Role.DESIGNER: 16_000,
    Role.FRONTEND_DEVELOPER: 48_000,
    Role.BACKEND_DEVELOPER: 48_000,
    Role.QA_ENGINEER: 48_000,
    Role.SECURITY_ENGINEER: 48_000,
    Role.DEVOPS_ENGINEER: 24_000,
}
# USD per million tokens: input, output, cache read, cache write.
PRICES: dict[str, ModelPrice] = {
    "claude-sonnet-4-6": ModelPrice(3.0, 15.0, 0.30, 3.75),
    "claude-haiku-4-5": ModelPrice(1.0, 5.0, 0.10, 1.25),
    "claude-opus-4-6": ModelPrice(5.0, 25.0, 0.50, 6.25),
}


class Settings(BusSettings):
    """The agent's settings: which model, how to reach it, what a project may spend."""

    provider: ProviderName | Literal["auto"] = "auto"
    model: str = "claude-sonnet-4-6"
    max_tokens: int = Field(default=8192, ge=1)
    max_continuations: int = Field(default=3, ge=0)  # of an answer cut at max_tokens
    request_timeout_s: float = Field(default=600.0, gt=0)
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    replay_dir: Path = SHIPPED_RECORDINGS
    prompts_dir: Path | None = None
    agent_root: Path = Path(".layercake/agent")
    max_requests: int = Field(default=4, ge=1)
    retry_attempts: int = Field(default=3, ge=1)
    retry_base_delay_s: float = Field(default=1.0, ge=0)
    retry_max_delay_s: float = Field(default=60.0, ge=0)
    project_token_limit: int | None = Field(default=None, ge=0)
    project_cost_limit_usd: float | None = Field(default=None, ge=0)
    context_tokens: dict[Role, int] = Field(default_factory=lambda: dict(CONTEXT_TOKENS))
    prices: dict[str, ModelPrice] = Field(default_factory=lambda: dict(PRICES))

    def chosen_provider(self) -> ProviderName:
        """The provider to use: the setting, or for `auto` the first one configured."""
        if self.provider != "auto":
            return self.provider
        if self.anthropic_api_key is not None:
            return ProviderName.ANTHROPIC
        if self.openai_base_url is not None or self.openai_api_key is not None:
            return ProviderName.OPENAI
        return ProviderName.REPLAY

    def retry_policy(self) -> RetryPolicy:
        """How model calls are retried."""
        return RetryPolicy(self.retry_attempts, self.retry_base_delay_s, self.retry_max_delay_s)

    def limits(self) -> Limits:
        """What one project may spend."""
        return Limits(tokens=self.project_token_limit, cost_usd=self.project_cost_limit_usd)

    def context_budget(self, role: Role) -> int:
        """How many tokens of project context `role` reads."""
        return self.context_tokens.get(role, DEFAULT_CONTEXT_TOKENS)
