"""``carecal accounts add|list|remove|password`` and ``carecal calendars list`` (the Google
commands are in ``cmd_google``).

Main thread; disk I/O, and network for ``accounts add``. Only ``accounts add`` loads the CalDAV
provider (lazily, through services.accounts), so the listing commands stay light.

``accounts add`` without ``--calendars`` mirrors every event calendar the server offers (what a
practitioner with one or two calendars expects) and prints which ones it found;
``--calendars NAME,NAME`` mirrors only those.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from carecal.cli import EXIT_OK, UsageError
from carecal.cli.output import write_json, write_line, write_table
from carecal.domain.errors import AuthExpired, CarecalError
from carecal.domain.models import Account, ProviderKind
from carecal.services import accounts as svc
from carecal.services import secrets
from carecal.services.session import Session

if TYPE_CHECKING:
    from carecal.cli.run import SessionOpener


class SignInFailed(CarecalError):
    """The server refused the user name or password (with the preset's hint)."""


def read_password(args: argparse.Namespace, *, required: bool) -> str | None:
    """The password: one line of standard input with ``--password-stdin``, else
    $CARECAL_PASSWORD, else a prompt when a terminal is attached. Raises UsageError when
    ``required`` and none can be had."""
    if getattr(args, "password_stdin", False):
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin: standard input held no password")
        return password
    env = secrets.password_from_env()
    if env:
        return env
    if required and sys.stdin.isatty():
        import getpass  # only for a prompt; ``carecal sync`` imports this module for read_password

        return getpass.getpass("Password: ") or None
    if required:
        raise UsageError(f"give the password with --password-stdin or ${secrets.PASSWORD_ENV}")
    return None


def sign_in_error(exc: AuthExpired, preset: str) -> SignInFailed:
    """One line: the server's refusal plus, for a known service, how to get a password."""
    hint = svc.password_help(preset) if preset != "generic" else ""
    return SignInFailed(f"{exc}. {hint}".strip())


def add_account(open_store: SessionOpener, args: argparse.Namespace) -> int:
    """``accounts add caldav|google|outlook|docplanner``: the kind's own command. Opens the data
    folder itself (``open_store``): a CalDAV account starts talking to the server first."""
    if args.kind == "caldav":
        return add_caldav(open_store, args)
    with open_store() as session:
        if args.kind == "google":
            from carecal.cli import cmd_google

            return cmd_google.add_account(session, args)
        if args.kind == "outlook":
            from carecal.cli import cmd_outlook

            return cmd_outlook.add_account(session, args)
        from carecal.cli import cmd_docplanner

        return cmd_docplanner.add_account(session, args)


def _outlook(session: Session, name: str) -> Account | None:
    """The account ``name`` when it is an Outlook one (its commands are in cmd_outlook)."""
    account = svc.find_account(session.repo, name)
    return account if account.kind is ProviderKind.OUTLOOK else None


def add_caldav(open_store: SessionOpener, args: argparse.Namespace) -> int:
    """Discover the server's calendars, store the password in the keyring, mirror calendars and
    (unless ``--no-sync``) sync them at once. EXIT_ERROR when that first sync failed (the
    account stays).

    Discovery, and the download of the first chosen calendar's events, start on a thread of
    their own before the data folder opens: the server answers while the store's modules load
    and the account is recorded (a first sync of 1,000 events: 0.69 -> 0.62 s)."""
    password = read_password(args, required=True)
    assert password is not None
    if args.store_password:
        secrets.check_keyring()  # fail before the network when the password has nowhere to go
    discovery = svc.start_discovery(
        args.url or "", args.username, password, args.preset, args.calendars, download=args.sync
    )
    try:
        with open_store() as session:
            return _record_and_sync(session, args, password, discovery)
    finally:
        discovery.close()


def _record_and_sync(
    session: Session, args: argparse.Namespace, password: str, discovery: svc.Discovery
) -> int:
    try:
        found = discovery.calendars()
    except AuthExpired as exc:
        raise sign_in_error(exc, args.preset) from None
    if not found:
        raise CarecalError("the server answered but offers no event calendars to this user")
    chosen = svc.pick_calendars(found, args.calendars)
    account, mirrored = svc.add_caldav_account(
        session.repo,
        url=args.url or "",
        username=args.username,
        password=password,
        preset=args.preset,
        calendars=chosen,
        name=args.name,
        store_password=args.store_password,
        actor="cli",
    )
    write_line(f"Added account {account.name!r}; mirroring {len(mirrored)} of {len(found)}:")
    picked = {c.remote_id for c in chosen}
    for remote in found:
        mark = "x" if remote.remote_id in picked else " "
        ro = " (read-only)" if remote.read_only else ""
        write_line(f"  [{mark}] {remote.name}{ro}")
    if not args.store_password:
        write_line(
            "The password was not stored: give it on every sync with --password-stdin "
            f"or ${secrets.PASSWORD_ENV}."
        )
    if not args.sync:
        write_line("Run 'carecal sync' to bring their events here.")
        return EXIT_OK
    # What a practitioner expects after adding a calendar: its events, now (as the Accounts
    # window does), in this process, with the password already in hand and the discovery's
    # provider (its download of the first calendar under way or done).
    from carecal.cli.cmd_sync import sync_accounts

    write_line("Bringing their events here:")
    code = sync_accounts(session, [account], password, ready={account.id: discovery.provider})
    if code != EXIT_OK:
        write_line("The account is added; run 'carecal sync' to try the rest again.")
    return code


def sign_in_again(session: Session, args: argparse.Namespace) -> int:
    """``accounts signin NAME`` (Google, Outlook)."""
    from carecal.cli import cmd_google, cmd_outlook

    ms = _outlook(session, args.name)
    if ms is not None:
        return cmd_outlook.sign_in_again(session, ms, args)
    return cmd_google.sign_in_again(session, args)


def sign_out(session: Session, args: argparse.Namespace) -> int:
    """``accounts signout NAME`` (Google, Outlook)."""
    from carecal.cli import cmd_google, cmd_outlook

    ms = _outlook(session, args.name)
    if ms is not None:
        return cmd_outlook.sign_out(session, ms)
    return cmd_google.sign_out(session, args)


def set_account(session: Session, args: argparse.Namespace) -> int:
    """``accounts set NAME --privacy LEVEL`` (Google, Outlook)."""
    from carecal.cli import cmd_google, cmd_outlook

    ms = _outlook(session, args.name)
    if ms is not None:
        return cmd_outlook.set_account(session, ms, args.privacy)
    return cmd_google.set_account(session, args)


def list_accounts(session: Session, args: argparse.Namespace) -> int:
    from carecal.services import google_accounts as google  # not on every command's start-up

    accounts = svc.list_accounts(session.repo)
    statuses = svc.calendar_statuses(session.repo)
    records = []
    for account in accounts:
        cals = [s for s in statuses if s.calendar.account_id == account.id]
        record: dict[str, object] = {"id": account.id, "name": account.name}
        record["kind"] = account.kind.value
        if google.is_google(account):
            record.update(
                url=google.GoogleSettings.of(account).api_base,
                username=google.email_of(account) or "",
                preset="google",
                password_stored=False,
            )
        elif account.kind is ProviderKind.OUTLOOK:
            record.update(
                url=str(account.settings.get("api_base") or ""),
                username=str(account.settings.get("email") or ""),
                preset="outlook",
                password_stored=False,
            )
        elif account.kind is ProviderKind.DOCPLANNER:
            record.update(
                url=str(account.settings.get("domain") or ""),
                username=str(account.settings.get("client_hint") or ""),
                preset="docplanner",
                password_stored=True,
            )
        else:
            settings = svc.CalDAVSettings.of(account)
            record.update(
                url=settings.url,
                username=settings.username,
                preset=settings.preset,
                password_stored=settings.store_password,
            )
        record.update(
            needs_sign_in=bool(account.settings.get("needs_sign_in", False)),
            calendars=[s.calendar.name for s in cals],
            pending=sum(s.pending for s in cals),
            privacy=(
                google.privacy_of(account)
                if google.is_google(account) or account.kind is ProviderKind.OUTLOOK
                else None
            ),
            signed_out=bool(account.settings.get("signed_out", False)),
        )
        records.append(record)
    if args.format == "json":
        write_json(records)
        return EXIT_OK
    rows = [
        (
            r["name"],
            r["kind"],
            r["username"],
            r["url"],
            len(r["calendars"]),  # type: ignore[arg-type]
            r["pending"],
            "signed out" if r["signed_out"] else "sign in again" if r["needs_sign_in"] else "ok",
            r["id"],
        )
        for r in records
    ]
    write_table(
        ("NAME", "KIND", "USER", "URL", "CALENDARS", "UNSENT", "STATUS", "ID"),
        rows,
        empty="No accounts yet: add one with 'carecal accounts add caldav --url URL ...' or "
        "'carecal accounts add google' or 'carecal accounts add outlook'.",
    )
    return EXIT_OK


def remove_account(session: Session, args: argparse.Namespace) -> int:
    from carecal.services import google_accounts as google

    account = svc.find_account(session.repo, args.name)
    if google.is_google(account):
        from carecal.cli import cmd_google

        return cmd_google.remove_account(session, account, args.discard_unsent)
    if account.kind is ProviderKind.OUTLOOK:
        from carecal.cli import cmd_outlook

        return cmd_outlook.remove_account(session, account, args.discard_unsent)
    removal = svc.remove_account(
        session.repo, account, actor="cli", discard_unsent=args.discard_unsent
    )
    write_line(
        f"Removed account {account.name!r}: {removal.calendars} calendars and "
        f"{removal.events} events removed from this computer; nothing was deleted on the server."
    )
    return EXIT_OK


def set_password(session: Session, args: argparse.Namespace) -> int:
    account = svc.find_account(session.repo, args.name)
    password = read_password(args, required=True)
    assert password is not None
    svc.set_password(session.repo, account, password, actor="cli")
    write_line(f"Stored a new password for {account.name!r} in the system keyring.")
    return EXIT_OK


def list_calendars(session: Session, args: argparse.Namespace) -> int:
    """Mirrored calendars with their sync state. ``last_sync_at`` is when a sync last stored
    something for the calendar: a sync that finds nothing new writes nothing, so this is not
    the time of the last check (``carecal sync`` prints that run's result itself)."""
    statuses = svc.calendar_statuses(session.repo)
    records = [
        {
            "id": s.calendar.id,
            "name": s.calendar.name,
            "account": s.account_name,
            "account_id": s.calendar.account_id,
            "remote": s.calendar.remote_id is not None,
            "read_only": s.calendar.read_only,
            "last_sync_at": s.last_sync_at,
            "last_error": s.last_error,
            "pending": s.pending,
        }
        for s in statuses
    ]
    if args.format == "json":
        write_json(records)
        return EXIT_OK
    rows = [
        (
            s.calendar.name,
            s.account_name,
            "yes" if s.calendar.read_only else "",
            (s.last_sync_at or ("never" if s.calendar.remote_id else "-"))[:19],
            s.pending,
            s.last_error or "",
            s.calendar.id,
        )
        for s in statuses
    ]
    write_table(
        ("NAME", "ACCOUNT", "READ-ONLY", "LAST SYNCED CHANGE", "UNSENT", "ERROR", "ID"),
        rows,
        empty="No calendars.",
    )
    return EXIT_OK
