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
    """``docplanner map|publish|inbox``. Any thread."""
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
    pb.add_argument("--dry-run", action="store_true", help="print the slot diff, send nothing")
