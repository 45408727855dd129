"""``carecal sync``, ``carecal outbox list``, ``carecal conflicts list|resolve``.

Main thread; disk I/O. ``sync`` runs the engine on a private asyncio loop in this thread (the
Repository belongs to it) and talks to the servers; the engine and the CalDAV provider are
imported only when ``sync`` runs, so the listing commands stay light.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from carecal.cli import EXIT_ERROR, EXIT_OK
from carecal.cli.cmd_accounts import read_password
from carecal.cli.output import write_json, write_line, write_table
from carecal.domain.models import Account, ProviderKind
from carecal.services import accounts as svc
from carecal.services.session import Session
from carecal.store.syncstate import SyncStore

if TYPE_CHECKING:
    from carecal.sync.engine import AccountReport


def _warn(text: str) -> None:
    sys.stderr.write("carecal: " + " ".join(text.split()) + "\n")


async def _sync_one(
    session: Session, account: Account, password: str, allow: bool, ready: Any | None
) -> AccountReport:
    from carecal.services.syncing import provider_for
    from carecal.sync.engine import SyncOptions, sync_account

    provider: Any = ready if ready is not None else provider_for(account, session.repo, password)
    try:
        options = SyncOptions(allow_mass_delete=allow, force=True)
        return await sync_account(session.repo, provider, account.id, options)
    finally:
        await provider.close()


def sync(session: Session, args: argparse.Namespace) -> int:
    """Sync every remote account (or ``--account``); one summary line per calendar. Exit 1 when
    any calendar or account failed (the failures are also on stderr)."""
    if args.account:
        accounts = [svc.find_account(session.repo, args.account)]
    else:
        accounts = svc.list_accounts(session.repo)
    if not accounts:
        write_line("No accounts to sync: add one with 'carecal accounts add caldav ...'.")
        return EXIT_OK
    given = read_password(args, required=False)
    return sync_accounts(
        session,
        accounts,
        given,
        allow_mass_delete=args.allow_mass_delete,
        as_json=args.format == "json",
    )


def sync_accounts(
    session: Session,
    accounts: list[Account],
    given: str | None,
    *,
    allow_mass_delete: bool = False,
    as_json: bool = False,
    ready: Mapping[str, Any] | None = None,
) -> int:
    """Sync ``accounts`` (``given``: a password from the command line, else the keyring's);
    one summary line per calendar, failures on stderr. EXIT_ERROR when any failed. ``ready``:
    providers already made, by account id (adding an account hands over the one that
    discovered it); each is closed after its sync. Main thread; talks to the servers."""
    import asyncio  # here: a data folder without accounts needs no event loop

    failed = False
    records: list[dict[str, object]] = []
    for account in accounts:
        if account.kind is ProviderKind.DOCPLANNER:
            from carecal.cli.cmd_docplanner import sync_account as sync_docplanner

            record = sync_docplanner(session, account, quiet=as_json)
            failed = failed or not record["ok"]
            records.append(record)
            continue
        try:
            # OAuth tokens (Google) or MSAL's cache (Outlook), no password
            google = account.kind in (ProviderKind.GOOGLE, ProviderKind.OUTLOOK)
            password = "" if google else svc.password_for(account, given)
            provider = (ready or {}).get(account.id)
            report = asyncio.run(_sync_one(session, account, password, allow_mass_delete, provider))
        except Exception as exc:  # CarecalError from the keyring or the provider's set-up
            from carecal.domain.errors import CarecalError

            if not isinstance(exc, CarecalError):
                raise
            failed = True
            _warn(f"error: {account.name}: {exc}")
            records.append({"account": account.name, "ok": False, "errors": [str(exc)]})
            continue
        failed = failed or not report.ok
        for cal in report.calendars:
            if not as_json:
                write_line(f"{account.name} / {cal.summary()}")
            for error in cal.errors:
                _warn(f"error: {error}")
            if cal.mass_deletion:
                _warn("run 'carecal sync --allow-mass-delete' once you have checked the server")
        for error in report.errors:
            _warn(f"error: {account.name}: {error}")
        if report.needs_sign_in and account.kind in (ProviderKind.GOOGLE, ProviderKind.OUTLOOK):
            _warn(
                f"{account.name} needs sign-in: run 'carecal accounts signin {account.name!r}'; "
                "its unsent changes are kept"
            )
        elif report.needs_sign_in:
            preset = svc.CalDAVSettings.of(account).preset
            hint = svc.password_help(preset) if preset != "generic" else ""
            _warn(
                f"{account.name} needs sign-in: store the new password with 'carecal accounts "
                f"password {account.name!r} --password-stdin'. {hint}"
            )
        records.append(
            {
                "account": account.name,
                "ok": report.ok,
                "needs_sign_in": report.needs_sign_in,
                "errors": list(report.errors),
                "calendars": [
                    {
                        "calendar_id": c.calendar_id,
                        "name": c.name,
                        "pushed": c.pushed,
                        "pulled": c.pulled,
                        "deleted": c.deleted,
                        "conflicts": c.conflicts,
                        "errors": list(c.errors),
                    }
                    for c in report.calendars
                ],
            }
        )
    if as_json:
        write_json(records)
    return EXIT_ERROR if failed else EXIT_OK


def list_outbox(session: Session, args: argparse.Namespace) -> int:
    """Unsent changes of remote calendars: waiting ones and refused (parked) ones."""
    store = SyncStore(session.repo)
    names = {c.id: c.name for c in session.repo.list_calendars()}
    ops = store.pending_ops()
    records = [
        {
            "seq": op.seq,
            "state": op.state.value,
            "kind": op.kind.value,
            "calendar": names.get(op.calendar_id, op.calendar_id),
            "event_id": op.event_id,
            "title": str(op.payload.get("title", "")),
            "attempts": op.attempts,
            "next_attempt_at": op.next_attempt_at,
            "error": op.last_error,
            "created_at": op.created_at,
        }
        for op in ops
    ]
    if args.format == "json":
        write_json(records)
        return EXIT_OK
    rows = [
        (
            "refused" if r["state"] == "failed" else "waiting",
            r["kind"],
            r["calendar"],
            r["title"],
            r["attempts"],
            r["error"] or "",
            r["seq"],
        )
        for r in records
    ]
    write_table(
        ("STATE", "CHANGE", "CALENDAR", "TITLE", "TRIES", "ERROR", "SEQ"),
        rows,
        empty="Nothing waiting: every change has reached its server.",
    )
    return EXIT_OK


def list_conflicts(session: Session, args: argparse.Namespace) -> int:
    """Open conflicts: which item, what kind, the fields both sides changed."""
    store = SyncStore(session.repo)
    names = {c.id: c.name for c in session.repo.list_calendars()}
    records = []
    for c in store.open_conflicts():
        side = c.local or c.remote or c.base or {}
        title = next(iter(side.values())).title if side else ""
        records.append(
            {
                "id": c.id,
                "calendar": names.get(c.calendar_id, c.calendar_id),
                "uid": c.uid,
                "kind": c.kind,
                "title": title,
                "fields": list(c.fields),
                "detected_at": c.detected_at,
            }
        )
    if args.format == "json":
        write_json(records)
        return EXIT_OK
    rows = [
        (
            r["calendar"],
            r["title"],
            r["kind"],
            ", ".join(r["fields"]),  # type: ignore[arg-type]
            str(r["detected_at"])[:19],
            r["id"],
        )
        for r in records
    ]
    write_table(
        ("CALENDAR", "TITLE", "KIND", "FIELDS", "DETECTED", "ID"),
        rows,
        empty="No conflicts.",
    )
    return EXIT_OK


def resolve_conflict(session: Session, args: argparse.Namespace) -> int:
    """Resolve one conflict; the result reaches the server on the next sync."""
    from carecal.sync.conflicts import Take, resolve

    resolve(session.repo, args.id, Take(args.take), actor="cli")
    write_line(f"Conflict {args.id} resolved ({args.take}); run 'carecal sync' to send it.")
    return EXIT_OK
