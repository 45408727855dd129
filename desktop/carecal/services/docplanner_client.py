"""Docplanner accounts: the country domain in the account's settings, the API client id and
secret in the OS keyring only, and the API connection built from them.

An account's settings hold the domain (``znanylekarz.pl`` ...) and the host the API is reached
at (``https://www.{domain}``; $CARECAL_DOCPLANNER_HOST replaces it when a new account is added,
for an emulator or a proxy). The client id and secret are one keyring entry under the account's
id, as JSON; they are read only when a token is needed and never written anywhere else.

Threads: any thread to build; the API's coroutines run on the sync worker's loop (or a private
one for the command line). Functions taking a Repository run on its thread and raise StoreError
besides the errors they name.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from carecal.domain.errors import AuthExpired, CarecalError, ValidationError
from carecal.domain.models import Account, ProviderKind, new_id
from carecal.providers.docplanner_types import COUNTRY_DOMAINS, Facility, normalize_domain
from carecal.services import accounts as svc
from carecal.services import secrets
from carecal.store.repo import Repository

if TYPE_CHECKING:
    from carecal.net.jsonapi import Transport
    from carecal.providers.docplanner_api import Credentials, DocplannerApi, Sleep
    from carecal.services.docplanner_sync import DocplannerReport

T = TypeVar("T")

HOST_ENV = "CARECAL_DOCPLANNER_HOST"
DEFAULT_HOST = "https://www.{domain}"


class NoKeyringForDocplanner(CarecalError):
    """No keyring to keep the API client's secret in (Carecal never falls back to a file)."""

    def __init__(self) -> None:
        super().__init__(
            "no system keyring is available to keep the Docplanner client secret safely "
            "(install a Secret Service provider such as GNOME Keyring or KWallet); Carecal never "
            "keeps it in a file"
        )


class CredentialsMissing(CarecalError):
    """The account's client id and secret are not in the keyring."""


@dataclass(frozen=True, slots=True)
class DocplannerSettings:
    """What a Docplanner account keeps in its settings JSON (no secrets)."""

    domain: str
    host_template: str = DEFAULT_HOST

    @classmethod
    def of(cls, account: Account) -> DocplannerSettings:
        domain = account.settings.get("domain")
        host = account.settings.get("host_template")
        return cls(
            domain=domain if isinstance(domain, str) else "",
            host_template=host if isinstance(host, str) and host else DEFAULT_HOST,
        )

    def stored(self) -> dict[str, object]:
        return {"domain": self.domain, "host_template": self.host_template}


def is_docplanner(account: Account) -> bool:
    return account.kind is ProviderKind.DOCPLANNER


def check_domain(text: str) -> str:
    """The documented domain for a country code or domain. Raises ValidationError."""
    try:
        return normalize_domain(text)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def countries() -> dict[str, str]:
    """Country code -> domain, for help texts and the wizard. Any thread."""
    return dict(COUNTRY_DOMAINS)


# --- the keyring ------------------------------------------------------------------------------


def store_credentials(account_id: str, client_id: str, client_secret: str) -> None:
    """Keep the API client's id and secret in the keyring. Raises NoKeyringForDocplanner,
    KeyringFailed."""
    try:
        secrets.store_password(
            account_id, json.dumps({"client_id": client_id, "client_secret": client_secret})
        )
    except secrets.NoKeyring:
        raise NoKeyringForDocplanner() from None


def load_credentials(account_id: str) -> Credentials:
    """The API client's id and secret from the keyring. Raises CredentialsMissing,
    NoKeyringForDocplanner, KeyringFailed."""
    from carecal.providers.docplanner_api import Credentials

    try:
        text = secrets.load_password(account_id)
    except secrets.NoKeyring:
        raise NoKeyringForDocplanner() from None
    try:
        data = json.loads(text or "")
        return Credentials(str(data["client_id"]), str(data["client_secret"]))
    except (ValueError, KeyError, TypeError):
        raise CredentialsMissing(
            "the Docplanner client id and secret are not in the keyring; add the account again"
        ) from None


# --- the connection ---------------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(UTC)


def make_api(
    settings: DocplannerSettings,
    credentials: Callable[[], Credentials],
    *,
    clock: Callable[[], datetime] = _utcnow,
    sleep: Sleep | None = None,
    transport: Transport | None = None,
) -> DocplannerApi:
    """The API connection (no network yet). Raises ValidationError for an unknown domain."""
    from carecal.providers.docplanner_api import DocplannerApi

    domain = check_domain(settings.domain)
    kwargs: dict[str, object] = {}
    if sleep is not None:
        kwargs["sleep"] = sleep
    return DocplannerApi(
        domain,
        credentials,
        host_template=settings.host_template,
        clock=clock,
        transport=transport,
        **kwargs,  # type: ignore[arg-type]
    )


def api_for(
    account: Account,
    *,
    clock: Callable[[], datetime] = _utcnow,
    sleep: Sleep | None = None,
) -> DocplannerApi:
    """The account's API connection, its credentials read from the keyring on first use.
    Raises ValidationError."""
    return make_api(
        DocplannerSettings.of(account),
        lambda: load_credentials(account.id),
        clock=clock,
        sleep=sleep,
    )


def run_blocking(api: DocplannerApi, work: Callable[[DocplannerApi], Awaitable[T]]) -> T:
    """``work(api)`` on a private event loop, the connection closed after. Blocks on the
    network (never the GUI thread). Raises what ``work`` raises."""

    async def run() -> T:
        try:
            return await work(api)
        finally:
            await api.close()

    return asyncio.run(run())


async def check_client(api: DocplannerApi) -> list[Facility]:
    """Sign in with the client credentials and list the facilities granted to the client.
    Raises AuthExpired (wrong id or secret), TransientError, RemoteError."""
    from carecal.providers.docplanner_types import items

    data = await api.get("/facilities")
    return [Facility.of(i) for i in items(data)]


def probe_client(domain: str, client_id: str, client_secret: str) -> list[Facility]:
    """Sign in with these credentials and list the facilities granted to the client; nothing
    is kept (the Accounts page's "Test connection"). The host as ``add_account`` picks it.
    Blocks on the network (never the GUI thread). Raises ValidationError, AuthExpired,
    TransientError, RemoteError."""
    from carecal.providers.docplanner_api import Credentials

    host = os.environ.get(HOST_ENV, "").strip() or DEFAULT_HOST
    creds = Credentials(client_id.strip(), client_secret.strip())
    api = make_api(DocplannerSettings(check_domain(domain), host), lambda: creds)
    return run_blocking(api, check_client)


def add_account(
    repo: Repository,
    *,
    domain: str,
    client_id: str,
    client_secret: str,
    name: str | None = None,
    host_template: str | None = None,
    actor: str,
) -> tuple[Account, list[Facility]]:
    """Check the credentials against Docplanner (a token and the facility list), then keep them
    in the keyring and add the account. The same domain and client id added twice is the same
    account: its secret is replaced. Blocks on the network (never the GUI thread). Raises
    ValidationError, AuthExpired, TransientError, NoKeyringForDocplanner, KeyringFailed."""
    client_id, client_secret = client_id.strip(), client_secret.strip()
    if not client_id or not client_secret:
        raise ValidationError("give the Docplanner API client id and secret")
    try:
        secrets.check_keyring()
    except secrets.NoKeyring:
        raise NoKeyringForDocplanner() from None
    host = (host_template or os.environ.get(HOST_ENV, "")).strip() or DEFAULT_HOST
    settings = DocplannerSettings(check_domain(domain), host)
    from carecal.providers.docplanner_api import Credentials

    creds = Credentials(client_id, client_secret)
    api = make_api(settings, lambda: creds)
    try:
        facilities = run_blocking(api, check_client)
    except AuthExpired as exc:
        raise AuthExpired(f"{exc} (nothing was added)") from None
    existing = _same_account(repo, settings.domain, client_id)
    if existing is not None:
        store_credentials(existing.id, client_id, client_secret)
        return existing, facilities
    account = Account(
        id=new_id(),
        kind=ProviderKind.DOCPLANNER,
        name=svc.unique_name(
            name or f"Docplanner ({settings.domain})",
            {a.name.casefold() for a in svc.list_accounts(repo)},
        ),
        settings={**settings.stored(), "client_hint": _hint(client_id)},
    )
    store_credentials(account.id, client_id, client_secret)
    try:
        repo.add_account(account, actor=actor)
    except CarecalError:
        secrets.delete_password(account.id)
        raise
    return account, facilities


def _hint(client_id: str) -> str:
    """A short, non-secret reminder of which API client an account uses (its last 4 chars)."""
    return "…" + client_id[-4:] if len(client_id) > 4 else "…"


def _same_account(repo: Repository, domain: str, client_id: str) -> Account | None:
    for account in svc.list_accounts(repo):
        if not is_docplanner(account) or DocplannerSettings.of(account).domain != domain:
            continue
        try:
            if load_credentials(account.id).client_id == client_id:
                return account
        except CarecalError:
            continue
    return None


def docplanner_accounts(repo: Repository) -> list[Account]:
    """Every Docplanner account, oldest first."""
    return [a for a in svc.list_accounts(repo) if is_docplanner(a)]


def find_account(repo: Repository, name: str | None) -> Account:
    """The Docplanner account named ``name`` (or the only one). Raises NotFound,
    ValidationError when several exist and none is named."""
    from carecal.domain.errors import NotFound

    found = docplanner_accounts(repo)
    if name:
        account = svc.find_account(repo, name)
        if not is_docplanner(account):
            raise ValidationError(f"{account.name!r} is not a Docplanner account")
        return account
    if not found:
        raise NotFound(
            "no Docplanner account yet: add one with 'carecal accounts add docplanner "
            "--domain DOMAIN --client-id ID --client-secret-stdin'"
        )
    if len(found) > 1:
        names = ", ".join(repr(a.name) for a in found)
        raise ValidationError(f"several Docplanner accounts ({names}): name one with --account")
    return found[0]


async def sync_account_now(repo: Repository, account: Account) -> DocplannerReport:
    """One Docplanner cycle for ``account`` (services.docplanner_sync) with its keyring
    credentials, on the caller's loop; the connection is closed after. Raises nothing that
    is a CarecalError: failures are in the report's ``errors``."""
    from carecal.services.docplanner_sync import DocplannerReport, sync_docplanner

    try:
        api = api_for(account)
    except CarecalError as exc:
        return DocplannerReport(account.name, errors=[str(exc)])
    try:
        return await sync_docplanner(repo, account, api)
    finally:
        await api.close()
