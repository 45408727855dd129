"""Microsoft's side of an Outlook account: the app registration (client id) and authority,
MSAL's token cache in the OS keyring, the privacy level and the provider built from them.

Sign-in goes through MSAL (Microsoft's own library, a public client: no secret). Its
``SerializableTokenCache`` is kept only in the OS keyring (one entry per account, the same
entry a Google account keeps its tokens in), never in a file; it is loaded when a provider is
built and saved whenever MSAL changed it (each refresh rotates the refresh token). MSAL's HTTP
goes through ``carecal.net.msal_http``.

An account's settings hold the client id, the authority (Microsoft's by default; tests point it
at an emulator), the Graph API base, the privacy level and the account's address.

Threads: MSAL is synchronous; ``MsalTokens``' coroutines run its calls in a worker thread
(``asyncio.to_thread``) from the sync worker's loop. The rest: any thread, except
``labels_from`` (the Repository's thread).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from carecal.domain.errors import AuthExpired, CarecalError, TransientError, ValidationError
from carecal.domain.models import Account, ProviderKind, Settings
from carecal.net.tokens import TokenSet
from carecal.services import secrets
from carecal.services.google_client import (
    DEFAULT_PRIVACY,
    PRIVACY_LEVELS,
    check_privacy,
    labels_from,
    privacy_of,
)
from carecal.services.google_client import (
    PRIVACY_HELP as GOOGLE_PRIVACY_HELP,
)

if TYPE_CHECKING:
    import msal

    from carecal.net.msal_http import MsalHttp
    from carecal.providers.google_map import Labels
    from carecal.providers.outlook import OutlookProvider

__all__ = [
    "DEFAULT_PRIVACY",
    "PRIVACY_LEVELS",
    "check_privacy",
    "labels_from",
    "privacy_of",
]

log = logging.getLogger(__name__)

# Calendars.ReadWrite, named in full as Microsoft's token answers name it (so MSAL finds its
# cached access token); MSAL adds openid, profile and offline_access (the refresh token) itself.
SCOPES = ("https://graph.microsoft.com/Calendars.ReadWrite",)
AUTHORITY = "https://login.microsoftonline.com/common"
API_BASE = "https://graph.microsoft.com/v1.0"
CLIENT_ID_ENV = "CARECAL_MS_CLIENT_ID"
AUTHORITY_ENV = "CARECAL_MS_AUTHORITY"
API_BASE_ENV = "CARECAL_MS_API_BASE"
DEFAULT_SIGN_IN_TIMEOUT = 300.0
# The same levels as Google's, worded for Outlook.
PRIVACY_HELP = {
    level: text.replace("Google", "Outlook") for level, text in GOOGLE_PRIVACY_HELP.items()
}
_CACHE_PREFIX = "msal:"  # the keyring entry holds MSAL's cache, marked so it is never misread
_CACHE_PART = 1000  # characters per keyring entry: Windows takes 2,560 bytes of UTF-16


class ClientIdMissing(CarecalError):
    """No Microsoft app registration (client id) was given, set or found in the environment."""

    def __init__(self) -> None:
        super().__init__(
            "no Microsoft client id: give it with --client-id, in Settings, or in "
            f'${CLIENT_ID_ENV} (the README\'s "Outlook and Microsoft 365" section explains how '
            "to register Carecal in Microsoft Entra)"
        )


class NoKeyringForOutlook(CarecalError):
    """No keyring to keep a Microsoft sign-in in (Carecal never falls back to a file)."""

    def __init__(self) -> None:
        super().__init__(
            "no system keyring is available to keep the Microsoft sign-in safely (install a "
            "Secret Service provider such as GNOME Keyring or KWallet); Carecal never keeps "
            "Microsoft tokens in a file"
        )


@dataclass(frozen=True, slots=True)
class OutlookSettings:
    """What an account keeps (in its settings JSON) to reach Microsoft again. Any thread."""

    client_id: str
    authority: str = AUTHORITY
    api_base: str = API_BASE

    @classmethod
    def of(cls, account: Account) -> OutlookSettings:
        s = account.settings

        def text(key: str, default: str) -> str:
            value = s.get(key)
            return value if isinstance(value, str) and value else default

        return cls(text("client_id", ""), text("authority", AUTHORITY), text("api_base", API_BASE))

    def stored(self) -> dict[str, object]:
        return {"client_id": self.client_id, "authority": self.authority,
                "api_base": self.api_base}  # fmt: skip


def resolve_client(
    app: Settings | None,
    *,
    client_id: str | None = None,
    authority: str | None = None,
    api_base: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> OutlookSettings:
    """The registration a new sign-in uses: the client id given, else the app's settings, else
    $CARECAL_MS_CLIENT_ID; the authority given, else the settings', else $CARECAL_MS_AUTHORITY,
    else Microsoft's ("common": work, school and personal accounts); the API base likewise
    ($CARECAL_MS_API_BASE). Any thread. Raises ClientIdMissing."""
    env = os.environ if environ is None else environ
    cid = (client_id or "").strip() or (app.ms_client_id if app else "").strip()
    cid = cid or env.get(CLIENT_ID_ENV, "").strip()
    if not cid:
        raise ClientIdMissing()
    auth = (authority or "").strip() or (app.ms_authority if app else "").strip()
    auth = auth or env.get(AUTHORITY_ENV, "").strip() or AUTHORITY
    api = (api_base or "").strip() or env.get(API_BASE_ENV, "").strip() or API_BASE
    return OutlookSettings(cid, auth.rstrip("/"), api.rstrip("/"))


def check_keyring() -> None:
    """Raise NoKeyringForOutlook unless a keyring can keep the cache. Any thread."""
    try:
        secrets.check_keyring()
    except secrets.NoKeyring:
        raise NoKeyringForOutlook() from None


def is_outlook(account: Account) -> bool:
    return account.kind is ProviderKind.OUTLOOK


def email_of(account: Account) -> str | None:
    value = account.settings.get("email")
    return value if isinstance(value, str) and value else None


# --- MSAL -------------------------------------------------------------------------------------


class CacheStore:
    """Where an account's MSAL cache lives: the keyring entries of ``account_id`` (or, before
    the account exists, memory only: ``account_id`` None). Any thread; the keyring calls raise
    NoKeyring, KeyringFailed.

    MSAL's cache (about 3.5 KB) is larger than one Windows Credential Manager entry takes
    (2,560 bytes, UTF-16), so it is kept in parts of at most ``_CACHE_PART`` characters: the
    account's own entry says how many parts there are and holds the first; the others live
    under "<account id>#<n>". A part that is missing makes the whole cache unreadable (the
    account then needs sign-in), never a half-read cache."""

    def __init__(self, account_id: str | None, text: str | None = None) -> None:
        self.account_id = account_id
        self.text = text

    def load(self) -> str | None:
        if self.account_id is None:
            return self.text
        stored = secrets.load_password(self.account_id)
        if stored is None or not stored.startswith(_CACHE_PREFIX):
            return None
        head = stored[len(_CACHE_PREFIX) :]
        count, sep, first = head.partition(":")
        if not sep or not count.isdigit() or int(count) < 1:
            return None
        parts = [first]
        for n in range(1, int(count)):
            part = secrets.load_password(f"{self.account_id}#{n}")
            if part is None:
                return None
            parts.append(part)
        return "".join(parts)

    def save(self, text: str) -> None:
        self.text = text
        if self.account_id is None:
            return
        before = self._count()
        parts = [text[i : i + _CACHE_PART] for i in range(0, len(text), _CACHE_PART)] or [""]
        # The later parts first: the head, written last, makes the new cache the one read.
        for n in range(1, len(parts)):
            secrets.store_password(f"{self.account_id}#{n}", parts[n])
        secrets.store_password(self.account_id, f"{_CACHE_PREFIX}{len(parts)}:{parts[0]}")
        self._drop_parts(len(parts), before)

    def delete(self) -> None:
        self.text = None
        if self.account_id is not None:
            before = self._count()
            secrets.delete_password(self.account_id)
            self._drop_parts(1, before)

    def _count(self) -> int:
        """How many parts the stored cache says it has (0 when none is readable)."""
        assert self.account_id is not None
        stored = secrets.load_password(self.account_id)
        if stored is None or not stored.startswith(_CACHE_PREFIX):
            return 0
        count = stored[len(_CACHE_PREFIX) :].partition(":")[0]
        return int(count) if count.isdigit() else 0

    def _drop_parts(self, first: int, known: int) -> None:
        """Delete the parts from ``first`` on: every one the old head counted (some may be
        missing already), then any further ones up to the first gap."""
        assert self.account_id is not None
        for n in range(first, known):
            secrets.delete_password(f"{self.account_id}#{n}")
        n = max(first, known)
        while secrets.delete_password(f"{self.account_id}#{n}"):
            n += 1


def msal_app(
    settings: OutlookSettings, cache: msal.SerializableTokenCache, http: MsalHttp | None = None
) -> tuple[msal.PublicClientApplication, MsalHttp]:
    """MSAL's public client for ``settings`` with ``cache``, talking through Carecal's HTTP
    client (an http authority on a loopback address, a test emulator, goes over http; see
    net.msal_http). Worker thread: MSAL reads the authority's OpenID configuration here.
    Raises TransientError (network), SignInFailed (an authority MSAL refuses)."""
    import msal

    from carecal.net.errors import SignInFailed
    from carecal.net.msal_http import MsalHttp, msal_authority

    authority, plain = msal_authority(settings.authority)
    client = http or MsalHttp(plain_host=plain)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            app = msal.PublicClientApplication(
                settings.client_id,
                authority=authority,
                token_cache=cache,
                http_client=client,
                # Microsoft's instance discovery only knows Microsoft's own authorities.
                instance_discovery=None if settings.authority == AUTHORITY else False,
            )
    except ValueError as exc:
        raise SignInFailed(f"Microsoft's sign-in address is not usable ({exc})") from None
    except CarecalError:
        raise
    except Exception as exc:  # MSAL's own errors reading the authority
        raise TransientError(
            f"Microsoft's sign-in service could not be read ({type(exc).__name__})"
        ) from None
    return app, client


def _is_dead(result: Mapping[str, Any]) -> bool:
    error = str(result.get("error") or "")
    return error in ("invalid_grant", "interaction_required", "consent_required", "login_required")


class MsalTokens:
    """One account's access token from MSAL's cache (silent acquisition, refreshing with the
    refresh token when needed), the cache written back to the keyring whenever MSAL changed
    it. ``headers`` and ``refresh`` are coroutines for the provider (OutlookAuth); MSAL itself
    runs in a worker thread. Raises AuthExpired when MSAL holds no usable sign-in (invalid_grant:
    the account needs sign-in, its queue is kept), TransientError, KeyringFailed."""

    def __init__(self, settings: OutlookSettings, store: CacheStore) -> None:
        self._settings = settings
        self._store = store
        self._lock = threading.Lock()
        self._app: msal.PublicClientApplication | None = None
        self._cache: msal.SerializableTokenCache | None = None
        self._http: MsalHttp | None = None

    def _ensure(self) -> msal.PublicClientApplication:
        import msal

        if self._app is None:
            cache = msal.SerializableTokenCache()
            text = self._store.load()
            if text:
                try:
                    cache.deserialize(text)
                except ValueError:
                    log.warning("the saved Microsoft sign-in could not be read")
            self._cache = cache
            self._app, self._http = msal_app(self._settings, cache)
        return self._app

    def _persist(self) -> None:
        if self._cache is not None and self._cache.has_state_changed:
            self._store.save(self._cache.serialize())
            self._cache.has_state_changed = False

    def token(self, force: bool = False) -> str:
        """An access token (worker thread). Raises as the class docstring says."""
        with self._lock:
            app = self._ensure()
            accounts = app.get_accounts()
            if not accounts:
                raise AuthExpired("this Outlook account is not signed in; sign in again")
            result = app.acquire_token_silent_with_error(
                list(SCOPES), accounts[0], force_refresh=force
            )
            self._persist()
        if result is None:
            raise AuthExpired("the saved Microsoft sign-in has expired; sign in again")
        if "access_token" in result:
            return str(result["access_token"])
        if _is_dead(result):
            codes = result.get("error_codes") or []
            log.info("Microsoft refused the saved sign-in (%s %s)", result.get("error"), codes)
            raise AuthExpired("Microsoft no longer accepts the saved sign-in; sign in again")
        raise TransientError(
            f"Microsoft's sign-in service answered {str(result.get('error'))[:40]}; will try again"
        )

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await asyncio.to_thread(self.token, False)}"}

    async def refresh(self, stale: TokenSet | None = None) -> TokenSet:
        return TokenSet(await asyncio.to_thread(self.token, True))

    def close(self) -> None:
        if self._http is not None:
            self._http.close()


def window_of(account: Account) -> tuple[float, float]:
    """(days back, days ahead) of the account's sync window: its settings ``window_back_days``
    and ``window_ahead_days`` when they are positive numbers, else 90 and 548 (18 months).
    Any thread."""

    def days(key: str, default: float) -> float:
        value = account.settings.get(key)
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        return float(value) if ok else default  # type: ignore[arg-type]

    return days("window_back_days", 90.0), days("window_ahead_days", 548.0)


def build_provider(
    auth: MsalTokens,
    settings: OutlookSettings,
    privacy: str,
    labels: Labels | None,
    window: tuple[float, float] | None = None,
) -> OutlookProvider:
    from carecal.providers.google_map import Privacy
    from carecal.providers.outlook import OutlookProvider, Window

    span = Window(back=window[0], ahead=window[1]) if window else None
    return OutlookProvider(
        auth, api_base=settings.api_base, privacy=Privacy(privacy), labels=labels, window=span
    )


def make_provider(account: Account, labels: Labels | None = None) -> OutlookProvider:
    """The Outlook provider of ``account`` (no network yet): MSAL's cache from the keyring, the
    account's privacy, sync window (``window_of``) and ``labels``. Without a sign-in its first
    call raises AuthExpired (the engine then marks the account "needs sign-in"). Sync worker
    thread. Raises ValidationError for an account without a client id."""
    settings = OutlookSettings.of(account)
    if not settings.client_id:
        raise ValidationError(f"{account.name!r} has no Microsoft client id; add it again")
    tokens = MsalTokens(settings, CacheStore(account.id))
    return build_provider(tokens, settings, privacy_of(account), labels, window_of(account))
