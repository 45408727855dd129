"""The audit log is append-only and its hash chain detects tampering."""

from __future__ import annotations

import itertools
import sqlite3
from datetime import datetime

import pytest

from carecal.domain.errors import AuditChainBroken, StoreError
from carecal.domain.models import Calendar, Patient
from carecal.store.repo import Repository
from tests.store.conftest import WARSAW, make_event


def _fill(repo: Repository, cal: Calendar) -> None:
    repo.add_patient(Patient("p1", "Anna", "Nowak", phone="+48 600 000 000"), actor="user")
    for hour in range(9, 13):
        repo.add_event(make_event(cal.id, datetime(2024, 5, 6, hour, tzinfo=WARSAW)), actor="cli")


def test_entries_chain_and_verify(repo: Repository, cal: Calendar) -> None:
    _fill(repo, cal)
    entries = repo.audit.entries()
    assert repo.audit.verify() == len(entries) >= 6
    for prev, entry in itertools.pairwise(entries):
        assert entry.prev_hash == prev.hash
        assert entry.at > prev.at
    patient = next(e for e in entries if e.entity_kind == "patient")
    assert patient.after["phone"] == "+48 600 000 000"  # the practitioner's own record
    assert [e.id for e in repo.audit.entries(limit=2)] == [entries[-2].id, entries[-1].id]


def test_application_cannot_change_or_remove_entries(repo: Repository, cal: Calendar) -> None:
    _fill(repo, cal)
    with pytest.raises(StoreError, match="append-only"):
        repo._db.execute("UPDATE audit_log SET actor = 'someone' WHERE id = 2")
    with pytest.raises(StoreError, match="append-only"):
        repo._db.execute("DELETE FROM audit_log WHERE id = 2")


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE audit_log SET after = replace(after, 'Nowak', 'Kowal') "
        "WHERE entity_kind = 'patient'",
        "UPDATE audit_log SET actor = 'intruder' WHERE id = 4",
        "DELETE FROM audit_log WHERE id = 4",
    ],
)
def test_tampering_via_raw_sql_is_detected(repo: Repository, cal: Calendar, tamper: str) -> None:
    _fill(repo, cal)
    target = repo.audit.entries()[3].id
    patient_entry = next(e for e in repo.audit.entries() if e.entity_kind == "patient").id
    raw = sqlite3.connect(repo._db.path)
    raw.execute("DROP TRIGGER audit_log_no_update")
    raw.execute("DROP TRIGGER audit_log_no_delete")
    raw.execute(tamper)
    raw.commit()
    raw.close()
    with pytest.raises(AuditChainBroken) as info:
        repo.audit.verify()
    expected = patient_entry if "patient" in tamper else (target if "actor" in tamper else 5)
    assert info.value.entry_id == expected
    assert f"entry {expected}" in str(info.value)
