"""Account passwords, kept only in the operating system's keyring.

Entries are stored under the service name ``Carecal`` with the account's id as user name, so a
password never reaches Carecal's database, its log file or an error message. Where no keyring
works (a Linux machine without a Secret Service provider), ``NoKeyring`` says what to install
and offers the explicit alternative: not storing the password at all and giving it on every
sync (``--no-store-password``, then ``--password-stdin`` or $CARECAL_PASSWORD). Carecal never
falls back to a file of its own.

The keyring library is imported inside the functions: the command line's listing commands must
stay light. Threads: any thread (the platform backends do their own locking); each call may
block briefly on the keyring daemon.
"""

from __future__ import annotations

import logging
import os

from carecal.domain.errors import CarecalError

log = logging.getLogger(__name__)

SERVICE = "Carecal"
PASSWORD_ENV = "CARECAL_PASSWORD"

_NO_KEYRING = (
    "no system keyring is available to keep the password safely "
    "(install a Secret Service provider such as GNOME Keyring or KWallet and sign in to a "
    "desktop session); or add the account with --no-store-password and give the password on "
    f"every sync with --password-stdin or the {PASSWORD_ENV} environment variable"
)


class NoKeyring(CarecalError):
    """No working keyring backend; the message says what to install and what else to do."""

    def __init__(self) -> None:
        super().__init__(_NO_KEYRING)


class KeyringFailed(CarecalError):
    """The keyring exists but refused the operation (locked, access denied)."""


class PasswordMissing(CarecalError):
    """An account's password is neither in the keyring nor given for this run."""


def _fail(action: str, exc: Exception) -> CarecalError:
    from keyring.errors import NoKeyringError

    if isinstance(exc, NoKeyringError):
        return NoKeyring()
    # The backend's own message may quote what it was given; keep only the exception's kind.
    log.warning("keyring %s failed: %s", action, type(exc).__name__)
    return KeyringFailed(
        f"the system keyring refused to {action} the password ({type(exc).__name__}); "
        "unlock the keyring and try again"
    )


def _is_fail_backend() -> bool:
    import keyring
    from keyring.backends import fail

    return isinstance(keyring.get_keyring(), fail.Keyring)


def check_keyring() -> None:
    """Raise NoKeyring unless a usable keyring backend is configured. Any thread."""
    if _is_fail_backend():
        raise NoKeyring()


def store_password(account_id: str, password: str) -> None:
    """Save (or replace) an account's password in the keyring.

    Any thread. Raises NoKeyring, KeyringFailed.
    """
    import keyring
    from keyring.errors import KeyringError

    check_keyring()
    try:
        keyring.set_password(SERVICE, account_id, password)
    except KeyringError as exc:
        raise _fail("store", exc) from None
    except Exception as exc:  # D-Bus and OS errors surface as foreign exceptions
        raise _fail("store", exc) from None


def load_password(account_id: str) -> str | None:
    """The account's password from the keyring, or None when none is stored.

    Any thread. Raises NoKeyring, KeyringFailed.
    """
    import keyring
    from keyring.errors import KeyringError

    check_keyring()
    try:
        return keyring.get_password(SERVICE, account_id)
    except KeyringError as exc:
        raise _fail("read", exc) from None
    except Exception as exc:
        raise _fail("read", exc) from None


def delete_password(account_id: str) -> bool:
    """Remove the account's password; False when there was none or no keyring works (nothing
    to remove then). Any thread. Raises KeyringFailed when the keyring refuses."""
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    if _is_fail_backend():
        return False
    try:
        keyring.delete_password(SERVICE, account_id)
    except PasswordDeleteError:
        return False
    except KeyringError as exc:
        raise _fail("delete", exc) from None
    except Exception as exc:
        raise _fail("delete", exc) from None
    return True


def password_from_env() -> str | None:
    """$CARECAL_PASSWORD for scripted runs, or None when unset or empty. Any thread."""
    value = os.environ.get(PASSWORD_ENV)
    return value if value else None
