"""The "Add Docplanner account" dialog of the Accounts page: two steps.

1. Connect: the country's domain, the API client id and secret, "Test connection" (a token and
   the facility list, services.docplanner_client.probe_client), then "Add account and map"
   (services.docplanner_client.add_account keeps the id and secret in the OS keyring).
2. Map: Docplanner's tree (facilities -> doctors -> addresses, online-only and visit-payment
   addresses marked) from services.docplanner_mapping.list_tree; an address is mapped to a
   Carecal calendar and each of its services to a service type
   (services.docplanner_mapping.map_address), with how its availability goes out: free slots
   published from Carecal, or working hours kept in Docplanner with breaks for busy time
   (services.docplanner_breaks.set_publish_mode).

Widgets: GUI thread. Network work (the test, the tree) runs on a one-off thread
(``run_in_thread``); adding the account (which checks the credentials again before keeping
them) and mapping run on the database lane (``ctx.tasks``). Errors are shown in the dialog,
never raised; the secret is never shown, logged or kept anywhere but the keyring.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.errors import AuthExpired
from carecal.domain.models import Account, Calendar, ServiceType
from carecal.services import docplanner_client as dpc
from carecal.services import docplanner_mapping as mapping
from carecal.services.docplanner_breaks import set_publish_mode
from carecal.services.docplanner_mapping import TreeAddress
from carecal.store.docplanner import AddressMapping, DocplannerStore, ServiceMapping
from carecal.store.repo import Repository
from carecal.ui.context import UiContext

RunInThread = Callable[
    [Callable[[], Any], Callable[[Any], None], Callable[[Exception], None]], threading.Thread
]

GREY = "color: #6b7280;"
GREEN = "color: #15803d;"
RED = "color: #b91c1c;"
AUTO = ""  # the service combo's "same name" choice

ADDRESS_ROLE = Qt.ItemDataRole.UserRole
MODE_CHOICES = (
    ("slots", "Publish free slots from Carecal (recommended)"),
    ("breaks", "Keep working hours in Docplanner; Carecal adds breaks for busy time"),
)
MODE_SHORT = {"slots": "free slots", "breaks": "breaks"}


def tree_blocking(account: Account) -> list[TreeAddress]:
    """The account's addresses with their services (credentials from the keyring). Blocks on
    the network (never the GUI thread). Raises as services.docplanner_mapping.list_tree and
    CredentialsMissing."""
    return dpc.run_blocking(dpc.api_for(account), mapping.list_tree)


@dataclass(frozen=True, slots=True)
class LocalChoices:
    """What the map step offers: writable calendars, service types, the mappings so far."""

    calendars: tuple[Calendar, ...]
    services: tuple[ServiceType, ...]
    mapped: dict[str, AddressMapping]
    service_maps: dict[tuple[str, str], ServiceMapping]


def load_choices(repo: Repository, account_id: str) -> LocalChoices:
    """The Repository's thread. Raises StoreError."""
    store = DocplannerStore(repo)
    return LocalChoices(
        tuple(c for c in repo.list_calendars() if not c.read_only),
        tuple(repo.list_services()),
        {m.address_id: m for m in store.addresses(account_id)},
        {(s.address_id, s.address_service_id): s for s in store.services(account_id)},
    )


def address_marks(node: TreeAddress) -> str:
    """ "in person" / "online only", and "visit payments" when the address takes them."""
    marks = ["online only" if node.address.is_online_only else "in person"]
    if node.address.visit_payment:
        marks.append("visit payments")
    return " · ".join(marks)


def _price(value: int | None) -> str:
    return "" if value is None else str(value)


class DocplannerWizard(QDialog):
    """See the module docstring. ``on_done`` runs after the account was added (the Accounts
    page reloads); ``run_in_thread`` is the Accounts page's helper (tests may pass their own)."""

    def __init__(
        self,
        ctx: UiContext,
        parent: QWidget | None = None,
        *,
        run_in_thread: RunInThread,
        on_done: Callable[[Account], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._run = run_in_thread
        self._on_done = on_done
        self.account: Account | None = None
        self.tree_nodes: list[TreeAddress] = []
        self.choices = LocalChoices((), (), {}, {})
        self.worker: threading.Thread | None = None
        self.tested = False
        self._items: dict[str, QTreeWidgetItem] = {}
        self.setWindowTitle("Add Docplanner account")
        self.resize(720, 340)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 14, 16, 14)
        self.pages = QStackedWidget()
        self.connect_page = self._connect_page()
        self.map_page = self._map_page()
        self.pages.addWidget(self.connect_page)
        self.pages.addWidget(self.map_page)
        lay.addWidget(self.pages, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.map_result, 1)
        bottom.addWidget(self.add_button)
        bottom.addWidget(self.map_button)
        self.map_button.setVisible(False)
        self.close_button = QPushButton("Cancel")
        self.close_button.clicked.connect(self.reject)
        bottom.addWidget(self.close_button)
        lay.addLayout(bottom)
        for b in self.findChildren(QPushButton):
            b.setAutoDefault(False)

    # --- step 1: connect -----------------------------------------------------------------------

    def _connect_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        intro = QLabel(
            "Step 1 of 2 · Connect. Docplanner gives your practice an API client (an id and a "
            "secret) in its Integrations settings or on request from its support. The secret "
            "is kept in this computer's keyring only."
        )
        intro.setWordWrap(True)
        intro.setStyleSheet(GREY)
        lay.addWidget(intro)
        form = QFormLayout()
        self.domain = QComboBox()
        for code, domain in sorted(dpc.countries().items(), key=lambda kv: kv[1]):
            self.domain.addItem(f"{domain}  ({code.upper()})", domain)
        self.domain.setCurrentIndex(max(0, self.domain.findData("znanylekarz.pl")))
        self.client_id = QLineEdit()
        self.client_id.setPlaceholderText("API client id")
        self.client_secret = QLineEdit()
        self.client_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.client_secret.setPlaceholderText("API client secret")
        self.name = QLineEdit()
        self.name.setPlaceholderText("optional, e.g. ZnanyLekarz practice")
        form.addRow("Country site", self.domain)
        form.addRow("Client id", self.client_id)
        form.addRow("Client secret", self.client_secret)
        form.addRow("Account name", self.name)
        for field in (self.client_id, self.client_secret):
            field.textChanged.connect(self._form_changed)
        self.domain.currentIndexChanged.connect(self._form_changed)
        test_row = QHBoxLayout()
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        form.addRow(test_row)
        lay.addLayout(form)
        lay.addStretch(1)
        self.add_button = QPushButton("Add account and map addresses")
        self.add_button.setEnabled(False)
        self.add_button.clicked.connect(self.add_account)
        self._form_changed()
        return page

    def _form(self) -> tuple[str, str, str]:
        return (
            str(self.domain.currentData()),
            self.client_id.text().strip(),
            self.client_secret.text().strip(),
        )

    def _form_changed(self) -> None:
        _, cid, secret = self._form()
        self.tested = False
        self.add_button.setEnabled(False)
        self.test_button.setEnabled(bool(cid and secret))

    def _say(self, label: QLabel, text: str, style: str = "") -> None:
        label.setStyleSheet(style)
        label.setText(text)

    def test_connection(self) -> None:
        """Check the credentials on a worker thread. GUI thread; returns at once."""
        domain, cid, secret = self._form()
        self.test_button.setEnabled(False)
        self.add_button.setEnabled(False)
        self._say(self.test_result, "Connecting…", GREY)
        self.worker = self._run(
            lambda: dpc.probe_client(domain, cid, secret), self._tested, self._test_failed
        )

    def _tested(self, facilities: Sequence[Any]) -> None:
        self.test_button.setEnabled(True)
        self.tested = True
        names = ", ".join(f.name for f in facilities[:3]) + ("…" if len(facilities) > 3 else "")
        n = len(facilities)
        text = f"Connected: the client may see {n} facilit{'ies' if n != 1 else 'y'}"
        self._say(self.test_result, f"{text}: {names}." if names else f"{text}.", GREEN)
        self.add_button.setEnabled(True)

    def _test_failed(self, err: Exception) -> None:
        self.test_button.setEnabled(True)
        text = str(err) or "The connection failed."
        if isinstance(err, AuthExpired) and "refused" not in text:
            text = f"Docplanner refused the client id or secret: {text}"
        self._say(self.test_result, text, RED)

    def add_account(self) -> None:
        """Check again and add the account (the database lane; it waits on the network once),
        then open the map step. GUI thread."""
        domain, cid, secret = self._form()
        name = self.name.text().strip() or None
        repo, actor = self.ctx.session.repo, self.ctx.actor
        self.add_button.setEnabled(False)
        self._say(self.test_result, "Adding the account…", GREY)

        def job() -> Account:
            account, _ = dpc.add_account(
                repo, domain=domain, client_id=cid, client_secret=secret, name=name, actor=actor
            )
            return account

        self.ctx.tasks.submit(job, self._added, self._add_failed)

    def _added(self, account: Account) -> None:
        self.account = account
        self.client_secret.clear()
        self.close_button.setText("Done")
        self.map_title.setText(f"Step 2 of 2 · Map “{account.name}” to your calendars")
        self.pages.setCurrentWidget(self.map_page)
        self.add_button.setVisible(False)
        self.map_button.setVisible(True)
        self.resize(max(self.width(), 800), max(self.height(), 600))  # four columns
        if self._on_done is not None:
            self._on_done(account)
        self.load_tree()

    def _add_failed(self, err: Exception) -> None:
        self.add_button.setEnabled(self.tested)
        self._test_failed(err)

    # --- step 2: map ---------------------------------------------------------------------------

    def _map_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        self.map_title = QLabel("Step 2 of 2 · Map addresses")
        self.map_title.setStyleSheet("font-weight: 600;")
        lay.addWidget(self.map_title)
        help_text = QLabel(
            "Each address where patients book you gets its visits in one Carecal calendar. "
            "An in-person and an online-only address are mapped separately. Carecal either "
            "publishes the address's free slots, or leaves its working hours in Docplanner and "
            "blocks the time you are busy in any calendar with breaks."
        )
        help_text.setWordWrap(True)
        help_text.setStyleSheet(GREY)
        lay.addWidget(help_text)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(
            ["Facility / doctor / address", "Kind", "Calendar", "Availability"]
        )
        self.tree.setMinimumHeight(150)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.currentItemChanged.connect(lambda *_: self._address_selected())
        lay.addWidget(self.tree, 1)
        form = QFormLayout()
        self.calendar = QComboBox()
        form.addRow("Carecal calendar", self.calendar)
        self.mode = QComboBox()
        for key, label in MODE_CHOICES:
            self.mode.addItem(label, key)
        self.mode.setToolTip(
            "Free slots: Carecal publishes your working hours minus busy time, and Docplanner "
            "shows only those.\nBreaks: your working hours stay as set in Docplanner; Carecal "
            "adds a break (“Busy (Carecal)”) wherever a calendar has busy time."
        )
        form.addRow("Availability", self.mode)
        lay.addLayout(form)
        self.services = QTableWidget(0, 3)
        self.services.setHorizontalHeaderLabels(["Docplanner service", "Price", "Carecal service"])
        sh = self.services.horizontalHeader()
        sh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        sh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        sh.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.services.verticalHeader().setVisible(False)
        self.services.setMinimumHeight(120)
        lay.addWidget(self.services, 1)
        self.create_services = QCheckBox(
            "Create a Carecal service type for each service without one of the same name"
        )
        self.create_services.setChecked(True)
        lay.addWidget(self.create_services)
        self.map_result = QLabel()
        self.map_result.setWordWrap(True)
        self.map_button = QPushButton("Map this address")
        self.map_button.setEnabled(False)
        self.map_button.clicked.connect(self.map_selected)
        return page

    def load_tree(self) -> None:
        """List Docplanner's tree (a worker thread) and the local choices (the database
        lane). GUI thread; returns at once."""
        account = self.account
        if account is None:
            return
        repo = self.ctx.session.repo
        self.ctx.tasks.submit(
            lambda: load_choices(repo, account.id),
            self._have_choices,
            lambda err: self._say(self.map_result, str(err), RED),
        )
        self.tree.clear()
        self._say(self.map_result, "Reading your Docplanner facilities…", GREY)
        self.worker = self._run(
            lambda: tree_blocking(account),
            self._have_tree,
            lambda err: self._say(self.map_result, str(err) or "Listing failed.", RED),
        )

    def _have_choices(self, choices: LocalChoices) -> None:
        self.choices = choices
        self.calendar.clear()
        for cal in choices.calendars:
            self.calendar.addItem(cal.name, cal.id)
        self._fill_tree()

    def _have_tree(self, nodes: Sequence[TreeAddress]) -> None:
        self.tree_nodes = list(nodes)
        if not nodes:
            self._say(
                self.map_result, "Docplanner lists no addresses this client may publish.", RED
            )
        else:
            self._say(self.map_result, "Choose an address, its calendar and services.", GREY)
        self._fill_tree()

    def _fill_tree(self) -> None:
        selected = self.selected_node()
        keep = selected.address.id if selected else None
        self.tree.clear()
        self._items.clear()
        calendars = {c.id: c.name for c in self.choices.calendars}
        facilities: dict[str, QTreeWidgetItem] = {}
        doctors: dict[tuple[str, str], QTreeWidgetItem] = {}
        first: QTreeWidgetItem | None = None
        current: QTreeWidgetItem | None = None
        for i, node in enumerate(self.tree_nodes):
            fac = facilities.get(node.facility.id)
            if fac is None:
                fac = QTreeWidgetItem(self.tree, [node.facility.name, "", "", ""])
                fac.setFlags(Qt.ItemFlag.ItemIsEnabled)
                facilities[node.facility.id] = fac
            key = (node.facility.id, node.doctor.id)
            doc = doctors.get(key)
            if doc is None:
                doc = QTreeWidgetItem(fac, [node.doctor.full_name, "", "", ""])
                doc.setFlags(Qt.ItemFlag.ItemIsEnabled)
                doctors[key] = doc
            m = self.choices.mapped.get(node.address.id)
            target = calendars.get(m.calendar_id or "", "") if m else ""
            mode = MODE_SHORT.get(m.publish_mode, "") if m and target else ""
            item = QTreeWidgetItem(
                doc, [node.address.label, address_marks(node), target or "not mapped", mode]
            )
            item.setData(0, ADDRESS_ROLE, i)
            item.setToolTip(0, node.address.label)
            self._items[node.address.id] = item
            if not target:
                item.setForeground(2, self.palette().placeholderText())
            if first is None:
                first = item
            if node.address.id == keep:
                current = item
        self.tree.expandAll()
        chosen = current if current is not None else first
        if chosen is not None:
            self.tree.setCurrentItem(chosen)
        self._address_selected()

    def selected_node(self) -> TreeAddress | None:
        item = self.tree.currentItem()
        index = item.data(0, ADDRESS_ROLE) if item is not None else None
        if isinstance(index, int) and 0 <= index < len(self.tree_nodes):
            return self.tree_nodes[index]
        return None

    def select_address(self, address_id: str) -> None:
        """Select the tree's row of this address (nothing when it is not listed). GUI thread."""
        item = self._items.get(address_id)
        if item is not None:
            self.tree.setCurrentItem(item)

    def _address_selected(self) -> None:
        node = self.selected_node()
        self.services.setRowCount(0)
        self.map_button.setEnabled(node is not None and self.calendar.count() > 0)
        if node is None:
            return
        m = self.choices.mapped.get(node.address.id)
        if m is not None and m.calendar_id:
            self.calendar.setCurrentIndex(max(0, self.calendar.findData(m.calendar_id)))
        mode = m.publish_mode if m is not None else "slots"
        self.mode.setCurrentIndex(max(0, self.mode.findData(mode)))
        self.services.setRowCount(len(node.services))
        for row, svc in enumerate(node.services):
            name = svc.name + (f" · {svc.duration} min" if svc.duration else "")
            self.services.setCellWidget(row, 0, QLabel(f"  {name}"))
            self.services.setCellWidget(row, 1, QLabel(f"  {_price(svc.price)}  "))
            combo = QComboBox()
            combo.addItem("Same name as on Docplanner", AUTO)
            for st in self.choices.services:
                combo.addItem(st.name, st.name)
            known = self.choices.service_maps.get((node.address.id, svc.id))
            if known is not None and known.service_type_id:
                chosen = next(
                    (s.name for s in self.choices.services if s.id == known.service_type_id), None
                )
                if chosen is not None:
                    combo.setCurrentIndex(max(0, combo.findData(chosen)))
            self.services.setCellWidget(row, 2, combo)
        self.services.resizeColumnsToContents()
        self.services.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def service_choices(self) -> dict[str, str]:
        """Address service id -> chosen service type name (the "same name" rows left out)."""
        node = self.selected_node()
        out: dict[str, str] = {}
        if node is None:
            return out
        for row, svc in enumerate(node.services):
            combo = self.services.cellWidget(row, 2)
            if isinstance(combo, QComboBox) and combo.currentData():
                out[svc.id] = str(combo.currentData())
        return out

    def map_selected(self) -> None:
        """Map the selected address to the chosen calendar and service types (the database
        lane). GUI thread."""
        node, account = self.selected_node(), self.account
        calendar = next(
            (c for c in self.choices.calendars if c.id == self.calendar.currentData()), None
        )
        if node is None or account is None or calendar is None:
            return
        repo, actor = self.ctx.session.repo, self.ctx.actor
        choices, create = self.service_choices(), self.create_services.isChecked()
        mode = str(self.mode.currentData() or "slots")
        self.map_button.setEnabled(False)

        def job() -> LocalChoices:
            mapping.map_address(
                repo,
                account,
                node,
                calendar,
                choices=choices,
                create_services=create,
                actor=actor,
            )
            set_publish_mode(repo, account, node.address.id, mode)
            return load_choices(repo, account.id)

        def done(fresh: LocalChoices) -> None:
            self.choices = fresh
            self._fill_tree()
            then = (
                "Its busy time is blocked with breaks at the next sync."
                if mode == "breaks"
                else "Its free time is published at the next sync."
            )
            self._say(
                self.map_result, f"Mapped {node.address.label} to “{calendar.name}”. {then}", GREEN
            )

        def failed(err: Exception) -> None:
            self.map_button.setEnabled(True)
            self._say(self.map_result, str(err), RED)

        self.ctx.tasks.submit(job, done, failed)
