"""Tamper evidence: `audit verify` passes on an untouched store and names where a row was edited, deleted or swapped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from layercake_contracts.events import ArtifactRecorded, GateApproved, ProjectCreated
from layercake_contracts.values import Gate
from layercake_gateway.adapters.ledger import Ledger
from layercake_gateway.core.policy import Policy

LAYERCAKE = str(Path(sys.executable).parent / "layercake")


def record_flow(url: str) -> Ledger:
    ledger = Ledger(url, Policy())
    for project_id in ("calc", "todo"):
        root = ProjectCreated(project_id=project_id, name=project_id, intake="i", owner="ada")
        events = [
            root,
            GateApproved.follow(root, gate=Gate.G0, by="ada"),
            ArtifactRecorded.follow(root, gate=Gate.G1, kind="intake_review", name="review"),
            GateApproved.follow(root, gate=Gate.G1, by="ada"),
        ]
        for event in events:
            ledger.record(event, ledger.recorder.max_notification_id() or 0)
    return ledger


def test_an_untouched_store_verifies(store_url):
    """Every project's chain holds."""
    assert record_flow(store_url).verify().broken == {}


def test_an_edited_row_is_named(store_url, tamper):
    """Changing one byte of an event's body breaks the chain at that event."""
    ledger = record_flow(store_url)
    originator = ledger.get("calc").id
    rows = tamper(
        "SELECT originator_version, state FROM stored_events WHERE originator_id = %s",
        (originator,),
    )
    version, state = next((v, bytes(s)) for v, s in sorted(rows) if b"review" in bytes(s))
    edited = state.replace(b"review", b"rEview")
    tamper("UPDATE stored_events SET state = %s WHERE originator_id = %s AND originator_version = %s",
           (edited, originator, version))  # fmt: skip
    broken = Ledger(store_url, Policy()).verify().broken
    assert list(broken) == ["calc"]
    assert broken["calc"].version == version
    assert "edited" in broken["calc"].reason


def test_a_deleted_row_is_named(store_url, tamper):
    """Removing an event leaves a gap the chain names."""
    ledger = record_flow(store_url)
    originator = ledger.get("calc").id
    tamper(
        "DELETE FROM stored_events WHERE originator_id = %s AND originator_version = 2",
        (originator,),
    )
    broken = Ledger(store_url, Policy()).verify("calc").broken
    assert broken["calc"].version == 2
    assert "missing" in broken["calc"].reason


def test_two_swapped_rows_are_named(store_url, tamper):
    """Exchanging two events' contents breaks the chain at the first of them."""
    ledger = record_flow(store_url)
    originator = ledger.get("calc").id
    rows = dict(
        tamper(
            "SELECT originator_version, state FROM stored_events WHERE originator_id = %s",
            (originator,),
        )
    )
    for version, other in ((2, 3), (3, 2)):
        tamper("UPDATE stored_events SET state = %s WHERE originator_id = %s AND originator_version = %s",
               (bytes(rows[other]), originator, version))  # fmt: skip
    broken = Ledger(store_url, Policy()).verify().broken
    assert broken["calc"].version == 2
    assert "todo" not in broken


@pytest.mark.parametrize("tampered", [False, True])
def test_layercake_audit_verify_exits_by_what_it_finds(tmp_path, tampered):
    """Exit 0 on an untouched store; exit 1 naming the project and position after an edit."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = record_flow(url)
    if tampered:
        import sqlite3  # noqa: PLC0415

        with sqlite3.connect(tmp_path / "ledger.db") as db:
            db.execute("DELETE FROM stored_events WHERE originator_id = ? AND originator_version = 3",
                       (ledger.get("todo").id.hex,))  # fmt: skip
    done = subprocess.run(  # noqa: S603
        [LAYERCAKE, "audit", "verify"], env={**os.environ, "LAYERCAKE_LEDGER_URL": url},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == (1 if tampered else 0), done.stdout + done.stderr
    if tampered:
        assert "todo" in done.stdout
        assert "3" in done.stdout
    else:
        assert "verified" in done.stdout


def audit_verify(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [LAYERCAKE, "audit", "verify", *args], env={**os.environ, "LAYERCAKE_LEDGER_URL": url},
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_verifying_an_empty_store_says_there_is_nothing_to_verify_and_fails(tmp_path):
    """A check of nothing is no proof: exit 1, naming the ledger."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    Ledger(url, Policy())
    done = audit_verify(url)
    assert done.returncode == 1
    assert "holds no project: nothing to verify" in done.stderr
    assert url in done.stderr
    assert "intact" not in done.stdout


def test_verifying_a_project_the_store_does_not_hold_fails_naming_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    record_flow(url)
    done = audit_verify(url, "nosuchproject")
    assert done.returncode == 1
    assert "no project 'nosuchproject'" in done.stderr
    assert "intact" not in done.stdout
    assert audit_verify(url, "calc").returncode == 0


def test_verifying_a_ledger_file_that_is_not_there_fails_and_makes_none(tmp_path):
    """It used to create an empty store (a /.layercake/ledger.db at the root) and call it intact."""
    done = audit_verify(f"sqlite:///{tmp_path / 'nowhere' / 'ledger.db'}")
    assert done.returncode == 1
    assert f"no ledger at {tmp_path / 'nowhere' / 'ledger.db'}" in done.stderr
    assert not (tmp_path / "nowhere").exists()
