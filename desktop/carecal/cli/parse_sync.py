"""The command tree of ``carecal accounts|calendars|sync|outbox|conflicts`` (argparse only).

Any thread; imports nothing heavy.
"""

from __future__ import annotations

import argparse
from typing import Any

PRESETS = ("generic", "icloud", "nextcloud", "fastmail")
PRIVACY = ("full", "initials", "busy")  # services.google_accounts.PRIVACY_LEVELS


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one calendar name")
    return names


def _password_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )


def _calendar_options(cmd: argparse.ArgumentParser, every: str) -> None:
    which = cmd.add_mutually_exclusive_group()
    which.add_argument("--calendars", type=_names, metavar="NAME,NAME", help="only these calendars")
    which.add_argument("--all", action="store_true", help=every)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("give a positive number of seconds")
    return value


def _browser_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "--no-browser",
        action="store_true",
        help="do not open a browser: print the address to open and wait for the sign-in",
    )
    cmd.add_argument(
        "--timeout",
        type=_seconds,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for the sign-in in the browser (default: 300)",
    )


def _device_option(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "--device-code",
        action="store_true",
        help="Outlook: sign in on another device with a code (for a computer without a browser)",
    )


def add_sync_commands(sub: Any, plain: argparse.ArgumentParser, listing: Any) -> None:
    """Add the account and sync commands to the ``carecal`` subparsers. Any thread."""
    accounts = sub.add_parser("accounts", parents=[plain], help="remote calendar accounts")
    ac = accounts.add_subparsers(dest="action", metavar="ACTION", required=True)
    ac.add_parser("list", parents=[listing], help="the remote accounts")

    add = ac.add_parser("add", parents=[plain], help="add an account after signing in to it")
    kinds = add.add_subparsers(dest="kind", metavar="KIND", required=True)

    dav = kinds.add_parser(
        "caldav", parents=[plain], help="a CalDAV server (iCloud, Nextcloud ...)"
    )
    dav.add_argument("--url", default=None, help="server address, a domain or a calendar URL")
    dav.add_argument("--username", required=True)
    _password_options(dav)
    dav.add_argument("--preset", choices=PRESETS, default="generic")
    dav.add_argument("--name", default=None, help="what to call the account here")
    _calendar_options(dav, "every calendar found (the default)")
    dav.add_argument(
        "--no-store-password",
        dest="store_password",
        action="store_false",
        help="do not keep the password in the system keyring; give it on every sync",
    )
    dav.add_argument(
        "--no-sync",
        dest="sync",
        action="store_false",
        help="only add the account; its events come with the next 'carecal sync'",
    )

    google = kinds.add_parser(
        "google", parents=[plain], help="a Google account (signs in through the browser)"
    )
    google.add_argument(
        "--client-id",
        default=None,
        metavar="ID",
        help="the OAuth client id (default: Settings, then $CARECAL_GOOGLE_CLIENT_ID)",
    )
    google.add_argument("--name", default=None, help="what to call the account here")
    google.add_argument(
        "--privacy",
        choices=PRIVACY,
        default=None,
        help="what Google sees of an appointment (default: initials)",
    )
    _calendar_options(google, "every calendar, also read-only ones (default: the writable ones)")
    _browser_options(google)

    ms = kinds.add_parser(
        "outlook",
        parents=[plain],
        help="an Outlook.com or Microsoft 365 account (signs in through the browser)",
    )
    ms.add_argument(
        "--client-id",
        default=None,
        metavar="ID",
        help="the app registration's client id (default: Settings, then $CARECAL_MS_CLIENT_ID)",
    )
    ms.add_argument("--name", default=None, help="what to call the account here")
    ms.add_argument(
        "--privacy",
        choices=PRIVACY,
        default=None,
        help="what Outlook sees of an appointment (default: initials)",
    )
    _device_option(ms)
    _calendar_options(ms, "every calendar, also read-only ones (default: the writable ones)")
    _browser_options(ms)
    from carecal.cli.parse_docplanner import add_docplanner_kind

    add_docplanner_kind(kinds, plain)

    signin = ac.add_parser(
        "signin",
        parents=[plain],
        help="sign in to a Google or Outlook account again (needs sign-in)",
    )
    signin.add_argument("name", metavar="NAME")
    _device_option(signin)
    _browser_options(signin)

    signout = ac.add_parser(
        "signout", parents=[plain], help="sign out of a Google or Outlook account"
    )
    signout.add_argument("name", metavar="NAME")

    change = ac.add_parser("set", parents=[plain], help="change an account's settings")
    change.add_argument("name", metavar="NAME")
    change.add_argument(
        "--privacy",
        choices=PRIVACY,
        required=True,
        help="what Google or Outlook sees of an appointment",
    )

    rm = ac.add_parser("remove", parents=[plain], help="remove an account from this computer")
    rm.add_argument("name", metavar="NAME")
    rm.add_argument(
        "--discard-unsent", action="store_true", help="drop changes not yet sent to the server"
    )

    pw = ac.add_parser("password", parents=[plain], help="store a new password in the keyring")
    pw.add_argument("name", metavar="NAME")
    _password_options(pw)

    calendars = sub.add_parser("calendars", parents=[plain], help="calendars and their sync")
    ca = calendars.add_subparsers(dest="action", metavar="ACTION", required=True)
    ca.add_parser("list", parents=[listing], help="calendars, last sync, unsent changes")

    sync = sub.add_parser("sync", parents=[listing], help="sync with the remote accounts")
    sync.add_argument("--account", metavar="NAME", help="only this account")
    sync.add_argument(
        "--allow-mass-delete",
        action="store_true",
        help="apply a pull even when the server deleted a large part of a calendar",
    )
    _password_options(sync)

    outbox = sub.add_parser("outbox", parents=[plain], help="changes waiting to be sent")
    ob = outbox.add_subparsers(dest="action", metavar="ACTION", required=True)
    ob.add_parser("list", parents=[listing], help="unsent and refused changes, with errors")

    conflicts = sub.add_parser("conflicts", parents=[plain], help="the conflict inbox")
    co = conflicts.add_subparsers(dest="action", metavar="ACTION", required=True)
    co.add_parser("list", parents=[listing], help="open conflicts")
    res = co.add_parser("resolve", parents=[plain], help="resolve a conflict")
    res.add_argument("id", type=int, metavar="ID")
    res.add_argument("--take", required=True, choices=("mine", "theirs", "both"))
