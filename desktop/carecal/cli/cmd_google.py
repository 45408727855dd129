"""``carecal accounts add google``, ``accounts signin|signout NAME``, ``accounts set NAME
--privacy LEVEL``: Google accounts on the command line.

Main thread; disk I/O and network. The sign-in opens the system browser when this computer has
a graphical session (``webbrowser``); otherwise, or with ``--no-browser``, it prints the address
to open and waits for the browser's redirect to come back to this computer. Ctrl+C, a timeout or
a refusal in the browser ends it with one line and a non-zero exit status; nothing is kept then.
"""

from __future__ import annotations

import argparse
import os
import sys
import webbrowser
from collections.abc import Callable, Sequence

from carecal.cli import EXIT_OK
from carecal.cli.output import out, write_line
from carecal.domain.errors import CarecalError
from carecal.domain.models import Account
from carecal.services import accounts as svc
from carecal.services import google_accounts as google
from carecal.services.accounts import RemoteCalendar
from carecal.services.session import Session


def _graphical() -> bool:
    """True when ``webbrowser`` would open a graphical browser, not take over this terminal
    with a text one (it falls back to lynx or w3m without a display)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def browser(no_browser: bool, remote: str = "Google") -> Callable[[str], object]:
    """What the sign-in calls with the address to open (on a worker thread); ``remote`` is who
    is signed in to ("Google", "Microsoft"). Also used by cmd_outlook."""

    def open_url(url: str) -> bool:
        opened = False
        if not no_browser and _graphical():
            write_line(f"Opening your browser to sign in to {remote}…")
            try:
                opened = bool(webbrowser.open(url))
            except webbrowser.Error:
                opened = False
        if opened:
            write_line("If it did not open, open this address in a browser on this computer:")
        else:
            write_line(f"Open this address in a browser on this computer to sign in to {remote}:")
        write_line(f"  {url}")
        write_line("Waiting for you to sign in (Ctrl+C cancels)…")
        out().flush()
        return opened

    return open_url


def _calendars(
    args: argparse.Namespace,
) -> Callable[[Sequence[RemoteCalendar]], Sequence[RemoteCalendar]]:
    def choose(found: Sequence[RemoteCalendar]) -> Sequence[RemoteCalendar]:
        if not found:
            raise CarecalError("the Google account offers no calendars to Carecal")
        return google.pick_calendars(found, args.calendars, every=args.all)

    return choose


def add_account(session: Session, args: argparse.Namespace) -> int:
    """Sign in through the browser, mirror the chosen calendars, keep the tokens in the
    keyring."""
    found: list[RemoteCalendar] = []
    pick = _calendars(args)

    def choose(offered: Sequence[RemoteCalendar]) -> Sequence[RemoteCalendar]:
        found.extend(offered)
        return pick(offered)

    added = google.add_google_account(
        session.repo,
        open_browser=browser(args.no_browser),
        client_id=args.client_id,
        choose=choose,
        name=args.name,
        privacy=args.privacy,
        timeout=args.timeout,
        actor="cli",
    )
    account = added.account
    email = google.email_of(account)
    write_line(f"Signed in{f' as {email}' if email else ''}.")
    write_mirrored(session, account, found, existed=added.existed)
    level = google.privacy_of(account)
    write_line(f"Privacy: {level}. {google.PRIVACY_HELP[level]}")
    write_line("Run 'carecal sync' to bring their events here.")
    return EXIT_OK


def write_mirrored(
    session: Session, account: Account, found: Sequence[RemoteCalendar], *, existed: bool
) -> None:
    """Print which of the ``found`` calendars the account just added (or, with ``existed``,
    signed in again) mirrors. Also used by cmd_outlook. Raises StoreError."""
    mirrored = {c.remote_id for c in session.repo.list_calendars() if c.account_id == account.id}
    count = sum(1 for c in found if c.remote_id in mirrored)
    if existed:
        write_line(
            f"{account.name!r} was already on this computer: signed in again; "
            f"mirroring {count} of {len(found)}:"
        )
    else:
        write_line(f"Added account {account.name!r}; mirroring {count} of {len(found)}:")
    for remote in found:
        mark = "x" if remote.remote_id in mirrored else " "
        ro = " (read-only)" if remote.read_only else ""
        write_line(f"  [{mark}] {remote.name}{ro}")


def _google(session: Session, name: str) -> Account:
    account = svc.find_account(session.repo, name)
    if not google.is_google(account):
        raise CarecalError(
            f"{account.name!r} is a {account.kind.value} account; store a new password with "
            f"'carecal accounts password {account.name!r} --password-stdin'"
        )
    return account


def sign_in_again(session: Session, args: argparse.Namespace) -> int:
    """A new browser sign-in for an account that needs it; its queued changes are kept."""
    account = _google(session, args.name)
    signin = google.sign_in_again_blocking(
        account, open_browser=browser(args.no_browser), timeout=args.timeout
    )
    google.finish_sign_in_again(session.repo, account, signin, actor="cli")
    pending = google.unsent_count(session.repo, account)
    write_line(f"Signed in to {account.name!r} again.")
    if pending:
        write_line(f"Its {pending} unsent changes go out with the next 'carecal sync'.")
    return EXIT_OK


def sign_out(session: Session, args: argparse.Namespace) -> int:
    """Revoke the account's access at Google and forget its tokens; the calendars stay."""
    account = _google(session, args.name)
    revoked = google.sign_out(session.repo, account, actor="cli")
    write_line(f"Signed out of {account.name!r}; its tokens were removed from the keyring.")
    if revoked:
        write_line("Google revoked Carecal's access.")
    else:
        write_line(
            "Google could not confirm the revocation; you can remove Carecal's access at "
            f"{google.PERMISSIONS_PAGE}."
        )
    write_line(
        f"Its calendars stay on this computer; 'carecal accounts signin {account.name!r}' "
        "syncs them again."
    )
    return EXIT_OK


def set_account(session: Session, args: argparse.Namespace) -> int:
    """Change what Google sees of the account's appointments."""
    account = google.set_privacy(
        session.repo, svc.find_account(session.repo, args.name), args.privacy, actor="cli"
    )
    level = google.privacy_of(account)
    write_line(f"Privacy of {account.name!r}: {level}. {google.PRIVACY_HELP[level]}")
    write_line("Entries already on Google are rewritten at this level by the next sync.")
    return EXIT_OK


def remove_account(session: Session, account: Account, discard_unsent: bool) -> int:
    """Sign out, then remove the account from this computer."""
    removal, revoked = google.remove_google_account(
        session.repo, account, actor="cli", discard_unsent=discard_unsent
    )
    write_line(
        f"Removed account {account.name!r}: {removal.calendars} calendars and "
        f"{removal.events} events removed from this computer; nothing was deleted on Google."
    )
    if revoked:
        write_line("Signed out: Google revoked Carecal's access.")
    else:
        write_line(
            "Google could not confirm the sign-out; you can remove Carecal's access at "
            f"{google.PERMISSIONS_PAGE}."
        )
    return EXIT_OK
