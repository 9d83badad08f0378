"""Wiring of the builder service: settings in, a runtime with its handlers out."""

from __future__ import annotations

import os
import stat
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from layercake_builder import handlers
from layercake_builder.adapters.audit_tool import tool_mounts
from layercake_builder.adapters.disks import ProjectDisks
from layercake_builder.adapters.egress import EgressProxy, Upstream
from layercake_builder.adapters.sandbox import Sandbox, choose_backend
from layercake_builder.core.egress import EgressPolicy
from layercake_builder.core.plan import AUDIT_SITE, SANDBOX_TOOLS, UV
from layercake_builder.core.reports import interpret
from layercake_builder.service import BuildService, toolchain_versions
from layercake_builder.steps import StepRunner, StepSettings
from layercake_contracts.runtime import ServiceRuntime

if TYPE_CHECKING:
    from layercake_builder.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

SERVICE = "builder"
TOOL_PATH = (SANDBOX_TOOLS, "/usr/local/bin", "/usr/bin", "/bin")


log = structlog.get_logger(__name__)


def create_sandbox(settings: Settings, *, own_disks: bool = False) -> Sandbox:
    """The sandbox these settings ask for; refuses to start when none works.

    Without `own_disks` (each project on its own file system) a watchdog bounds
    what each step takes of the disk.
    """
    root = settings.builder_root.resolve()
    support = root / "support"
    support.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        open_the_way(root)
    uv = Path(sysconfig.get_path("scripts")) / "uv"
    return Sandbox(
        choose_backend(settings.sandbox, support),
        settings.limits(),
        support,
        slots=settings.max_builds,
        output_cap_bytes=settings.output_cap_mb * 1024 * 1024,
        read_only=((str(uv), UV), *tool_mounts(AUDIT_SITE)),
        egress=create_egress(settings),
        disk_quota=None if own_disks else settings.disk_quota(),
    )


def open_the_way(root: Path) -> list[Path]:
    """Let the slot users pass through `root` and each folder above it; the folders changed.

    Search only (o+x: no listing). Each change is logged with its folder, for an operator
    whose 0700 home (or pytest's `/tmp/pytest-of-root`) the builder root lies under.
    """
    opened = []
    for folder in (root, *root.parents):
        if folder == Path("/"):
            break
        mode = folder.stat().st_mode
        if not mode & 0o001:
            folder.chmod(mode | 0o001)
            log.warning("builder_root_made_reachable", folder=str(folder),
                        mode=oct(stat.S_IMODE(mode | 0o001)))  # fmt: skip
            opened.append(folder)
    return opened


def create_egress(settings: Settings) -> EgressProxy:
    """The proxy that is network steps' only way out, with the allow-list these settings name."""
    hosts = frozenset(host.lower().rstrip(".") for host in settings.egress_hosts)
    upstream = Upstream.parse(settings.egress_upstream) if settings.egress_upstream else None
    return EgressProxy(EgressPolicy(hosts=hosts), upstream)


def create_runner(
    settings: Settings, store_log: Callable[[bytes], Awaitable[str]], *, own_disks: bool = False
) -> StepRunner:
    """The step runner these settings describe, over a sandbox that works here."""
    step_settings = StepSettings(
        timeout_s=settings.step_timeout_s,
        install_timeout_s=settings.install_timeout_s,
        install_network=settings.install_network,
        path=TOOL_PATH,  # after the toolchain's own bin folders (its node_modules/.bin, venv)
        tool_path=TOOL_PATH,
    )
    sandbox = create_sandbox(settings, own_disks=own_disks)
    return StepRunner(sandbox, step_settings, interpret, store_log)


def create_runtime(settings: Settings) -> ServiceRuntime:
    """The builder's broker and consumers, built from `settings`."""
    runtime = ServiceRuntime(
        SERVICE, settings.nats_url, settings.delivery_policy(), settings.nats_nkey_seed_file
    )

    async def store_log(data: bytes) -> str:
        return await (await runtime.bus.blobs()).put(data)

    disks = ProjectDisks.detect(settings.disk_quota())
    runner = create_runner(settings, store_log, own_disks=disks.loop)
    service = BuildService(settings.builder_root.resolve(), runner, toolchain_versions(), disks)
    handlers.register(runtime, service, settings.max_builds)
    return runtime
