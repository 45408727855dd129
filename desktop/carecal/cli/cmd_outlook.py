"""``carecal accounts add outlook [--device-code]`` and ``accounts signin|signout|set|remove``
for Outlook / Microsoft 365 accounts on the command line.

Main thread; disk I/O and network. The browser sign-in opens the system browser when there is
a graphical session (else, or with ``--no-browser``, it prints the address and waits for the
redirect to come back to this computer); ``--device-code`` prints a code and Microsoft's
address to enter it at from any other device. Ctrl+C, a timeout or a refusal ends it with one
line and a non-zero exit status; nothing is kept then.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from carecal.cli import EXIT_OK
from carecal.cli.cmd_google import browser, write_mirrored
from carecal.cli.output import out, write_line
from carecal.domain.errors import CarecalError
from carecal.domain.models import Account
from carecal.services import outlook_accounts as outlook
from carecal.services import outlook_client
from carecal.services.accounts import RemoteCalendar
from carecal.services.google_accounts import unsent_count
from carecal.services.session import Session

CONSENT_PAGES = (
    "https://account.live.com/consent/Manage (personal accounts) or "
    "https://myapps.microsoft.com (work and school accounts)"
)


def show_code(code: outlook.DeviceCode) -> None:
    """Print the device code and where to enter it."""
    write_line(f"On any device, open {code.verification_uri} and enter the code {code.user_code}")
    write_line("Waiting for you to sign in there (Ctrl+C cancels)…")
    out().flush()


def _flow(args: argparse.Namespace) -> dict[str, object]:
    if getattr(args, "device_code", False):
        return {"show_code": show_code}
    return {"open_browser": browser(args.no_browser, "Microsoft")}


def add_account(session: Session, args: argparse.Namespace) -> int:
    """Sign in, mirror the chosen calendars, keep MSAL's cache in the keyring."""
    found: list[RemoteCalendar] = []

    def choose(offered: Sequence[RemoteCalendar]) -> Sequence[RemoteCalendar]:
        if not offered:
            raise CarecalError("the Microsoft account offers no calendars to Carecal")
        found.extend(offered)
        return outlook.pick_calendars(offered, args.calendars, every=args.all)

    added = outlook.add_outlook_account(
        session.repo,
        client_id=args.client_id,
        choose=choose,
        name=args.name,
        privacy=args.privacy,
        timeout=args.timeout,
        actor="cli",
        **_flow(args),  # type: ignore[arg-type]
    )
    account = added.account
    email = outlook_client.email_of(account)
    write_line(f"Signed in{f' as {email}' if email else ''}.")
    write_mirrored(session, account, found, existed=added.existed)
    level = outlook_client.privacy_of(account)
    help_text = outlook_client.PRIVACY_HELP[level]
    write_line(f"Privacy: {level}. {help_text}")
    write_line("Run 'carecal sync' to bring their events here.")
    return EXIT_OK


def sign_in_again(session: Session, account: Account, args: argparse.Namespace) -> int:
    """A new sign-in for an account that needs it; its queued changes are kept."""
    settings = outlook_client.OutlookSettings.of(account)
    if not settings.client_id:
        raise outlook_client.ClientIdMissing()
    outlook_client.check_keyring()
    signin = outlook.sign_in_blocking(
        settings,
        device=bool(getattr(args, "device_code", False)),
        timeout=args.timeout,
        **_flow(args),
    )
    outlook.finish_sign_in_again(session.repo, account, signin, actor="cli")
    pending = unsent_count(session.repo, account)
    write_line(f"Signed in to {account.name!r} again.")
    if pending:
        write_line(f"Its {pending} unsent changes go out with the next 'carecal sync'.")
    return EXIT_OK


def sign_out(session: Session, account: Account) -> int:
    """Forget the account's sign-in on this computer; the calendars stay."""
    outlook.sign_out(session.repo, account, actor="cli")
    write_line(f"Signed out of {account.name!r}; its sign-in was removed from the keyring.")
    write_line(f"To remove Carecal's access at Microsoft as well, see {CONSENT_PAGES}.")
    write_line(
        f"Its calendars stay on this computer; 'carecal accounts signin {account.name!r}' "
        "syncs them again."
    )
    return EXIT_OK


def set_account(session: Session, account: Account, level: str) -> int:
    """Change what Outlook sees of the account's appointments."""
    account = outlook.set_privacy(session.repo, account, level, actor="cli")
    level = outlook_client.privacy_of(account)
    help_text = outlook_client.PRIVACY_HELP[level]
    write_line(f"Privacy of {account.name!r}: {level}. {help_text}")
    write_line("Entries already in Outlook change when they are next edited.")
    return EXIT_OK


def remove_account(session: Session, account: Account, discard_unsent: bool) -> int:
    """Forget the sign-in, then remove the account from this computer."""
    removal = outlook.remove_outlook_account(
        session.repo, account, actor="cli", discard_unsent=discard_unsent
    )
    write_line(
        f"Removed account {account.name!r}: {removal.calendars} calendars and "
        f"{removal.events} events removed from this computer; nothing was deleted in Outlook."
    )
    return EXIT_OK
