"""A keyring backend for tests that spawn ``carecal`` processes: secrets in one JSON file named
by $CARECAL_TEST_KEYRING, so a child process sees the tokens its test stored. Test-only: the
app itself keeps secrets only in the OS keyring (selected with PYTHON_KEYRING_BACKEND)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

ENV = "CARECAL_TEST_KEYRING"


def _path() -> Path:
    return Path(os.environ[ENV])


def _load() -> dict[str, str]:
    try:
        data: dict[str, str] = json.loads(_path().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return data


def _save(data: dict[str, str]) -> None:
    # Written whole and renamed, so a child killed mid-write leaves the previous file.
    tmp = _path().with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(_path())


class FileKeyring(KeyringBackend):
    """Keeps secrets in the JSON file $CARECAL_TEST_KEYRING, keyed by service and user."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return _load().get(f"{service}\x00{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = _load()
        data[f"{service}\x00{username}"] = password
        _save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = _load()
        if data.pop(f"{service}\x00{username}", None) is None:
            raise PasswordDeleteError(username)
        _save(data)
