"""The Node audit reads the lock the install made (issue #19), never ENOLOCK.

A lockless project's install writes package-lock.json into the tree, but the tree
may lose it while node_modules stays (`layercake build` drops what the folder lacks,
and the install is then cached): the audit first makes the lock of the installed
tree, offline, when there is none.
"""

from __future__ import annotations

import json

from layercake_builder.core.plan import NPM, plan_build
from layercake_contracts.values import Step

PACKAGE = json.dumps({"name": "plain", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}})


def test_a_lockless_projects_audit_first_makes_the_lock_of_the_installed_tree_offline():
    """Only when no lock is there; its failure is left to npm audit to report (ENOLOCK)."""
    plan = plan_build(["package.json"], {"package.json": PACKAGE})
    [audit] = plan.of(Step.AUDIT)
    lock, check = audit.commands
    assert lock.argv[:2] == ("/bin/sh", "-c")
    assert lock.argv[2].startswith("test -e package-lock.json || test -e npm-shrinkwrap.json ||")
    assert f"{NPM} install --package-lock-only --offline --ignore-scripts" in lock.argv[2]
    assert (lock.network, lock.tolerate_exit) == (False, True)
    assert check.argv == (NPM, "audit", "--json")


def test_a_locked_projects_audit_reads_its_own_lock():
    """npm ci installed from the project's lock: the audit reads that one, nothing made."""
    plan = plan_build(["package.json", "package-lock.json"], {"package.json": PACKAGE})
    [audit] = plan.of(Step.AUDIT)
    assert [c.argv for c in audit.commands] == [(NPM, "audit", "--json")]
