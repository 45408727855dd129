"""Google's side of an account: the OAuth client and endpoints, the tokens in the keyring, the
privacy level and the provider built from them.

An account's settings hold the OAuth client id (and the non-confidential desktop "secret" Google
asks for), the endpoints (tests point them at an emulator), the privacy level and the Google
address when it is known; the tokens live only in the OS keyring (net.tokens.KeyringTokenStore
through services.secrets). net.oauth (authlib, httpx) and the provider are imported only when
used, so ``carecal accounts list`` stays light.

Threads: any thread, except ``labels_from`` (the Repository's thread); the provider is used on
the sync worker's loop.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from carecal.domain.errors import CarecalError, ValidationError
from carecal.domain.models import Account, Patient, ProviderKind, Settings
from carecal.net.tokens import KeyringTokenStore
from carecal.services import secrets
from carecal.store.repo import Repository

if TYPE_CHECKING:
    from carecal.net.oauth import OAuthConfig, TokenSource
    from carecal.providers.google import GoogleProvider
    from carecal.providers.google_map import Labels

log = logging.getLogger(__name__)

SCOPES = (
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
)
AUTH_URI = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URI = "https://oauth2.googleapis.com/token"
REVOKE_URI = "https://oauth2.googleapis.com/revoke"
API_BASE = "https://www.googleapis.com/calendar/v3"
CLIENT_ID_ENV = "CARECAL_GOOGLE_CLIENT_ID"
CLIENT_SECRET_ENV = "CARECAL_GOOGLE_CLIENT_SECRET"
# Where a new account's endpoints come from when set (an emulator in tests, a proxy in an
# organisation that needs one); each account keeps the endpoints it was added with.
ENDPOINT_ENV = {
    "auth_uri": "CARECAL_GOOGLE_AUTH_URI",
    "token_uri": "CARECAL_GOOGLE_TOKEN_URI",
    "revoke_uri": "CARECAL_GOOGLE_REVOKE_URI",
    "api_base": "CARECAL_GOOGLE_API_BASE",
}
PERMISSIONS_PAGE = "https://myaccount.google.com/permissions"
DEFAULT_SIGN_IN_TIMEOUT = 300.0  # seconds; as net.oauth's

PRIVACY_LEVELS = ("full", "initials", "busy")
DEFAULT_PRIVACY = "initials"
PRIVACY_LABELS = {
    "full": "Full details",
    "initials": "Service and patient initials",
    "busy": "Only “Busy”",
}
PRIVACY_HELP = {
    "full": (
        "Google sees every appointment as it is here: title, patient name, notes, location and "
        "video link."
    ),
    "initials": (
        "Google sees the service and the patient's initials (“Physiotherapy · A.K.”) and the "
        "times; no notes, location or video link. Your own entries without a patient are sent "
        "in full."
    ),
    "busy": "Google sees only “Busy” and the times of every entry; nothing else leaves Carecal.",
}


class ClientIdMissing(CarecalError):
    """No OAuth client id was given, set or found in the environment."""

    def __init__(self) -> None:
        super().__init__(
            "no Google OAuth client id: give it with --client-id, in Settings, or in "
            f'${CLIENT_ID_ENV} (the README\'s "Google Calendar" section explains how to '
            "create one)"
        )


class NoKeyringForGoogle(CarecalError):
    """No keyring to keep a Google sign-in in (Carecal never falls back to a file)."""

    def __init__(self) -> None:
        super().__init__(
            "no system keyring is available to keep the Google sign-in safely (install a Secret "
            "Service provider such as GNOME Keyring or KWallet and sign in to a desktop "
            "session); Carecal never keeps Google tokens in a file"
        )


@dataclass(frozen=True, slots=True)
class GoogleSettings:
    """What an account keeps (in its settings JSON) to reach Google again. Any thread."""

    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    auth_uri: str = AUTH_URI
    token_uri: str = TOKEN_URI
    revoke_uri: str = REVOKE_URI
    api_base: str = API_BASE

    @classmethod
    def of(cls, account: Account) -> GoogleSettings:
        s = account.settings

        def text(key: str, default: str) -> str:
            value = s.get(key)
            return value if isinstance(value, str) and value else default

        secret = s.get("client_secret")
        return cls(
            client_id=text("client_id", ""),
            client_secret=secret if isinstance(secret, str) and secret else None,
            auth_uri=text("auth_uri", AUTH_URI),
            token_uri=text("token_uri", TOKEN_URI),
            revoke_uri=text("revoke_uri", REVOKE_URI),
            api_base=text("api_base", API_BASE),
        )

    def stored(self) -> dict[str, object]:
        """The account settings keys for these values."""
        out: dict[str, object] = {
            "client_id": self.client_id,
            "auth_uri": self.auth_uri,
            "token_uri": self.token_uri,
            "revoke_uri": self.revoke_uri,
            "api_base": self.api_base,
        }
        if self.client_secret:
            out["client_secret"] = self.client_secret
        return out


def resolve_client(
    app: Settings | None,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    endpoints: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> GoogleSettings:
    """The client and endpoints a new sign-in uses: the client id given, else the app's
    settings, else $CARECAL_GOOGLE_CLIENT_ID (the secret likewise, optional); endpoints from
    ``endpoints``, else $CARECAL_GOOGLE_*_URI / $CARECAL_GOOGLE_API_BASE, else Google's.
    Any thread. Raises ClientIdMissing."""
    env = os.environ if environ is None else environ
    cid = (client_id or "").strip() or (app.google_client_id if app else "").strip()
    cid = cid or env.get(CLIENT_ID_ENV, "").strip()
    if not cid:
        raise ClientIdMissing()
    secret = (client_secret or "").strip() or (app.google_client_secret if app else "").strip()
    secret = secret or env.get(CLIENT_SECRET_ENV, "").strip()
    given = dict(endpoints or {})
    urls = {key: (given.get(key) or env.get(var, "")).strip() for key, var in ENDPOINT_ENV.items()}
    return GoogleSettings(
        client_id=cid,
        client_secret=secret or None,
        auth_uri=urls["auth_uri"] or AUTH_URI,
        token_uri=urls["token_uri"] or TOKEN_URI,
        revoke_uri=urls["revoke_uri"] or REVOKE_URI,
        api_base=urls["api_base"] or API_BASE,
    )


def oauth_config(settings: GoogleSettings) -> OAuthConfig:
    """The OAuth client for Google: the two calendar scopes, offline access and a consent
    prompt (so every sign-in returns a refresh token). Any thread."""
    from carecal.net.oauth import OAuthConfig

    return OAuthConfig(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        authorize_url=settings.auth_uri,
        token_url=settings.token_uri,
        revoke_url=settings.revoke_uri,
        scopes=SCOPES,
        authorize_params={"access_type": "offline", "prompt": "consent"},
    )


def token_store() -> KeyringTokenStore:
    """The keyring-backed token store (one entry per account id). Any thread."""
    return KeyringTokenStore(
        store=secrets.store_password, load=secrets.load_password, delete=secrets.delete_password
    )


def check_keyring() -> None:
    """Raise NoKeyringForGoogle unless a keyring can keep the tokens. Any thread."""
    try:
        secrets.check_keyring()
    except secrets.NoKeyring:
        raise NoKeyringForGoogle() from None


def privacy_of(account: Account) -> str:
    """The account's privacy level (``full``, ``initials`` or ``busy``). Any thread."""
    value = account.settings.get("privacy")
    return value if isinstance(value, str) and value in PRIVACY_LEVELS else DEFAULT_PRIVACY


def check_privacy(level: str) -> str:
    """``level`` when it is a privacy level; raises ValidationError naming the levels."""
    if level not in PRIVACY_LEVELS:
        raise ValidationError(
            f"unknown privacy level {level!r}: choose one of {', '.join(PRIVACY_LEVELS)}"
        )
    return level


def email_of(account: Account) -> str | None:
    """The Google address the account signed in with, when known. Any thread."""
    value = account.settings.get("email")
    return value if isinstance(value, str) and value else None


def is_google(account: Account) -> bool:
    return account.kind is ProviderKind.GOOGLE


# --- the provider ---------------------------------------------------------------------------


def initials(patient: Patient) -> str:
    """Initials as a name's short form: "A.K." for Anna Kowalska, "A." for a first name alone.
    Any thread."""
    parts = [p for p in (patient.first_name, patient.last_name) if p.strip()]
    return "".join(p.strip()[0].upper() + "." for p in parts)


def labels_from(repo: Repository) -> Labels:
    """Patient initials and service names by id, for the provider's masked titles.
    The Repository's thread."""
    from carecal.providers.google_map import Labels

    return Labels(
        patient_initials={p.id: initials(p) for p in repo.list_patients()},
        service_names={s.id: s.name for s in repo.list_services()},
    )


def build_provider(
    auth: TokenSource, settings: GoogleSettings, privacy: str, labels: Labels | None
) -> GoogleProvider:
    from carecal.providers.google import GoogleProvider
    from carecal.providers.google_map import Privacy

    return GoogleProvider(auth, api_base=settings.api_base, privacy=Privacy(privacy), labels=labels)


def token_source(account: Account) -> TokenSource:
    """The account's tokens from the keyring, refreshed as needed. Any thread to build; use on
    one event loop."""
    from carecal.net.oauth import TokenSource

    return TokenSource(oauth_config(GoogleSettings.of(account)), token_store(), account.id)


def make_provider(account: Account, labels: Labels | None = None) -> GoogleProvider:
    """The Google provider of ``account`` (no network yet): keyring tokens, the account's
    privacy and ``labels``. Without tokens its first call raises AuthExpired (the engine then
    marks the account "needs sign-in"). Sync worker thread. Raises ValidationError for an
    account without a client id."""
    settings = GoogleSettings.of(account)
    if not settings.client_id:
        raise ValidationError(f"{account.name!r} has no Google OAuth client id; add it again")
    return build_provider(token_source(account), settings, privacy_of(account), labels)
