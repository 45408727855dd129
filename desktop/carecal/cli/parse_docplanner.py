"""The command tree of ``carecal accounts add docplanner`` and ``carecal docplanner ...``
(argparse only). Any thread; imports nothing heavy."""

from __future__ import annotations

import argparse
from typing import Any


def _service_choice(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise argparse.ArgumentTypeError("give ADDRESS_SERVICE_ID=SERVICE NAME")
    return key.strip(), value.strip()


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not 1 <= value <= 84:
        raise argparse.ArgumentTypeError("give 1 to 84 days (Docplanner takes 12 weeks)")
    return value


def add_docplanner_kind(kinds: Any, plain: argparse.ArgumentParser) -> None:
    """``accounts add docplanner``. Any thread."""
    dp = kinds.add_parser(
        "docplanner",
        parents=[plain],
        help="a Docplanner marketplace API client (ZnanyLekarz, Doctoralia, jameda ...)",
    )
    dp.add_argument(
        "--domain",
        required=True,
        metavar="DOMAIN",
        help="the country's site: a domain such as znanylekarz.pl or a country code (pl, es ...)",
    )
    dp.add_argument("--client-id", required=True, metavar="ID", help="the API client id")
    dp.add_argument(
        "--client-secret-stdin",
        action="store_true",
        help="read the API client secret from the first line of standard input",
    )
    dp.add_argument("--name", default=None, help="what to call the account here")


def add_docplanner_commands(sub: Any, plain: argparse.ArgumentParser, listing: Any) -> None:
    """``docplanner map|publish|mode``. Any thread."""
    dp = sub.add_parser("docplanner", parents=[plain], help="the Docplanner marketplace")
    da = dp.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(dp))
    mp = da.add_parser(
        "map",
        parents=[listing],
        help="list facilities, doctors, addresses and services; map an address to a calendar",
    )
    mp.add_argument("--account", metavar="NAME", help="the Docplanner account (if several)")
    mp.add_argument("--address", metavar="ID", help="the address to map (see the listing)")
    mp.add_argument("--calendar", metavar="NAME", help="the Carecal calendar its visits go to")
    mp.add_argument(
        "--service",
        dest="services",
        action="append",
        type=_service_choice,
        default=[],
        metavar="ID=NAME",
        help="map an address service to a service type (default: the one of the same name)",
    )
    mp.add_argument(
        "--create-services",
        action="store_true",
        help="add a service type for each address service no service type matches",
    )
    mp.add_argument("--unmap", action="store_true", help="stop mapping --address")
    pb = da.add_parser(
        "publish", parents=[listing], help="publish free slots to Docplanner (changed days only)"
    )
    pb.add_argument("--account", metavar="NAME", help="the Docplanner account (if several)")
    pb.add_argument("--days", type=_days, default=84, metavar="N", help="days ahead (max 84)")
    pb.add_argument(
        "--dry-run", action="store_true", help="print the slot and break diff, send nothing"
    )
    md = da.add_parser(
        "mode",
        parents=[plain],
        help="how an address's availability goes out: free slots from Carecal, or breaks for "
        "busy time over working hours kept in Docplanner",
    )
    md.add_argument("--account", metavar="NAME", help="the Docplanner account (if several)")
    md.add_argument("address", metavar="ADDRESS_ID", help="a mapped address")
    md.add_argument("mode", choices=("slots", "breaks"), help="slots (the default) or breaks")
    add_docplanner_actions(da, plain, listing)


def add_docplanner_actions(da: Any, plain: argparse.ArgumentParser, listing: Any) -> None:
    """``docplanner book|move|cancel|confirm|presence|conflicts|actions|retry|discard``. Each
    action is queued first, then sent at once when Docplanner answers (else at the next
    ``carecal sync``); a call whose answer was lost is checked by listing the day before it is
    tried again. One Docplanner refused waits (``actions``) to be retried or discarded.
    Any thread."""
    from carecal.cli.argtypes import parse_datetime_text

    def account(p: argparse.ArgumentParser) -> None:
        p.add_argument("--account", metavar="NAME", help="the Docplanner account (if several)")

    bk = da.add_parser(
        "book", parents=[plain], help="book a Docplanner slot for a patient (queued, then sent)"
    )
    account(bk)
    bk.add_argument("--address", required=True, metavar="ID", help="the mapped address")
    bk.add_argument(
        "--at", required=True, type=parse_datetime_text, metavar="DATETIME", help="the slot"
    )
    bk.add_argument("--patient", required=True, metavar="NAME", help="the patient's full name")
    bk.add_argument("--service", metavar="ID", help="the address service (default: the first)")
    bk.add_argument("--comment", default="", help="a comment for the visit")
    mv = da.add_parser(
        "move",
        parents=[plain],
        help="move a booking (Docplanner gives it a new id; the appointment stays one)",
    )
    account(mv)
    mv.add_argument("booking", metavar="BOOKING", help="the booking id")
    mv.add_argument(
        "--to", required=True, type=parse_datetime_text, metavar="DATETIME", help="new start"
    )
    cn = da.add_parser("cancel", parents=[plain], help="cancel a booking with a reason")
    account(cn)
    cn.add_argument("booking", metavar="BOOKING", help="the booking id")
    cn.add_argument("--reason", default="", help="why (Docplanner shows it to the patient)")
    cf = da.add_parser("confirm", parents=[plain], help="confirm a booking")
    account(cf)
    cf.add_argument("booking", metavar="BOOKING", help="the booking id")
    pr = da.add_parser("presence", parents=[plain], help="mark the patient present or absent")
    account(pr)
    pr.add_argument("booking", metavar="BOOKING", help="the booking id")
    pr.add_argument("mark", choices=("present", "absent"), help="after the visit")
    cs = da.add_parser(
        "conflicts",
        parents=[listing],
        help="double bookings (Docplanner bookings over busy time), with free starts to move to",
    )
    account(cs)
    ac = da.add_parser(
        "actions",
        parents=[listing],
        help="queued actions still waiting or refused by Docplanner (--all: every one)",
    )
    ac.add_argument("--all", action="store_true", help="also the done and discarded ones")
    ac.add_argument(
        "--json", dest="format", action="store_const", const="json", help="same as --format json"
    )
    rt = da.add_parser(
        "retry", parents=[plain], help="queue an action Docplanner refused again and send it"
    )
    rt.add_argument("seq", type=int, metavar="SEQ", help="the action's number (see actions)")
    dc = da.add_parser(
        "discard", parents=[plain], help="give up an action Docplanner refused (kept, not sent)"
    )
    dc.add_argument("seq", type=int, metavar="SEQ", help="the action's number (see actions)")
