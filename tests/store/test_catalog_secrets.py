"""Secrets held in settings never reach the audit log (which can be exported)."""

from __future__ import annotations

import dataclasses
import json

from carecal.store.repo import Repository


def test_kiosk_pin_hash_is_not_audited(repo: Repository) -> None:
    secret = "scrypt$c2FsdA$aGFzaGhhc2hoYXNo"
    settings = dataclasses.replace(repo.settings(), kiosk_pin_hash=secret)
    repo.save_settings(settings, actor="test")
    assert repo.settings().kiosk_pin_hash == secret
    rows = repo._db.execute("SELECT * FROM audit_log").fetchall()
    dumped = json.dumps([list(map(str, r)) for r in rows])
    assert secret not in dumped
    assert "not recorded" in dumped
