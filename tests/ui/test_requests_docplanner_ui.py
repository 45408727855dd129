"""The requests inbox on a calendar mapped to a Docplanner address (offscreen, inline lane): one
click books the request and queues its Docplanner booking (the message says it goes out at the
next sync); a service no mapped address offers is said in one sentence, the local booking kept.
With a screenshot for a person to look at."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from carecal.domain.models import Account, ProviderKind, new_id
from carecal.store.docplanner import AddressMapping, DocplannerStore, ServiceMapping
from carecal.store.docplanner_actions import ActionStore
from carecal.store.requests import RequestState
from carecal.ui.main_window import MainWindow
from carecal.ui.requests_inbox import RequestsWindow
from tests.services.desk_practice import Desk
from tests.ui.conftest import FIXED_NOW, settle
from tests.ui.test_front_desk_windows import REQUESTS_JSON, _desk, _shot


def _map_physiotherapy(window: MainWindow, desk: Desk) -> Account:
    """A Docplanner account whose in-person address is mapped to the practice's calendar and
    offers Physiotherapy (the rows the mapping wizard writes; nothing is sent in this test)."""
    repo = window.ctx.session.repo
    account = Account(new_id(), ProviderKind.DOCPLANNER, "Docplanner (pl)", {"domain": "pl"})
    repo.add_account(account, actor="test")
    store = DocplannerStore(repo)
    calendar = repo.ensure_local_calendar()
    store.save_address(
        AddressMapping(account.id, "a-1", "f-1", "d-1", "Gabinet", False, False, None, calendar.id),
        FIXED_NOW,
    )
    store.save_service(
        ServiceMapping(account.id, "a-1", "s-1", "45", "Fizjoterapia", 50, 200, desk.physio.id)
    )
    return account


def test_booking_a_request_queues_it_for_docplanner(
    window: MainWindow, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    desk = _desk(window)
    account = _map_physiotherapy(window, desk)
    path = tmp_path / "leads.json"
    path.write_text(REQUESTS_JSON, encoding="utf-8")
    window.front_desk.open_requests()
    inbox = window.front_desk.requests
    assert isinstance(inbox, RequestsWindow)
    qtbot.waitExposed(inbox)
    inbox.import_path(path)
    inbox.list.setCurrentRow(0)
    assert inbox.heading.text() == "Jan Kowalski"
    inbox.preferred.buttons[0].click()
    settle(window)
    assert "Booked Jan Kowalski for Fri 16 May, 12:00." in inbox.message.text()
    assert "It goes to Docplanner at the next sync." in inbox.message.text()
    (action,) = ActionStore(window.ctx.session.repo).pending(account.id)
    assert action.kind == "book" and action.address_id == "a-1"
    assert action.payload["address_service_id"] == "s-1" and action.payload["duration"] == 50
    start = datetime.fromisoformat(str(action.payload["start"]))
    assert start.date() == date(2025, 5, 16)
    # Anna asks for a massage, which the Docplanner address does not offer.
    inbox.list.setCurrentRow(0)
    assert inbox.heading.text() == "Anna Nowak"
    inbox.preferred.buttons[0].click()
    settle(window)
    text = inbox.message.text()
    assert text.startswith("Booked Anna Nowak for Mon 19 May, 09:00.")
    assert (
        "Not booked on Docplanner: the calendar's Docplanner address Gabinet offers no service "
        "mapped to Massage; map one, or book the visit on Docplanner yourself." in text
    )
    _shot(inbox, "requests_inbox_docplanner")
    assert len(ActionStore(window.ctx.session.repo).pending(account.id)) == 1
    inbox.history.setChecked(True)
    states = {r.name: r.state for r in inbox.requests}
    assert states["Anna Nowak"] is RequestState.BOOKED
