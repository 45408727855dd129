"""Screenshots of the sync windows (tests/ui/screenshots) with a real MemoryProvider conflict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from carecal.domain.errors import TransientError
from carecal.domain.models import Event, new_id
from carecal.services.accounts import RemoteCalendar
from carecal.store.syncstate import SyncStore
from carecal.ui.accounts_page import AccountsDialog
from carecal.ui.conflicts_view import ConflictInbox
from carecal.ui.pending_panel import PendingPanel
from tests.services.sync_helpers import make_conflict, make_remote, sync_inline
from tests.ui.test_screenshots import _assert_not_blank, _save

NOW = datetime(2025, 5, 14, 8, 37, tzinfo=UTC)


def test_screenshots_of_sync_windows(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    repo = ctx.session.repo
    remote = make_remote(repo)
    make_conflict(repo, remote)
    for i, title in enumerate(("Massage: Ewa Lis", "Physio: Jan Nowak", "Check-up: Olga Wrona")):
        ctx.session.events.create(
            Event(
                id=new_id(),
                calendar_id=remote.calendar.id,
                uid=f"{new_id()}@carecal",
                title=title,
                start=NOW + timedelta(hours=2 + i),
                end=NOW + timedelta(hours=3 + i),
            )
        )
    remote.provider.fail_next = [TransientError("the server did not answer (503)")]
    sync_inline(repo, remote)
    store = SyncStore(repo)
    ops = store.pending_ops()
    parked = ops[-1]
    store.mark_parked(
        parked.calendar_id,
        str(parked.payload["uid"]),
        parked.seq,
        "the server refused the event: 403 Forbidden (calendar is read-only for this user)",
    )
    shots = []
    panel = PendingPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    panel.table.selectRow(1)
    shots.append(_save(panel, "sync_pending"))
    inbox = ConflictInbox(ctx)
    qtbot.addWidget(inbox)
    inbox.show()
    shots.append(_save(inbox, "sync_conflicts"))

    def discover(url: str, user: str, password: str, preset: str) -> list[RemoteCalendar]:
        return [
            RemoteCalendar("/c/1/", "Practice", color="#16a34a"),
            RemoteCalendar("/c/2/", "Home visits", color="#ea580c"),
            RemoteCalendar("/c/3/", "Holidays (shared)", color="#7c3aed", read_only=True),
        ]

    dialog = AccountsDialog(ctx, discover=discover)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.preset.setCurrentIndex(dialog.preset.findData("icloud"))
    dialog.username.setText("anna@example.org")
    dialog.password.setText("abcd-efgh-ijkl-mnop")
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.calendars.count() == 3, timeout=5000)
    shots.append(_save(dialog, "sync_accounts"))
    for path in shots:
        _assert_not_blank(path)
