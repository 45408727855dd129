"""The right-click menu of an appointment in any view (GUI thread only).

Open, the visit's status, the video link and Delete, for the one occurrence under the pointer
(or the selected one, from the keyboard). A status set here applies to that occurrence only.
"Join video" follows the views' rule: enabled from an hour before the visit until its end.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QUrl
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMenu, QWidget

from carecal.domain.models import AppointmentStatus, Occurrence
from carecal.services.video import can_join, join_hint, join_link
from carecal.ui.booking_badges import occurrence_span
from carecal.ui.operations import Operations

UrlOpener = Callable[[QUrl], bool]

MENU_STATUSES = (
    AppointmentStatus.SCHEDULED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
    AppointmentStatus.CANCELLED,
)


def video_link(occ: Occurrence) -> str:
    """The link to join, for a video visit that has one ("" otherwise)."""
    return join_link(occ.event)


class AppointmentMenu:
    """Builds and shows the menu. ``open_url`` opens a link (tests put a recorder there)."""

    def __init__(
        self,
        ops: Operations,
        parent: QWidget,
        *,
        on_delete: Callable[[Occurrence], None],
        read_only: Callable[[Occurrence], bool],
    ) -> None:
        self.ops = ops
        self.parent = parent
        self.on_delete = on_delete
        self.read_only = read_only
        self.open_url: UrlOpener = QDesktopServices.openUrl
        self.menu: QMenu | None = None  # the one shown last, so tests can pick from it

    def build(self, occ: Occurrence) -> QMenu:
        """The menu for ``occ`` (not shown). GUI thread."""
        now = self.ops.ctx.clock()
        menu = QMenu(self.parent)
        menu.setObjectName("AppointmentMenu")
        # Greyed entries must read as unavailable (the theme styles only enabled items).
        menu.setStyleSheet("QMenu::item:disabled { color: #b0b5bd; }")
        opened = menu.addAction("Open…")
        opened.triggered.connect(lambda: self.ops.open_editor(occ))
        menu.setDefaultAction(opened)
        menu.addSeparator()
        writable = not self.read_only(occ)
        group = QActionGroup(menu)
        group.setExclusive(True)
        for status in MENU_STATUSES:
            action = QAction(status.label, menu)
            action.setCheckable(True)
            action.setChecked(occ.event.status is status)
            action.setEnabled(writable)
            action.setData(status.value)
            action.triggered.connect(lambda _=False, s=status: self.ops.set_status(occ, s))
            group.addAction(action)
            menu.addAction(action)
        menu.addSeparator()
        link = video_link(occ)
        join = menu.addAction("Join video")
        join.setEnabled(bool(link))
        if link:
            start, end = occurrence_span(occ)
            join.setEnabled(can_join(start, end, now))
            join.setToolTip(join_hint(start, end, now))
            menu.setToolTipsVisible(True)
        join.triggered.connect(lambda: self._join(link))
        copy = menu.addAction("Copy video link")
        copy.setEnabled(bool(link))
        copy.triggered.connect(lambda: self._copy(link))
        menu.addSeparator()
        delete = menu.addAction("Delete")
        delete.setEnabled(writable)
        delete.triggered.connect(lambda: self.on_delete(occ))
        if not writable:
            menu.setToolTipsVisible(True)
            delete.setToolTip("This calendar is read-only.")
        return menu

    def popup(self, occ: Occurrence, global_pos: QPoint) -> QMenu:
        """Show the menu at ``global_pos`` without blocking; returns it. GUI thread."""
        if self.menu is not None:
            self.menu.close()
            self.menu.deleteLater()
        self.menu = self.build(occ)
        self.menu.popup(global_pos)
        return self.menu

    def _join(self, link: str) -> None:
        if link and not self.open_url(QUrl(link)):
            self.ops.ctx.events.status_message.emit("Could not open the video link.")

    def _copy(self, link: str) -> None:
        clipboard = QGuiApplication.clipboard()
        clipboard.setText(link)
        self.ops.ctx.events.status_message.emit("Video link copied.")


def action_named(menu: QMenu, text: str) -> QAction:
    """The menu's action labelled ``text``; raises KeyError when there is none."""
    for action in menu.actions():
        if action.text() == text:
            return action
    raise KeyError(text)
