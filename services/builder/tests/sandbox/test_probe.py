"""The trial run that picks a back-end, beside builders that already run steps."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from layercake_builder.adapters import sandbox
from layercake_builder.adapters.sandbox import SLOT_UID_BASE, choose_backend

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="slot users need root; see the sandbox README"
)


@pytest.mark.parametrize("backend", ["bwrap", "unshare"])
def test_the_trial_run_uses_a_slot_no_other_builder_holds(backend, monkeypatch):
    """A trial run on a held slot's uid died in that slot's sweep (SandboxUnavailable)."""
    monkeypatch.setattr(sandbox, "SLOT_LOCKS", Path(tempfile.mkdtemp(prefix="lc-slots-")))
    support = Path(tempfile.mkdtemp(prefix="lc-probe-"))
    support.chmod(0o755)
    held, lock = sandbox._claim_slot()  # another builder's: slot 0 of this lock folder
    try:
        assert choose_backend(backend, support) == backend
        assert (support / "probe").stat().st_uid == SLOT_UID_BASE + held + 1
    finally:
        os.close(lock)
        shutil.rmtree(support, ignore_errors=True)
        shutil.rmtree(sandbox.SLOT_LOCKS, ignore_errors=True)
