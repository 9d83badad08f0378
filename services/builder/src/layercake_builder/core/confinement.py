"""How a step is confined: limits, and the command line that puts a command in a sandbox.

Pure: the caller says which backend, which folders and which limits; this
module returns the argv. The sandbox shows the command its project folder
(read-write, at `/workspace`), a cache folder (read-write, at `/cache`), the
toolchains read-only and nothing else of the host: no home, no host /tmp, no
sockets, no network unless the step is an install that may reach registries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

WORKSPACE = "/workspace"
CACHE = "/cache"
_MB = 1024 * 1024
# The parts of the host's /etc a toolchain needs: TLS roots, name lookups.
ETC_FILES = (
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/localtime",
)
NETWORK_ETC_FILES = ("/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/gai.conf")
_OWN_ETC = ("passwd", "group", "hosts")
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


class Backend(StrEnum):
    """What confines a step."""

    BWRAP = "bwrap"
    UNSHARE = "unshare"
    NONE = "none"


@dataclass(frozen=True)
class Limits:
    """Resource limits of one step (the settings' defaults are sane for a small project)."""

    memory_mb: int = 2048
    processes: int = 256
    file_size_mb: int = 1024
    cpu_seconds: int = 900
    open_files: int = 4096
    tmpfs_mb: int = 512  # each of /tmp and /dev/shm: bounded even where no memory cgroup is

    @property
    def memory_bytes(self) -> int:
        """The memory of a whole build (its processes and the tmpfs pages they write)."""
        return self.memory_mb * _MB

    def prlimit_args(self, process_base: int = 0) -> list[str]:
        """util-linux `prlimit` options for these limits.

        `process_base` is how many processes the sandbox user already has (the
        limit counts per user), so the step gets `processes` more than that.
        """
        return [
            f"--nproc={process_base + self.processes}",
            f"--fsize={self.file_size_mb * _MB}",
            f"--cpu={self.cpu_seconds}",
            f"--data={self.memory_bytes}",
            f"--nofile={self.open_files}",
            "--core=0",
        ]


@dataclass(frozen=True)
class Mounts:
    """Host folders the sandbox sees."""

    project: str
    cache: str
    etc: str  # a folder holding our own passwd, group and hosts files
    read_only: tuple[tuple[str, str], ...] = ()  # (host path, sandbox path): tools outside /usr
    host_symlinks: Mapping[str, str] | None = None  # /bin -> usr/bin on merged-/usr hosts


def sandbox_env(path: tuple[str, ...], extra: Mapping[str, str]) -> dict[str, str]:
    """The whole environment of a step: nothing inherited from the host."""
    return {
        "PATH": ":".join(path),
        "HOME": f"{CACHE}/home",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "CI": "true",
        "NO_COLOR": "1",
        "FORCE_COLOR": "0",
        "npm_config_cache": f"{CACHE}/npm",
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "UV_CACHE_DIR": f"{CACHE}/uv",
        "PIP_CACHE_DIR": f"{CACHE}/pip",
        "TMPDIR": "/tmp",  # noqa: S108  # a private tmpfs inside the sandbox
        # Trust the system's CA bundle (a TLS-inspecting proxy's root lives there).
        "SSL_CERT_FILE": CA_BUNDLE,
        "REQUESTS_CA_BUNDLE": CA_BUNDLE,
        "NODE_EXTRA_CA_CERTS": CA_BUNDLE,
        "UV_NATIVE_TLS": "1",
        **extra,
    }


@dataclass(frozen=True)
class Bind:
    """A host path shown inside the sandbox."""

    source: str
    target: str
    read_only: bool
    optional: bool = False  # skipped when the host lacks it


def binds(mounts: Mounts, *, network: bool) -> list[Bind]:
    """Everything of the host the sandbox sees, in mount order."""
    etc = ETC_FILES + (NETWORK_ETC_FILES if network else ())
    return [
        *(Bind(path, path, read_only=True, optional=True) for path in etc),
        *(Bind(f"{mounts.etc}/{name}", f"/etc/{name}", read_only=True) for name in _OWN_ETC),
        *(Bind(source, target, read_only=True) for source, target in mounts.read_only),
        Bind(mounts.project, WORKSPACE, read_only=False),
        Bind(mounts.cache, CACHE, read_only=False),
    ]


def bwrap_argv(
    command: tuple[str, ...],
    mounts: Mounts,
    env: Mapping[str, str],
    *,
    network: bool,
    limits: Limits,
) -> list[str]:
    """A bubblewrap command line that runs `command` confined."""
    argv = ["bwrap", "--unshare-all", *(["--share-net"] if network else [])]
    argv += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    argv += ["--ro-bind", "/usr", "/usr"]
    for link, target in sorted((mounts.host_symlinks or {}).items()):
        argv += ["--symlink", target, link]
    for bind in binds(mounts, network=network):
        option = "--ro-bind" if bind.read_only else "--bind"
        argv += [f"{option}-try" if bind.optional else option, bind.source, bind.target]
    tmpfs = ["--size", str(limits.tmpfs_mb * _MB), "--tmpfs"]
    argv += ["--proc", "/proc", "--dev", "/dev", *tmpfs, "/tmp", *tmpfs, "/dev/shm"]  # noqa: S108
    # bwrap cannot size its root and /dev tmpfs: nothing but mount points is written there.
    argv += ["--remount-ro", "/dev", "--remount-ro", "/"]
    argv += ["--chdir", WORKSPACE, "--clearenv"]
    for key, value in sorted(env.items()):
        argv += ["--setenv", key, value]
    return [*argv, "--", *command]


def jail_spec(
    command: tuple[str, ...],
    mounts: Mounts,
    env: Mapping[str, str],
    *,
    network: bool,
    new_root: str,
    limits: Limits,
) -> str:
    """What the unshare back-end's trampoline builds, as JSON for its command line."""
    return json.dumps(
        {
            "new_root": new_root,
            "symlinks": dict(mounts.host_symlinks or {}),
            "binds": [
                [b.source, b.target, b.read_only, b.optional]
                for b in binds(mounts, network=network)
            ],
            "cwd": WORKSPACE,
            "command": list(command),
            "env": dict(env),
            "tmpfs_bytes": limits.tmpfs_mb * _MB,
        }
    )


@dataclass(frozen=True)
class Confinement:
    """Everything `confine` needs besides the command."""

    backend: Backend
    mounts: Mounts
    limits: Limits
    run_as: tuple[int, int] | None = None  # drop to this uid/gid first (when we are root)
    process_base: int = 0
    trampoline: tuple[str, ...] = ()  # interpreter and script of the unshare back-end
    new_root: str = ""  # an empty folder the unshare back-end mounts its root on
    cgroup_procs: str = ""  # the step joins this cgroup (its cgroup.procs file) before all else


def confine(
    command: tuple[str, ...], env: Mapping[str, str], how: Confinement, *, network: bool
) -> list[str]:
    """The full argv of a confined step: drop to `run_as`, set limits, enter the sandbox."""
    prefix: list[str] = []
    if how.cgroup_procs:  # joined first, so that every process of the step is born inside it
        prefix = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', how.cgroup_procs]
    if how.run_as is not None:
        uid, gid = how.run_as
        prefix += ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]
    limited = ["prlimit", *how.limits.prlimit_args(how.process_base), "--"]
    if how.backend is Backend.BWRAP:
        inner = bwrap_argv(command, how.mounts, env, network=network, limits=how.limits)
    elif how.backend is Backend.UNSHARE:
        namespaces = ["--user", "--map-root-user", "--mount", "--pid", "--fork", "--kill-child"]
        namespaces += ["--ipc", "--uts", *([] if network else ["--net"])]
        spec = jail_spec(
            command, how.mounts, env, network=network, new_root=how.new_root, limits=how.limits
        )
        inner = ["unshare", *namespaces, "--", *how.trampoline, spec]
    else:
        inner = ["env", "-i", *(f"{k}={v}" for k, v in sorted(env.items())), *command]
    return [*prefix, *limited, *inner]
