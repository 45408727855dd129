"""Remote accounts: add a CalDAV account after discovery, choose its calendars, list, remove.

An account row keeps what is needed to reach the server again (start URL, user name, preset,
whether the password is in the keyring); the password itself lives only in the OS keyring
(services.secrets). The CalDAV provider (and with it httpx and lxml) is imported inside the
functions that talk to the server, so listing stays light; the store is imported on first use,
so adding an account can start talking to the server before the data folder is open
(``start_discovery``).

Threads: the caller's thread (the one owning the Repository); functions that touch the database
do disk I/O and raise StoreError on database failure besides the errors they name. ``discover``
is a coroutine; ``discover_blocking`` runs it on a private event loop.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from carecal.domain.errors import NotFound, ValidationError
from carecal.domain.models import Account, Calendar, ProviderKind, new_id

# Re-exported so the ui can name discovered calendars and offer the services without importing
# providers (both modules are plain data, light to import).
from carecal.providers.base import RemoteCalendar as RemoteCalendar
from carecal.providers.presets import Preset as Preset
from carecal.services import secrets

if TYPE_CHECKING:
    from concurrent.futures import Future

    from carecal.providers.caldav import CalDAVProvider
    from carecal.store.repo import Repository
    from carecal.store.syncstate import SyncStore

PALETTE = ("#2563eb", "#16a34a", "#db2777", "#ea580c", "#7c3aed", "#0891b2", "#ca8a04")


@dataclass(frozen=True, slots=True)
class CalDAVSettings:
    """What is stored (in the account's settings JSON) to reach a CalDAV server again."""

    url: str
    username: str
    preset: str = "generic"
    store_password: bool = True

    @classmethod
    def of(cls, account: Account) -> CalDAVSettings:
        s = account.settings
        return cls(
            str(s.get("url", "")),
            str(s.get("username", "")),
            str(s.get("preset", "generic")),
            bool(s.get("store_password", True)),
        )


@dataclass(frozen=True, slots=True)
class CalendarStatus:
    """One calendar as ``calendars list`` shows it."""

    calendar: Calendar
    account_name: str
    last_sync_at: str | None
    last_error: str | None
    pending: int


@dataclass(frozen=True, slots=True)
class Removal:
    """What removing an account deleted locally."""

    account: Account
    calendars: int
    events: int
    discarded_ops: int


# --- talking to the server ------------------------------------------------------------------


def make_provider(url: str, username: str, password: str, preset: str) -> CalDAVProvider:
    """A CalDAV provider for the account (no network yet). Raises ValidationError for a bad
    URL or preset."""
    from carecal.providers.caldav import CalDAVProvider

    return CalDAVProvider(url, username, password, preset=preset)


async def discover(url: str, username: str, password: str, preset: str) -> list[RemoteCalendar]:
    """The event calendars the account can mirror. The sync worker's (or a private) loop.
    Raises ValidationError, AuthExpired, TransientError, NotFound."""
    provider = make_provider(url, username, password, preset)
    try:
        return await provider.discover()
    finally:
        await provider.close()


@dataclass(frozen=True, slots=True)
class Discovery:
    """A discovery running on a thread of its own (``start_discovery``), and the provider that
    runs it: the first sync of the new account takes it over, with its early download."""

    provider: CalDAVProvider
    found: Future[list[RemoteCalendar]]

    def calendars(self) -> list[RemoteCalendar]:
        """The account's event calendars, once discovery has ended. Blocks the caller's thread.
        Raises ValidationError, AuthExpired, TransientError, NotFound."""
        return self.found.result()

    def close(self) -> None:
        """Close the provider (harmless when the first sync already did). Blocks the caller's
        thread while a request is under way."""
        self.provider.close_blocking()


def start_discovery(
    url: str,
    username: str,
    password: str,
    preset: str,
    names: Sequence[str] | None,
    *,
    download: bool,
) -> Discovery:
    """Start discovering the account's calendars on a thread of its own and return at once, so
    the caller opens its store meanwhile. With ``download``, the events of the first calendar
    ``names`` picks (as ``pick_calendars`` does) are downloaded right after discovery, for the
    account's first sync. The caller's thread; raises ValidationError for a bad URL or preset
    (discovery's own errors come from ``Discovery.calendars``)."""
    provider = make_provider(url, username, password, preset)
    if download:
        found = provider.discover_and_download(lambda cals: pick_calendars(cals, names))
    else:
        found = provider.discover_and_download(lambda _cals: [])
    return Discovery(provider, found)


def discover_blocking(url: str, username: str, password: str, preset: str) -> list[RemoteCalendar]:
    """``discover`` on a private event loop; the caller's thread (blocks on the network)."""
    import asyncio  # here: ``carecal sync`` with no account to sync needs no event loop

    return asyncio.run(discover(url, username, password, preset))


def presets() -> dict[str, Preset]:
    """The services an account can be added for (iCloud, Nextcloud, Fastmail, any CalDAV
    server), by key: label, start URL, password help. A copy; any thread."""
    from carecal.providers.presets import PRESETS

    return dict(PRESETS)


def password_help(preset: str) -> str:
    """The sign-in hint of a preset (iCloud's app-specific password help). Any thread."""
    from carecal.providers.presets import PRESETS

    found = PRESETS.get(preset)
    return found.password_help if found else ""


def _sync_store(repo: Repository) -> SyncStore:
    from carecal.store.syncstate import SyncStore

    return SyncStore(repo)


# --- adding and choosing --------------------------------------------------------------------


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or "name (2)", "name (3)" ... whichever is not in ``taken`` (casefolded names).
    Pure."""
    if name.casefold() not in taken:
        return name
    n = 2
    while f"{name} ({n})".casefold() in taken:
        n += 1
    return f"{name} ({n})"


def default_account_name(url: str, username: str, preset: str) -> str:
    """A readable account name when the user gave none: the service's, else the host's."""
    from carecal.providers.presets import PRESETS

    if preset != "generic" and preset in PRESETS:
        return PRESETS[preset].label
    host = urlsplit(url if "://" in url else f"https://{url}").hostname or url
    return f"{username}@{host}" if username else host


def pick_calendars(
    found: Sequence[RemoteCalendar], names: Sequence[str] | None
) -> list[RemoteCalendar]:
    """The discovered calendars named in ``names`` (case-insensitive), all of them for None.
    Raises ValidationError naming what is not on the server."""
    if names is None:
        return list(found)
    by_name = {c.name.casefold(): c for c in found}
    missing = [n for n in names if n.casefold() not in by_name]
    if missing:
        offered = ", ".join(c.name for c in found) or "none"
        raise ValidationError(
            f"no calendar named {', '.join(repr(m) for m in missing)} on the server "
            f"(found: {offered})"
        )
    return [by_name[n.casefold()] for n in dict.fromkeys(names)]


def add_caldav_account(
    repo: Repository,
    *,
    url: str,
    username: str,
    password: str,
    preset: str,
    calendars: Sequence[RemoteCalendar],
    name: str | None = None,
    store_password: bool = True,
    actor: str,
) -> tuple[Account, list[Calendar]]:
    """Record a discovered CalDAV account and mirror ``calendars`` (one transaction).

    The password goes to the keyring first (with ``store_password``), so a machine without one
    fails before anything is written. Raises NoKeyring, KeyringFailed, ValidationError (a name
    already used).
    """
    existing = _sync_store(repo).accounts()
    if name and any(a.name.casefold() == name.strip().casefold() for a in existing):
        raise ValidationError(f"an account named {name.strip()!r} already exists")
    account_name = name.strip() if name else None
    if not account_name:
        base = default_account_name(url, username, preset)
        account_name = unique_name(base, {a.name.casefold() for a in existing})
    from carecal.providers.presets import start_url

    # Normalized: a URL typed with credentials in it must not carry them into the database.
    settings = CalDAVSettings(start_url(url, preset), username, preset, store_password)
    account = Account(
        new_id(),
        ProviderKind.CALDAV,
        account_name,
        {
            "url": settings.url,
            "username": settings.username,
            "preset": settings.preset,
            "store_password": settings.store_password,
            "conflict_policy": "ask",
        },
    )
    if store_password:
        secrets.store_password(account.id, password)
    try:
        with _sync_store(repo).transaction():
            repo.add_account(account, actor=actor)
            mirrored = mirror_calendars(repo, account, calendars, actor=actor)
    except BaseException:
        if store_password:
            secrets.delete_password(account.id)
        raise
    return account, mirrored


def mirror_calendars(
    repo: Repository, account: Account, calendars: Sequence[RemoteCalendar], *, actor: str
) -> list[Calendar]:
    """Add local mirrors for the remote calendars not mirrored yet; returns the new ones.
    A name another calendar already uses gets the account's name appended (``--calendar NAME``
    must stay unambiguous). Raises NotFound for an unknown account."""
    present = repo.list_calendars()
    mirrored = {c.remote_id for c in present if c.account_id == account.id}
    taken = {c.name.casefold() for c in present}
    added: list[Calendar] = []
    with _sync_store(repo).transaction():
        for i, remote in enumerate(calendars):
            if remote.remote_id in mirrored:
                continue
            label = remote.name.strip() or "Calendar"
            if label.casefold() in taken:
                label = unique_name(f"{label} ({account.name})", taken)
            taken.add(label.casefold())
            color = remote.color or PALETTE[(len(present) + i) % len(PALETTE)]
            cal, _ = repo.add_calendar(label, color[:7], actor=actor, account_id=account.id)
            cal = replace(cal, remote_id=remote.remote_id, read_only=remote.read_only)
            repo.update_calendar(cal, actor=actor)
            added.append(cal)
    return added


# --- reading --------------------------------------------------------------------------------


def list_accounts(repo: Repository) -> list[Account]:
    """Every remote account (the built-in local one left out), oldest first."""
    from carecal.store.calendars import LOCAL_ACCOUNT_ID

    return [a for a in _sync_store(repo).accounts() if a.id != LOCAL_ACCOUNT_ID]


def find_account(repo: Repository, name: str) -> Account:
    """A remote account by name (case-insensitive) or id. Raises NotFound."""
    accounts = list_accounts(repo)
    for account in accounts:
        if account.name.casefold() == name.strip().casefold() or account.id == name.strip():
            return account
    known = ", ".join(repr(a.name) for a in accounts) or "none yet"
    raise NotFound(f"no account named {name!r} (accounts: {known})")


def calendar_statuses(repo: Repository) -> list[CalendarStatus]:
    """Every calendar with its account's name, last sync, last error and unsent changes."""
    store = _sync_store(repo)
    names = {a.id: a.name for a in store.accounts()}
    pending = Counter(op.calendar_id for op in store.pending_ops())
    out = []
    for cal in repo.list_calendars():
        state = store.calendar_state(cal.id)
        out.append(
            CalendarStatus(
                cal,
                names.get(cal.account_id, cal.account_id),
                state.last_sync_at,
                state.last_error,
                pending.get(cal.id, 0),
            )
        )
    return out


# --- removing -------------------------------------------------------------------------------


# Tables keyed by calendar that hold an account's mirrored data, children before parents. The
# store has no "delete calendar" yet; these statements run in one transaction through the
# Repository's database (sync_* tables and participants go by ON DELETE CASCADE).
def remove_account(
    repo: Repository, account: Account, *, actor: str, discard_unsent: bool = False
) -> Removal:
    """Remove the account, its mirrored calendars and their events from THIS computer (nothing
    is deleted on the server) and its password from the keyring.

    Unsent local changes would be lost: unless ``discard_unsent``, raises ValidationError when
    there are any. Raises ValidationError for the built-in local account, KeyringFailed.
    """
    from carecal.store.calendars import LOCAL_ACCOUNT_ID

    if account.id == LOCAL_ACCOUNT_ID or account.kind is ProviderKind.LOCAL:
        raise ValidationError("the calendars on this computer cannot be removed as an account")
    store = _sync_store(repo)
    cal_ids = {c.id for c in store.calendars_of(account.id)}
    unsent = [op for op in store.pending_ops() if op.calendar_id in cal_ids]
    if unsent and not discard_unsent:
        raise ValidationError(
            f"{account.name!r} has {len(unsent)} unsent changes; sync first, or remove it "
            "with --discard-unsent to drop them"
        )
    removed = repo.remove_account(account.id, actor=actor)
    secrets.delete_password(account.id)
    return Removal(account, removed.calendars, removed.events, len(unsent))


# --- passwords for a sync run ---------------------------------------------------------------


def password_for(account: Account, given: str | None) -> str:
    """The password to sync ``account`` with: ``given`` (stdin or $CARECAL_PASSWORD) wins,
    else the keyring's. Raises PasswordMissing, NoKeyring, KeyringFailed."""
    if given:
        return given
    settings = CalDAVSettings.of(account)
    if settings.store_password:
        stored = secrets.load_password(account.id)
        if stored:
            return stored
    raise secrets.PasswordMissing(
        f"no password for {account.name!r}: give it with --password-stdin or "
        f"${secrets.PASSWORD_ENV}"
        + (
            ""
            if not settings.store_password
            else ", or store it again with 'carecal accounts "
            f"password {account.name!r} --password-stdin'"
        )
    )


def set_password(repo: Repository, account: Account, password: str, *, actor: str) -> None:
    """Store a new password for the account in the keyring (and clear "needs sign-in").
    Raises NoKeyring, KeyringFailed."""
    secrets.store_password(account.id, password)
    changes: dict[str, object] = {"store_password": True, "needs_sign_in": False}
    _sync_store(repo).update_account_settings(account.id, changes, actor=actor)
