"""Escapes through the kernel, on both sandbox back-ends: the seccomp filter refuses them with
EPERM (so tools degrade rather than die), no step makes a user namespace of its own, and
ordinary work still runs."""

from __future__ import annotations

import errno
import json
import os

import pytest

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="slot users need root; see the sandbox README"
)

# Each attack runs in a forked child (an unshare must not change the probe itself) and prints
# the errno its last call left (0: it worked).
PROBE = """import ctypes, json, os, platform, sys
libc = ctypes.CDLL(None, use_errno=True)
NR = {
    "x86_64": {"keyctl": 250, "bpf": 321, "clone": 56, "clone3": 435},
    "aarch64": {"keyctl": 219, "bpf": 280, "clone": 220, "clone3": 435},
}[platform.machine()]
CLONE_NEWNS, CLONE_NEWUSER, SIGCHLD = 0x20000, 0x10000000, 17

def check(result):
    return 0 if result >= 0 else ctypes.get_errno()

def mount_in_new_namespaces():
    libc.unshare(CLONE_NEWUSER | CLONE_NEWNS)  # with a namespace of its own, mount would work
    return check(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None))

def clone_into_a_new_user_namespace():
    pid = libc.syscall(NR["clone"], CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)
    if pid == 0:
        os._exit(0)
    if pid > 0:
        os.waitpid(pid, 0)
    return check(pid)

ATTACKS = {
    "unshare": lambda: check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS)),
    "mount": mount_in_new_namespaces,
    "ptrace": lambda: check(libc.ptrace(0, 0, None, None)),  # PTRACE_TRACEME
    "keyctl": lambda: check(libc.syscall(NR["keyctl"], 1, None)),  # join a new session keyring
    "bpf": lambda: check(libc.syscall(NR["bpf"], 0, None, 0)),  # EINVAL unfiltered, EPERM here
    "clone": clone_into_a_new_user_namespace,
    "clone3": lambda: check(libc.syscall(NR["clone3"], None, 0)),  # EINVAL unfiltered
}
pid = os.fork()
if pid == 0:
    ctypes.set_errno(0)
    os._exit(ATTACKS[sys.argv[1]]())
print(json.dumps({"errno": os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])}))
"""


async def test_every_step_runs_under_a_seccomp_filter(jail):
    """The step's own status says a seccomp filter confines it."""
    done = await jail.run("sh", "-c", "grep ^Seccomp: /proc/self/status")
    assert done.output.split() == ["Seccomp:", "2"], done.output


@pytest.mark.parametrize("attack", ["unshare", "mount", "ptrace", "keyctl", "bpf", "clone"])
async def test_a_syscall_a_build_never_needs_fails_with_eperm(jail, attack):
    """unshare, mount (even in new namespaces), ptrace, keyctl, bpf and a clone into a new
    user namespace are refused with EPERM."""
    done = await jail.run("python3", jail.script("probe.py", PROBE), attack)
    assert json.loads(done.output) == {"errno": errno.EPERM}, done.output


async def test_clone3_answers_enosys_so_that_libc_falls_back_to_clone(jail):
    """clone3's flags are out of the filter's reach, so it is "not implemented" inside."""
    done = await jail.run("python3", jail.script("probe.py", PROBE), "clone3")
    assert json.loads(done.output) == {"errno": errno.ENOSYS}, done.output


# The sandbox's python3 (3.11) has no os.unshare: the same call through libc.
UNSHARE_USER = """import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x10000000) != 0:
    raise SystemExit(os.strerror(ctypes.get_errno()))
"""


@pytest.mark.parametrize(
    "command",
    [
        ("unshare", "--user", "--map-root-user", "true"),
        ("unshare", "-U", "true"),
        ("python3", "-c", UNSHARE_USER),
    ],
    ids=["unshare-map-root-user", "unshare-U", "python-unshare"],
)
async def test_a_step_cannot_make_a_user_namespace_of_its_own(jail, command):
    """A nested user namespace would hand the step every capability over its own mounts."""
    done = await jail.run(*command)
    assert done.exit_code not in (0, None), done.output
    assert "Operation not permitted" in done.output


ORDINARY = """import os, subprocess, sys, threading
box = []
thread = threading.Thread(target=lambda: box.append("thread"))
thread.start()
thread.join()
pid = os.fork()
if pid == 0:
    os._exit(7)
box.append(f"fork {os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])}")
box.append(subprocess.run(["sh", "-c", "echo subprocess"], capture_output=True, text=True).stdout.strip())
box.append(subprocess.run(["node", "-e", NODE], capture_output=True, text=True).stdout.strip())
print(" / ".join(box))
"""
NODE = (
    "const { Worker } = require('node:worker_threads');"
    "const w = new Worker('require(\"node:worker_threads\").parentPort.postMessage(6*7)', "
    "{ eval: true }); w.on('message', (m) => { console.log('node worker ' + m); });"
)


async def test_ordinary_work_still_runs_under_the_filter(jail):
    """python3, a thread, fork, a subprocess, sh and node with a worker thread all still work."""
    script = jail.script("ordinary.py", f"NODE = {NODE!r}\n{ORDINARY}")
    done = await jail.run("python3", script)
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "thread / fork 7 / subprocess / node worker 42"
