"""Settings of the builder (env vars `LAYERCAKE_...`, or a `.env` file)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field

from layercake_builder.adapters.disks import DiskQuota
from layercake_builder.core.confinement import Limits
from layercake_builder.core.egress import REGISTRY_HOSTS
from layercake_contracts.settings import BusSettings


class Settings(BusSettings):
    """The builder's settings: where it works, how it confines, how long steps may take."""

    sandbox: Literal["auto", "bwrap", "unshare", "none"] = "auto"
    builder_root: Path = Path(".layercake/builder")
    max_builds: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    step_timeout_s: float = Field(default=600.0, gt=0)
    install_timeout_s: float = Field(default=900.0, gt=0)
    install_network: bool = True
    egress_hosts: tuple[str, ...] = REGISTRY_HOSTS  # what install and audit steps may reach
    # The builder's own way out, if it has to use one: network steps' tunnels chain through it.
    egress_upstream: str | None = Field(
        default=None,
        validation_alias=AliasChoices("LAYERCAKE_EGRESS_UPSTREAM", "HTTPS_PROXY", "https_proxy"),
    )
    memory_mb: int = Field(default=2048, ge=64)
    processes: int = Field(default=256, ge=8)
    file_size_mb: int = Field(default=1024, ge=1)
    cpu_seconds: int = Field(default=900, ge=1)
    tmpfs_mb: int = Field(default=512, ge=1)
    output_cap_mb: int = Field(default=10, ge=1)
    disk_mb: int = Field(default=2048, ge=16)  # per project: its tree and caches
    disk_inodes: int = Field(default=262144, ge=1024)

    def disk_quota(self) -> DiskQuota:
        """How much each project may store."""
        return DiskQuota(size_mb=self.disk_mb, inodes=self.disk_inodes)

    def limits(self) -> Limits:
        """The sandbox limits these settings describe."""
        return Limits(
            memory_mb=self.memory_mb,
            processes=self.processes,
            file_size_mb=self.file_size_mb,
            cpu_seconds=self.cpu_seconds,
            tmpfs_mb=self.tmpfs_mb,
        )
