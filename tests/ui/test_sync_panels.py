"""Pending changes panel, conflict inbox and accounts dialog on a real store and MemoryProvider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from carecal.domain.errors import TransientError
from carecal.domain.models import Event, new_id
from carecal.services.accounts import RemoteCalendar, list_accounts
from carecal.store.syncstate import SyncStore
from carecal.ui.accounts_page import AccountsDialog
from carecal.ui.conflicts_view import ConflictInbox, MergedEditor
from carecal.ui.pending_panel import PendingPanel
from tests.services.sync_helpers import REMOTE, make_conflict, make_remote, sync_inline

NOW = datetime(2025, 5, 14, 8, 37, tzinfo=UTC)


def _new(calendar_id: str, title: str) -> Event:
    return Event(
        id=new_id(),
        calendar_id=calendar_id,
        uid=f"{new_id()}@carecal",
        title=title,
        start=NOW + timedelta(hours=2),
        end=NOW + timedelta(hours=3),
    )


def test_pending_panel_lists_retries_and_discards(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    repo = ctx.session.repo
    remote = make_remote(repo)
    waiting = _new(remote.calendar.id, "Massage: Ewa Lis")
    refused = _new(remote.calendar.id, "Physio: Jan Nowak")
    ctx.session.events.create(waiting)
    ctx.session.events.create(refused)
    store = SyncStore(repo)
    seq = next(o.seq for o in store.pending_ops() if o.event_id == refused.id)
    store.mark_parked(remote.calendar.id, refused.uid, seq, "the server refused the event")
    synced: list[int] = []
    panel = PendingPanel(ctx, sync_now=lambda: synced.append(1))
    qtbot.addWidget(panel)
    assert [(r.title, r.state) for r in panel.rows] == [
        ("Massage: Ewa Lis", "waiting"),
        ("Physio: Jan Nowak", "refused"),
    ]
    assert panel.table.item(1, 4).text() == "the server refused the event"
    assert "1 refused" in panel.summary.text()
    panel.table.selectRow(1)
    panel.retry_selected()
    assert synced == [1]
    assert [r.state for r in panel.rows] == ["waiting", "waiting"]
    # Discarding a change that never reached the server removes it here, queue and all.
    panel.confirm = lambda text: "never sent" in text
    panel.table.selectRow(0)
    panel.discard_selected()
    assert repo.find_by_uid(remote.calendar.id, waiting.uid) == []
    assert [r.title for r in panel.rows] == ["Physio: Jan Nowak"]


def test_discarding_an_edit_reverts_to_the_server_version(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    repo = ctx.session.repo
    remote = make_remote(repo)
    event = _new(remote.calendar.id, "Physio: Jan Nowak")
    ctx.session.events.create(event)
    sync_inline(repo, remote)
    stored = repo.find_by_uid(remote.calendar.id, event.uid)[0]
    ctx.session.events.update(stored.with_changes(title="Physio: J. Nowak (cancelled?)"))
    panel = PendingPanel(ctx)
    qtbot.addWidget(panel)
    assert len(panel.rows) == 1 and panel.rows[0].kind == "update"
    panel.confirm = lambda text: True
    panel.table.selectRow(0)
    panel.discard_selected()
    assert repo.find_by_uid(remote.calendar.id, event.uid)[0].title == "Physio: Jan Nowak"
    assert panel.rows == []
    assert SyncStore(repo).pending_ops() == []
    sync_inline(repo, remote)  # nothing left to send, nothing duplicated
    assert len(remote.provider.items(REMOTE.remote_id)) == 1


def test_conflict_inbox_highlights_and_takes_theirs(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    repo = ctx.session.repo
    remote = make_conflict_setup = make_remote(repo)
    uid = make_conflict(repo, make_conflict_setup)
    inbox = ConflictInbox(ctx)
    qtbot.addWidget(inbox)
    assert len(inbox.entries) == 1
    marked = inbox.highlighted_rows()
    assert "Title" in marked and "Location" in marked and "Starts" in marked
    assert "Notes" in marked
    title_row = next(
        i for i in range(inbox.table.rowCount()) if inbox.table.item(i, 0).text() == "Title"
    )
    both = inbox.table.item(title_row, 1).background().color().name()
    loc_row = next(
        i for i in range(inbox.table.rowCount()) if inbox.table.item(i, 0).text() == "Location"
    )
    one = inbox.table.item(loc_row, 1).background().color().name()
    assert both != one  # both-sides changes stand out from merged-by-itself ones
    inbox.theirs.click()
    assert inbox.entries == []
    assert repo.find_by_uid(remote.calendar.id, uid)[0].title == "Physio: A. Kowalska - moved"
    actions = [e.action for e in repo.audit.entries()]
    assert "resolve" in actions


def test_conflict_inbox_edit_merged_and_keep_both(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    repo = ctx.session.repo
    remote = make_remote(repo)
    uid = make_conflict(repo, remote)
    inbox = ConflictInbox(ctx)
    qtbot.addWidget(inbox)
    made: list[MergedEditor] = []

    def editor(record):  # type: ignore[no-untyped-def]
        ed = MergedEditor(record, inbox._tz(), inbox)
        made.append(ed)
        # Non-overlapping changes are already merged: the server's move and room, my notes.
        assert ed.location.text() == "Room 2"
        assert ed.notes.toPlainText() == "Knee"
        assert ed.title.text() == "Physio: Anna Kowalska (first visit)"
        ed.title.setText("Physio: Anna Kowalska (first visit, moved)")
        ed.exec = lambda: QDialog.DialogCode.Accepted  # type: ignore[method-assign]
        return ed

    inbox.make_editor = editor
    inbox.merged.click()
    assert made and inbox.entries == []
    local = repo.find_by_uid(remote.calendar.id, uid)[0]
    assert (local.title, local.location, local.description) == (
        "Physio: Anna Kowalska (first visit, moved)",
        "Room 2",
        "Knee",
    )
    assert local.start == datetime(2025, 5, 14, 11, 0, tzinfo=UTC)
    sync_inline(repo, remote)
    raw = remote.provider.items(REMOTE.remote_id)[f"{uid}.ics"].raw
    assert "first visit\\, moved" in raw.replace("\r\n ", "")  # TEXT escapes commas
    # A second conflict, kept both ways.
    uid2 = make_conflict(repo, remote)
    assert uid2 == uid
    inbox.reload()
    inbox.both.click()
    titles = sorted(
        e.title for e in repo.events_in_window(NOW - timedelta(days=1), NOW + timedelta(days=2))
    )
    assert "Physio: A. Kowalska - moved" in titles
    assert len(titles) == 2


def test_accounts_dialog_tests_connection_adds_sets_policy_and_removes(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    repo = ctx.session.repo
    seen: list[tuple[str, str, str, str]] = []
    found = [
        RemoteCalendar("/dav/cal/work/", "Practice", color="#16a34a"),
        RemoteCalendar("/dav/cal/home/", "Private", color="#db2777"),
    ]

    def discover(url: str, user: str, password: str, preset: str) -> list[RemoteCalendar]:
        seen.append((url, user, password, preset))
        return found

    changed: list[int] = []
    dialog = AccountsDialog(ctx, discover=discover, after_change=lambda: changed.append(1))
    qtbot.addWidget(dialog)
    dialog.preset.setCurrentIndex(dialog.preset.findData("icloud"))
    assert "app-specific password" in dialog.help.text()
    assert dialog.url.text() == "https://caldav.icloud.com/"
    dialog.username.setText("anna@example.org")
    dialog.password.setText("abcd-efgh-ijkl-mnop")
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.calendars.count() == 2, timeout=5000)
    assert seen == [
        ("https://caldav.icloud.com/", "anna@example.org", "abcd-efgh-ijkl-mnop", "icloud")
    ]
    assert dialog.add_button.isEnabled()
    dialog.calendars.item(1).setCheckState(Qt.CheckState.Unchecked)
    dialog.add_account()
    accounts = list_accounts(repo)
    assert [a.name for a in accounts] == ["iCloud"] and changed == [1]
    assert [c.name for c in repo.list_calendars() if c.account_id == accounts[0].id] == ["Practice"]
    assert "abcd" not in str(accounts[0].settings)
    assert dialog.password.text() == ""
    dialog.policy.setCurrentIndex(dialog.policy.findData("newest"))
    dialog._policy_chosen(dialog.policy.currentIndex())
    assert SyncStore(repo).account(accounts[0].id).settings["conflict_policy"] == "newest"
    asked: list[str] = []
    dialog.confirm = lambda text: asked.append(text) is None
    dialog.remove_selected()
    assert asked and "nothing is deleted on the server" in asked[0]
    assert list_accounts(repo) == []


def test_accounts_dialog_shows_a_failed_connection(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    def discover(url: str, user: str, password: str, preset: str) -> list[RemoteCalendar]:
        raise TransientError("cannot reach dav.example.org")

    dialog = AccountsDialog(ctx, discover=discover)
    qtbot.addWidget(dialog)
    dialog.preset.setCurrentIndex(dialog.preset.findData("generic"))
    dialog.url.setText("dav.example.org")
    dialog.test_connection()
    qtbot.waitUntil(lambda: "cannot reach" in dialog.test_result.text(), timeout=5000)
    assert not dialog.add_button.isEnabled() and dialog.test_button.isEnabled()


def test_a_conflicted_appointment_shows_a_badge_in_the_views(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from carecal.ui.navigation import ViewMode
    from tests.ui.conftest import settle

    repo = window.ctx.session.repo
    remote = make_remote(repo)
    uid = make_conflict(repo, remote)
    window.reload()
    settle(window)
    hits = [h for h in window.week.canvas.hits if h.occ.event.uid == uid]
    assert hits and all(h.card.conflict for h in hits)
    assert not any(h.card.conflict for h in window.week.canvas.hits if h.occ.event.uid != uid)
    window.set_mode(ViewMode.AGENDA)
    settle(window)
    from PySide6.QtWidgets import QLabel

    assert any(lbl.text() == "Sync conflict" for lbl in window.agenda.findChildren(QLabel))
