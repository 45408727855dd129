"""``carecal accounts add docplanner`` and ``carecal docplanner map|publish|mode``.

Main thread; disk I/O and network (each command runs its calls on a private event loop). The
client secret is read from standard input (``--client-secret-stdin``), else $CARECAL_PASSWORD,
else a prompt on a terminal; it goes to the keyring only and is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import TYPE_CHECKING, Any

from carecal.cli import EXIT_ERROR, EXIT_OK, UsageError
from carecal.cli.output import write_json, write_line, write_table
from carecal.domain.models import Account
from carecal.services import docplanner_client as dpc
from carecal.services import secrets
from carecal.services.session import Session

if TYPE_CHECKING:
    from carecal.services.docplanner_breaks import BreaksOutcome
    from carecal.services.docplanner_publish import PublishOutcome


def _secret(args: argparse.Namespace) -> str:
    if args.client_secret_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise UsageError("--client-secret-stdin: standard input held no secret")
        return value
    env = secrets.password_from_env()
    if env:
        return env
    if sys.stdin.isatty():
        value = getpass.getpass("Docplanner client secret: ")
        if value:
            return value
    raise UsageError(
        f"give the client secret with --client-secret-stdin or ${secrets.PASSWORD_ENV}"
    )


def add_account(session: Session, args: argparse.Namespace) -> int:
    """Check the client credentials, keep them in the keyring, add the account."""
    account, facilities = dpc.add_account(
        session.repo,
        domain=args.domain,
        client_id=args.client_id,
        client_secret=_secret(args),
        name=args.name,
        actor="cli",
    )
    domain = dpc.DocplannerSettings.of(account).domain
    write_line(f"Added Docplanner account {account.name!r} on {domain}.")
    write_line(f"The API client may see {len(facilities)} facilities:")
    for facility in facilities:
        write_line(f"  {facility.name} ({facility.id})")
    write_line("Map an address to a calendar with 'carecal docplanner map'.")
    return EXIT_OK


def map_addresses(session: Session, args: argparse.Namespace) -> int:
    """Without ``--address``: the tree with what each address is mapped to. With it: map that
    address to ``--calendar`` (and its services), or ``--unmap`` it."""
    from carecal.services import docplanner_mapping as mapping
    from carecal.store.docplanner import DocplannerStore

    account = dpc.find_account(session.repo, args.account)
    if args.unmap:
        if not args.address:
            raise UsageError("--unmap needs --address")
        mapping.unmap_address(session.repo, account, args.address)
        write_line(f"Address {args.address} is no longer mapped; nothing more is published for it.")
        return EXIT_OK
    tree = dpc.run_blocking(dpc.api_for(account), mapping.list_tree)
    if args.address:
        if not args.calendar:
            raise UsageError("--address needs --calendar NAME")
        node = mapping.find_node(tree, args.address)
        calendar = session.repo.find_calendar(args.calendar)
        _, chosen = mapping.map_address(
            session.repo,
            account,
            node,
            calendar,
            choices=dict(args.services),
            create_services=args.create_services,
            actor="cli",
        )
        kind = "online-only" if node.address.is_online_only else "in person"
        paid = ", visit payments" if node.address.visit_payment else ""
        write_line(f"Mapped {node.address.label} ({kind}{paid}) to {calendar.name!r}:")
        names = {s.id: s.name for s in session.repo.list_services()}
        for svc in chosen:
            target = names.get(svc.service_type_id or "", "not mapped")
            write_line(f"  {svc.name} ({svc.address_service_id}) -> {target}")
        write_line("Run 'carecal docplanner publish' or 'carecal sync' to publish its slots.")
        return EXIT_OK
    store = DocplannerStore(session.repo)
    mapped = {m.address_id: m for m in store.addresses(account.id)}
    calendars = {c.id: c.name for c in session.repo.list_calendars()}
    services = {
        (s.address_id, s.address_service_id): s.service_type_id for s in store.services(account.id)
    }
    types = {s.id: s.name for s in session.repo.list_services()}
    records = []
    for node in tree:
        m = mapped.get(node.address.id)
        records.append(
            {
                "facility": {"id": node.facility.id, "name": node.facility.name},
                "doctor": {"id": node.doctor.id, "name": node.doctor.full_name},
                "address": {
                    "id": node.address.id,
                    "name": node.address.label,
                    "online_only": node.address.is_online_only,
                    "visit_payment": node.address.visit_payment,
                    "commercial_type": node.address.commercial_type,
                },
                "calendar": calendars.get(m.calendar_id or "") if m else None,
                "mode": m.publish_mode if m and m.calendar_id else None,
                "services": [
                    {
                        "id": s.id,
                        "name": s.name,
                        "duration": s.duration,
                        "price": s.price,
                        "service_type": types.get(services.get((node.address.id, s.id)) or ""),
                    }
                    for s in node.services
                ],
            }
        )
    if args.format == "json":
        write_json(records)
        return EXIT_OK
    rows = []
    for r in records:
        a = r["address"]
        assert isinstance(a, dict)
        flags = ("online only" if a["online_only"] else "in person") + (
            ", visit payment" if a["visit_payment"] else ""
        )
        svc_text = "; ".join(
            f"{s['id']} {s['name']} {s['duration'] or '?'} min"
            + (f" -> {s['service_type']}" if s["service_type"] else "")
            for s in r["services"]  # type: ignore[attr-defined]
        )
        rows.append(
            (
                r["facility"]["name"],  # type: ignore[index]
                r["doctor"]["name"],  # type: ignore[index]
                a["name"],
                flags,
                r["calendar"] or "-",
                r["mode"] or "-",
                svc_text,
                a["id"],
            )
        )
    write_table(
        ("FACILITY", "DOCTOR", "ADDRESS", "KIND", "CALENDAR", "MODE", "SERVICES", "ID"),
        rows,
        empty="Docplanner lists no address for this API client.",
    )
    return EXIT_OK


def publish(session: Session, args: argparse.Namespace) -> int:
    """``docplanner publish [--days N] [--dry-run]``: the changed days' slots (the diff), sent
    one day per request, and for addresses in breaks mode the breaks to add, move or remove,
    unless ``--dry-run``."""
    from carecal.services import docplanner_breaks as breaks
    from carecal.services.docplanner_publish import Publisher, as_json, diff_lines

    account = dpc.find_account(session.repo, args.account)

    async def work(api: Any) -> tuple[BreaksOutcome, PublishOutcome, Any]:
        kept = await breaks.BreakKeeper(session.repo, account, api).apply(dry_run=args.dry_run)
        slots = await Publisher(session.repo, account, api).publish(args.days, dry_run=args.dry_run)
        return kept, slots, api.zone

    kept, outcome, zone = dpc.run_blocking(dpc.api_for(account), work)
    errors = kept.errors + outcome.errors
    if args.format == "json":
        write_json(
            {
                "dry_run": args.dry_run,
                "days": as_json(outcome.plans),
                "breaks": breaks.as_json(kept.changes, zone),
                "sent": outcome.sent,
                "cleared": outcome.cleared + kept.cleared,
                "breaks_added": kept.added,
                "breaks_moved": kept.moved,
                "breaks_removed": kept.removed,
                "errors": errors,
            }
        )
    else:
        lines = diff_lines(outcome.plans)
        break_lines = breaks.diff_lines(kept.changes, zone)
        for line in [*break_lines, *lines]:
            write_line(line)
        if not lines and not break_lines:
            write_line("Every published day and break is up to date.")
        elif args.dry_run:
            write_line(
                f"{len(lines)} days and {len(break_lines)} break changes would be sent "
                "(dry run: nothing was sent)."
            )
        else:
            write_line(f"Sent {outcome.sent} days, cleared {outcome.cleared + kept.cleared}.")
            if break_lines:
                write_line(
                    f"Breaks: {kept.added} added, {kept.moved} moved, {kept.removed} removed."
                )
    for error in errors:
        sys.stderr.write(f"carecal: error: {error}\n")
    return EXIT_ERROR if errors else EXIT_OK


def set_mode(session: Session, args: argparse.Namespace) -> int:
    """``docplanner mode ADDRESS_ID slots|breaks``: record how the address's availability goes
    out; the next sync cleans up what the other mode left in Docplanner."""
    from carecal.services.docplanner_breaks import set_publish_mode

    account = dpc.find_account(session.repo, args.account)
    switch = set_publish_mode(session.repo, account, args.address, args.mode)
    name = f"{switch.address_name} ({switch.address_id})"
    if switch.after == "breaks":
        write_line(
            f"{name}: its working hours stay in Docplanner; Carecal adds a break there for "
            "busy time in any calendar."
        )
        if switch.slot_days:
            write_line(f"The next sync clears the {switch.slot_days} days of slots Carecal sent.")
    else:
        write_line(f"{name}: Carecal publishes its free slots to Docplanner.")
        if switch.own_breaks:
            write_line(f"The next sync removes the {switch.own_breaks} breaks Carecal added.")
    if not switch.changed:
        write_line("(It was in this mode already.)")
    write_line("Run 'carecal sync' or 'carecal docplanner publish' to send it now.")
    return EXIT_OK


def sync_account(session: Session, account: Account, *, quiet: bool) -> dict[str, object]:
    """``carecal sync`` for one Docplanner account: one summary line (unless ``quiet``), errors
    on stderr; the record for ``--format json``."""
    report = asyncio.run(dpc.sync_account_now(session.repo, account))
    if not quiet:
        write_line(report.summary())
    for error in report.errors:
        sys.stderr.write("carecal: error: " + " ".join(f"{account.name}: {error}".split()) + "\n")
    return {
        "account": account.name,
        "ok": report.ok,
        "pulled": report.pulled,
        "applied": report.applied,
        "reconciled": report.reconciled,
        "published_days": report.published_days,
        "cleared_days": report.deleted_days,
        "breaks_added": report.breaks_added,
        "breaks_moved": report.breaks_moved,
        "breaks_removed": report.breaks_removed,
        "errors": list(report.errors),
    }
