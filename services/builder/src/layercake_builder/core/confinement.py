"""How a step is confined: limits, and the command line that puts a command in a sandbox.

Pure: the caller says which backend, which folders and which limits, and which
descriptors it opened; this module returns the argv and what each descriptor must
hold. The sandbox shows the command its project folder (read-write, at
`/workspace`), a cache folder (read-write, at `/cache`), a test command its own
report folder (at `/reports`), the toolchains read-only and nothing else of the
host: no home, no host /tmp, no sockets, and no network but a namespace of its
own. A network step (install, audit) also gets the builder's egress proxy: a Unix
socket, reached through our forwarder on the namespace's loopback, which tunnels
only to the allow-listed registries. No host path of ours is in a command line
the sandbox can read (its pid 1 is bwrap, or our trampoline before it execs): the
options, the jail's spec, our own /etc files and the seccomp filter reach the
sandbox through inherited descriptors.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from layercake_contracts.paths import project_path_problem

WORKSPACE = "/workspace"
CACHE = "/cache"
REPORT_FOLDER = "/reports"  # a command's own fresh report folder, outside the project (issue #14)
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
    read_only: tuple[tuple[str, str], ...] = ()  # (host path, sandbox path): tools outside /usr
    host_symlinks: Mapping[str, str] | None = None  # /bin -> usr/bin on merged-/usr hosts
    reports: str | None = None  # shown at REPORT_FOLDER to this one command only
    egress: str | None = None  # the egress proxy's socket for this step (network steps only)
    workdir: str = WORKSPACE  # where the command starts: its toolchain's folder in the project


def workdir(folder: str) -> str:
    """Where a command of the project's sub-folder `folder` ("" for the root) starts."""
    return f"{WORKSPACE}/{folder}" if folder else WORKSPACE


def folder_problem(folder: str) -> str | None:
    """Why `folder` is no plain relative folder of the project ("" is its root), or None."""
    return None if folder == "" else project_path_problem(folder)


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
        *(Bind(source, target, read_only=True) for source, target in mounts.read_only),
        Bind(mounts.project, WORKSPACE, read_only=False),
        Bind(mounts.cache, CACHE, read_only=False),
        *([Bind(mounts.reports, REPORT_FOLDER, read_only=False)] if mounts.reports else []),
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


@dataclass(frozen=True)
class DataFile:
    """A read-only file of the sandbox made from content, with no host path behind it."""

    target: str
    content: str


def own_etc(builder_uid: int, slot_uid_base: int, slots: int) -> tuple[DataFile, ...]:
    """Our /etc/passwd, group and hosts: the builder's and each slot's user, localhost."""
    users = "".join(
        f"builder{n}:x:{slot_uid_base + n}:{slot_uid_base + n}::/cache/home:/bin/sh\n"
        for n in range(slots)
    )
    builder = f"builder:x:{builder_uid}:{builder_uid}::/cache/home:/bin/sh\n"
    return (
        DataFile("/etc/passwd", f"root:x:0:0::/root:/bin/sh\n{builder}{users}"),
        DataFile("/etc/group", "root:x:0:\n"),
        DataFile("/etc/hosts", "127.0.0.1 localhost\n::1 localhost\n"),
    )


@dataclass(frozen=True)
class Descriptors:
    """Empty memfds the shell opened for the sandbox to read at start, one per input."""

    args: int  # bwrap's options, or the trampoline's spec
    seccomp: int
    files: tuple[int, ...]  # one per `Confinement.files`, in order


@dataclass(frozen=True)
class Launch:
    """A confined step's host argv, and what each descriptor it inherits must hold."""

    argv: list[str]
    inputs: tuple[tuple[int, bytes], ...]


def bwrap_argv(
    mounts: Mounts,
    env: Mapping[str, str],
    fds: Descriptors,
    files: tuple[DataFile, ...],
    *,
    network: bool,
    limits: Limits,
) -> list[str]:
    """What bubblewrap reads from `--args` (so no host path is in its command line)."""
    argv = ["--unshare-all", "--unshare-user"]  # its own network namespace, even for a network step
    # A nested user namespace would give the step every capability over mounts of its own.
    argv += ["--disable-userns", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    argv += ["--ro-bind", "/usr", "/usr"]
    for link, target in sorted((mounts.host_symlinks or {}).items()):
        argv += ["--symlink", target, link]
    for bind in binds(mounts, network=network):
        option = "--ro-bind" if bind.read_only else "--bind"
        argv += [f"{option}-try" if bind.optional else option, bind.source, bind.target]
    for fd, file in zip(fds.files, files, strict=True):
        argv += ["--perms", "0444", "--ro-bind-data", str(fd), file.target]
    tmpfs = ["--size", str(limits.tmpfs_mb * _MB), "--tmpfs"]
    argv += ["--proc", "/proc", "--dev", "/dev", *tmpfs, "/tmp", *tmpfs, "/dev/shm"]  # noqa: S108
    # bwrap cannot size its root and /dev tmpfs: nothing but mount points is written there.
    argv += ["--remount-ro", "/dev", "--remount-ro", "/"]
    argv += ["--chdir", mounts.workdir, "--clearenv", "--seccomp", str(fds.seccomp)]
    for key, value in sorted(env.items()):
        argv += ["--setenv", key, value]
    return argv


def jail_spec(
    command: tuple[str, ...],
    mounts: Mounts,
    env: Mapping[str, str],
    fds: Descriptors,
    files: tuple[DataFile, ...],
    *,
    network: bool,
    new_root: str,
    limits: Limits,
) -> str:
    """What the unshare back-end's trampoline builds, as JSON read from a descriptor."""
    return json.dumps(
        {
            "new_root": new_root,
            "symlinks": dict(mounts.host_symlinks or {}),
            "binds": [
                [b.source, b.target, b.read_only, b.optional]
                for b in binds(mounts, network=network)
            ],
            "files": [[file.target, fd] for fd, file in zip(fds.files, files, strict=True)],
            "seccomp": fds.seccomp,
            "cwd": mounts.workdir,
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
    files: tuple[DataFile, ...] = ()  # made inside from content (our /etc files)
    seccomp: bytes = b""  # the filter program every step runs under
    cgroup_procs: str = ""  # the step joins this cgroup (its cgroup.procs file) before all else


def confine(
    command: tuple[str, ...],
    env: Mapping[str, str],
    how: Confinement,
    fds: Descriptors,
    *,
    network: bool,
) -> Launch:
    """A confined step: drop to `run_as`, set limits, enter the sandbox; and its inputs."""
    prefix: list[str] = []
    if how.cgroup_procs:  # joined first, so that every process of the step is born inside it
        prefix = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', how.cgroup_procs]
    if how.run_as is not None:
        uid, gid = how.run_as
        prefix += ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]
    limited = ["prlimit", *how.limits.prlimit_args(how.process_base), "--"]
    if how.backend is Backend.NONE:
        inner = ["env", "-i", *(f"{k}={v}" for k, v in sorted(env.items())), *command]
        return Launch([*prefix, *limited, *inner], ())
    if network:
        command, env = through_egress(command, env)
    if how.backend is Backend.BWRAP:
        options = bwrap_argv(how.mounts, env, fds, how.files, network=network, limits=how.limits)
        args = "".join(f"{option}\0" for option in options)
        inner = ["bwrap", "--args", str(fds.args), "--", *command]
    else:
        namespaces = ["--user", "--map-root-user", "--mount", "--pid", "--fork", "--kill-child"]
        namespaces += ["--ipc", "--uts", "--net"]
        args = jail_spec(
            command, how.mounts, env, fds, how.files,
            network=network, new_root=how.new_root, limits=how.limits,
        )  # fmt: skip
        inner = ["unshare", *namespaces, "--", *how.trampoline, str(fds.args)]
    inputs = (
        (fds.args, args.encode()),
        (fds.seccomp, how.seccomp),
        *((fd, file.content.encode()) for fd, file in zip(fds.files, how.files, strict=True)),
    )
    return Launch([*prefix, *limited, *inner], inputs)
