"""Passwords live only in the keyring; without one, a clear error and no fallback file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from carecal.services import secrets


@pytest.fixture()
def no_keyring() -> Iterator[None]:
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(before)


def test_store_load_delete_round_trip() -> None:
    secrets.store_password("acct-1", "s3cret-pw")
    assert secrets.load_password("acct-1") == "s3cret-pw"
    assert keyring.get_password("Carecal", "acct-1") == "s3cret-pw"
    assert secrets.delete_password("acct-1") is True
    assert secrets.load_password("acct-1") is None
    assert secrets.delete_password("acct-1") is False


def test_headless_machine_gets_a_clear_choice(no_keyring: None, tmp_path: Path) -> None:
    with pytest.raises(secrets.NoKeyring) as info:
        secrets.store_password("acct-2", "never-written")
    message = str(info.value)
    assert "GNOME Keyring" in message and "KWallet" in message
    assert "--no-store-password" in message and secrets.PASSWORD_ENV in message
    assert "never-written" not in message
    with pytest.raises(secrets.NoKeyring):
        secrets.load_password("acct-2")
    assert secrets.delete_password("acct-2") is False


def test_password_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(secrets.PASSWORD_ENV, raising=False)
    assert secrets.password_from_env() is None
    monkeypatch.setenv(secrets.PASSWORD_ENV, "from-env")
    assert secrets.password_from_env() == "from-env"
