"""How a step is confined: limits, and the command line that puts a command in a sandbox.

Pure: the caller says which backend, which folders and which limits; this
module returns the argv. The sandbox shows the command its project folder
(read-write, at `/workspace`), a cache folder (read-write, at `/cache`), the
toolchains read-only and nothing else of the host: no home, no host /tmp, no
sockets, and no network but a namespace of its own. A network step (install, audit) also
gets the builder's egress proxy: a Unix socket, reached through our forwarder on the
namespace's loopback, which tunnels only to the allow-listed registries.
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
SYSTEM_PYTHON = "/usr/bin/python3"
EGRESS_SOCKET = "/run/layercake/egress.sock"
EGRESS_PORT = 3128  # the forwarder's, on the step's own loopback: no other process is there yet
FORWARDER = "/opt/layercake/forwarder.py"


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

    def prlimit_args(self, process_base: int = 0) -> list[str]:
        """util-linux `prlimit` options for these limits.

        `process_base` is how many processes the sandbox user already has (the
        limit counts per user), so the step gets `processes` more than that.
        """
        return [
            f"--nproc={process_base + self.processes}",
            f"--fsize={self.file_size_mb * _MB}",
            f"--cpu={self.cpu_seconds}",
            f"--data={self.memory_mb * _MB}",
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
    egress: str | None = None  # the egress proxy's socket for this step (network steps only)


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
    egress = (
        [Bind(mounts.egress, EGRESS_SOCKET, read_only=True)] if network and mounts.egress else []
    )
    return [
        *(Bind(path, path, read_only=True, optional=True) for path in etc),
        *(Bind(f"{mounts.etc}/{name}", f"/etc/{name}", read_only=True) for name in _OWN_ETC),
        *(Bind(source, target, read_only=True) for source, target in mounts.read_only),
        Bind(mounts.project, WORKSPACE, read_only=False),
        Bind(mounts.cache, CACHE, read_only=False),
        *egress,
    ]


def through_egress(
    command: tuple[str, ...], env: Mapping[str, str]
) -> tuple[tuple[str, ...], dict[str, str]]:
    """A network step's command behind our forwarder, and its env pointing its tools at it.

    npm, uv, pip and requests honour these variables and CONNECT by host name, so the
    step needs no name service of its own.
    """
    names = (
        *("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"),
        *("npm_config_proxy", "npm_config_https_proxy"),
    )
    proxies = dict.fromkeys(names, f"http://127.0.0.1:{EGRESS_PORT}")
    forwarder = (SYSTEM_PYTHON, "-I", "-S", FORWARDER, EGRESS_SOCKET, str(EGRESS_PORT), "--")
    return (*forwarder, *command), {**env, **proxies}


def bwrap_argv(
    command: tuple[str, ...],
    mounts: Mounts,
    env: Mapping[str, str],
    *,
    network: bool,
) -> list[str]:
    """A bubblewrap command line that runs `command` confined."""
    argv = ["bwrap", "--unshare-all"]  # its own network namespace, even for a network step
    argv += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    argv += ["--ro-bind", "/usr", "/usr"]
    for link, target in sorted((mounts.host_symlinks or {}).items()):
        argv += ["--symlink", target, link]
    for bind in binds(mounts, network=network):
        option = "--ro-bind" if bind.read_only else "--bind"
        argv += [f"{option}-try" if bind.optional else option, bind.source, bind.target]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]  # noqa: S108  # its own /tmp
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


def confine(
    command: tuple[str, ...], env: Mapping[str, str], how: Confinement, *, network: bool
) -> list[str]:
    """The full argv of a confined step: drop to `run_as`, set limits, enter the sandbox."""
    prefix: list[str] = []
    if how.run_as is not None:
        uid, gid = how.run_as
        prefix = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]
    limited = ["prlimit", *how.limits.prlimit_args(how.process_base), "--"]
    if network and how.backend is not Backend.NONE:
        command, env = through_egress(command, env)
    if how.backend is Backend.BWRAP:
        inner = bwrap_argv(command, how.mounts, env, network=network)
    elif how.backend is Backend.UNSHARE:
        namespaces = ["--user", "--map-root-user", "--mount", "--pid", "--fork", "--kill-child"]
        namespaces += ["--ipc", "--uts", "--net"]
        spec = jail_spec(command, how.mounts, env, network=network, new_root=how.new_root)
        inner = ["unshare", *namespaces, "--", *how.trampoline, spec]
    else:
        inner = ["env", "-i", *(f"{k}={v}" for k, v in sorted(env.items())), *command]
    return [*prefix, *limited, *inner]
