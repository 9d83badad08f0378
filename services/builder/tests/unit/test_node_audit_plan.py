"""The Node audit reads the lock the install made (issue #19): the lock is one of its outputs."""

from __future__ import annotations

import json

from layercake_builder.core.plan import plan_build
from layercake_contracts.values import Step

PACKAGE = json.dumps({"name": "plain", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}})


def test_a_lockless_projects_install_counts_the_lock_it_writes_among_what_it_installs():
    """Without the lock npm install wrote, the install is not cached: it runs and writes it."""
    plan = plan_build(["package.json"], {"package.json": PACKAGE})
    [install] = plan.of(Step.INSTALL)
    assert install.installs == ("node_modules", "package-lock.json")


def test_a_locked_projects_install_leaves_its_own_lock_to_the_manifest():
    """npm ci reads the project's lock and writes none: only node_modules is the install's."""
    plan = plan_build(["package.json", "package-lock.json"], {"package.json": PACKAGE})
    [install] = plan.of(Step.INSTALL)
    assert install.installs == ("node_modules",)
