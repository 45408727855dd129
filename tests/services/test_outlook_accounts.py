"""Outlook account use cases with MSAL against the Graph emulator's identity endpoints: the
browser sign-in (authorization code + PKCE on a loopback redirect) and the device code, MSAL's
cache kept only in the keyring, a dead refresh token making the account "needs sign-in" with
its queue kept, signing in again and out, and the provider factory."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from carecal.domain.errors import AuthExpired
from carecal.domain.models import Event, ProviderKind, Settings, new_id
from carecal.net.errors import SignInCancelled, SignInFailed, SignInTimedOut
from carecal.providers.outlook import OutlookProvider
from carecal.services import accounts as svc
from carecal.services import outlook_accounts as outlook
from carecal.services import outlook_client
from carecal.services.session import Session
from carecal.services.syncing import keyring_providers, run_cycle
from carecal.store.syncstate import SyncStore
from carecal.sync.engine import CancelToken
from tests.fakes.graph_server import GraphEmulator
from tests.google_signin_helpers import keyring_entries
from tests.outlook_signin_helpers import MsBrowser, ms_settings
from tests.providers.outlook_support import running_emulator


@pytest.fixture
def emu() -> Iterator[GraphEmulator]:
    with running_emulator() as server:
        yield server


def test_the_client_id_and_authority_come_from_the_argument_settings_or_environment() -> None:
    with pytest.raises(outlook_client.ClientIdMissing, match="CARECAL_MS_CLIENT_ID"):
        outlook_client.resolve_client(None, environ={})
    env = {"CARECAL_MS_CLIENT_ID": "from-env", "CARECAL_MS_AUTHORITY": "https://login.example/t"}
    got = outlook_client.resolve_client(None, environ=env)
    assert (got.client_id, got.authority) == ("from-env", "https://login.example/t")
    app = Settings(ms_client_id="from-settings")
    assert outlook_client.resolve_client(app, environ=env).client_id == "from-settings"
    given = outlook_client.resolve_client(app, client_id="given", environ={})
    assert (given.client_id, given.authority) == ("given", outlook_client.AUTHORITY)


def test_browser_sign_in_adds_the_account_with_its_cache_only_in_the_keyring(
    emu: GraphEmulator, session: Session, data_dir: Path
) -> None:
    browser = MsBrowser()
    signin = asyncio.run(outlook.sign_in(ms_settings(emu), open_browser=browser, timeout=20))
    [opened] = browser.opened
    assert opened.startswith(emu.authorize_uri) and "code_challenge_method=S256" in opened
    assert "redirect_uri=http%3A%2F%2Flocalhost%3A" in opened
    assert signin.email == "practitioner@example.com"
    assert [c.name for c in signin.calendars] == ["Calendar"]
    added = outlook.finish_add(session.repo, signin, signin.calendars, privacy="busy",
                               actor="user")  # fmt: skip
    account = added.account
    assert account.kind is ProviderKind.OUTLOOK and account.name == "practitioner@example.com"
    assert account.settings["privacy"] == "busy" and "cache" not in str(account.settings)
    [cal] = [c for c in session.repo.list_calendars() if c.account_id == account.id]
    assert cal.remote_id == emu.default_calendar_id
    entries = keyring_entries()
    assert entries[account.id].startswith("msal:")
    # MSAL's cache is kept in parts no larger than one Windows credential takes (2,560 bytes of
    # UTF-16), the account's own entry first.
    parts = [k for k in entries if k == account.id or k.startswith(account.id + "#")]
    assert len(parts) >= 2 and all(len(entries[k]) <= 1010 for k in parts)
    cache = outlook_client.CacheStore(account.id).load()
    assert cache is not None and "RefreshToken" in cache
    # The refresh token is nowhere on disk.
    refresh = next(iter(__import__("json").loads(cache)["RefreshToken"].values()))["secret"]
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert refresh.encode() not in path.read_bytes(), path
    assert session.repo.settings().ms_client_id == emu.identity.client_id


def test_device_code_sign_in(emu: GraphEmulator) -> None:
    shown: list[outlook.DeviceCode] = []

    def show(code: outlook.DeviceCode) -> None:
        shown.append(code)
        emu.approve_device_code(code.user_code)  # the user signs in on their phone

    signin = asyncio.run(outlook.sign_in_device(ms_settings(emu), show_code=show, timeout=20))
    assert len(shown) == 1 and shown[0].user_code in shown[0].message
    assert signin.email == "practitioner@example.com" and signin.calendars


def test_device_code_declined_cancelled_or_never_entered(emu: GraphEmulator) -> None:
    def decline(code: outlook.DeviceCode) -> None:
        emu.decline_device_code(code.user_code)

    with pytest.raises(SignInFailed, match="declined"):
        asyncio.run(outlook.sign_in_device(ms_settings(emu), show_code=decline, timeout=20))
    cancel = outlook.SignInCancel()
    with pytest.raises(SignInCancelled):
        asyncio.run(
            outlook.sign_in_device(
                ms_settings(emu), show_code=lambda c: cancel.cancel(), timeout=20, cancel=cancel
            )
        )
    emu.identity.device_interval = 1
    with pytest.raises(SignInTimedOut):
        asyncio.run(outlook.sign_in_device(ms_settings(emu), show_code=lambda c: None, timeout=1))


def test_browser_sign_in_cancelled_and_timed_out(emu: GraphEmulator) -> None:
    cancel = outlook.SignInCancel()
    threading.Timer(0.3, cancel.cancel).start()
    with pytest.raises(SignInCancelled):
        asyncio.run(
            outlook.sign_in(
                ms_settings(emu), open_browser=lambda u: None, timeout=20, cancel=cancel
            )
        )
    with pytest.raises(SignInTimedOut):
        asyncio.run(outlook.sign_in(ms_settings(emu), open_browser=lambda u: None, timeout=0.3))


def _added(emu: GraphEmulator, session: Session) -> outlook.OutlookAdded:
    signin = asyncio.run(outlook.sign_in(ms_settings(emu), open_browser=MsBrowser(), timeout=20))
    return outlook.finish_add(session.repo, signin, signin.calendars, actor="user")


def _cycle(session: Session) -> list[str]:
    result = asyncio.run(run_cycle(session.db, keyring_providers, CancelToken(), True, None))
    return [e for r in result.reports for e in r.errors] + list(result.errors)


def test_refresh_rotation_is_saved_and_a_dead_grant_means_needs_sign_in_queue_kept(
    emu: GraphEmulator, session: Session
) -> None:
    added = _added(emu, session)
    account = added.account
    [cal] = added.mirrored
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    session.events.create(
        Event(new_id(), cal.id, f"{new_id()}@carecal", "Lunch", start, start.replace(hour=10))
    )
    emu.expire_access_tokens()  # the next call refreshes; the new refresh token is kept
    before = keyring_entries()[account.id]
    assert _cycle(session) == []
    assert keyring_entries()[account.id] != before
    assert SyncStore(session.repo).pending_ops(cal.id) == []
    # The refresh token dies (password changed): the account needs sign-in, edits wait.
    session.events.create(
        Event(new_id(), cal.id, f"{new_id()}@carecal", "Admin", start, start.replace(hour=11))
    )
    emu.expire_access_tokens()
    emu.kill_refresh_tokens("revoked")
    _cycle(session)
    account = SyncStore(session.repo).account(account.id)
    assert account.settings.get("needs_sign_in") is True
    assert len(SyncStore(session.repo).pending_ops(cal.id)) == 1
    # Signed in again: the queued change goes out.
    signin = asyncio.run(outlook.sign_in(ms_settings(emu), open_browser=MsBrowser(), timeout=20))
    outlook.finish_sign_in_again(session.repo, account, signin, actor="user")
    assert _cycle(session) == []
    assert SyncStore(session.repo).pending_ops(cal.id) == []


def test_the_factory_builds_the_outlook_provider_and_a_missing_sign_in_is_auth_expired(
    emu: GraphEmulator, session: Session
) -> None:
    account = _added(emu, session).account
    provider = keyring_providers(account)
    assert isinstance(provider, OutlookProvider) and provider.privacy.value == "initials"
    assert asyncio.run(provider.discover())
    asyncio.run(provider.close())
    assert outlook.sign_out(session.repo, account, actor="user") is False
    assert account.id not in keyring_entries()
    signed_out = SyncStore(session.repo).account(account.id)
    assert signed_out.settings.get("signed_out") is True
    with pytest.raises(AuthExpired):
        asyncio.run(outlook_client.make_provider(signed_out).discover())


def test_the_same_microsoft_account_twice_is_one_account(
    emu: GraphEmulator, session: Session
) -> None:
    first = _added(emu, session)
    second = _added(emu, session)
    assert second.existed and second.account.id == first.account.id
    assert [a.id for a in outlook.outlook_accounts(session.repo)] == [first.account.id]


def test_signing_in_again_as_someone_else_is_refused(emu: GraphEmulator, session: Session) -> None:
    account = _added(emu, session).account
    signin = asyncio.run(outlook.sign_in(ms_settings(emu), open_browser=MsBrowser(), timeout=20))
    other = replace(signin, email="someone.else@example.com")
    with pytest.raises(outlook.WrongMicrosoftAccount):
        outlook.finish_sign_in_again(session.repo, account, other, actor="user")


def test_the_sync_window_comes_from_the_account_settings() -> None:
    from carecal.domain.models import Account

    plain = Account("a1", ProviderKind.OUTLOOK, "o", {"client_id": "c"})
    assert outlook_client.window_of(plain) == (90.0, 548.0)
    narrow = Account(
        "a2", ProviderKind.OUTLOOK, "o",
        {"client_id": "c", "window_back_days": 30, "window_ahead_days": 365},
    )  # fmt: skip
    provider = outlook_client.make_provider(narrow)
    assert (provider._reads.window.back, provider._reads.window.ahead) == (30.0, 365.0)
    odd = Account("a3", ProviderKind.OUTLOOK, "o", {"window_back_days": -1,
                                                    "window_ahead_days": "lots"})  # fmt: skip
    assert outlook_client.window_of(odd) == (90.0, 548.0)
    asyncio.run(provider.close())


def test_the_msal_cache_is_kept_in_parts_and_a_missing_part_reads_as_signed_out() -> None:
    store = outlook_client.CacheStore("acct-parts")
    text = "{" + "x" * 3500 + "}"
    store.save(text)
    assert outlook_client.CacheStore("acct-parts").load() == text
    assert {k for k in keyring_entries() if k.startswith("acct-parts")} == {
        "acct-parts", "acct-parts#1", "acct-parts#2", "acct-parts#3",
    }  # fmt: skip
    store.save("{}")  # a smaller cache leaves no stale parts behind
    assert outlook_client.CacheStore("acct-parts").load() == "{}"
    assert {k for k in keyring_entries() if k.startswith("acct-parts")} == {"acct-parts"}
    store.save(text)
    from carecal.services import secrets

    secrets.delete_password("acct-parts#2")
    assert outlook_client.CacheStore("acct-parts").load() is None
    store.delete()
    assert not {k for k in keyring_entries() if k.startswith("acct-parts")}


def test_removing_the_account_leaves_no_part_of_its_sign_in_in_the_keyring(
    emu: GraphEmulator, session: Session, data_dir: Path
) -> None:
    browser = MsBrowser()
    signin = asyncio.run(outlook.sign_in(ms_settings(emu), open_browser=browser, timeout=20))
    added = outlook.finish_add(session.repo, signin, signin.calendars, privacy="busy",
                               actor="user")  # fmt: skip
    account = added.account
    assert len([k for k in keyring_entries() if k.startswith(account.id)]) >= 2
    removal = outlook.remove_outlook_account(session.repo, account, actor="user")
    assert removal.calendars == 1
    assert not [k for k in keyring_entries() if k.startswith(account.id)]
    assert account.id not in {a.id for a in svc.list_accounts(session.repo)}
