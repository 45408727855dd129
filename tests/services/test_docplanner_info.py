"""What the views say about a Docplanner booking: its source, every documented visit payment
status, the 90-minute payment window's minutes, and the batch query over real SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carecal.domain.models import Account, Event, ProviderKind, new_id
from carecal.services.accounts import list_accounts
from carecal.services.docplanner_info import PAYMENT_WINDOW, BookingInfo, booking_infos
from carecal.services.session import Session
from carecal.store.docplanner import AddressMapping, BookingLink, DocplannerStore
from carecal.store.repo import Repository

BOOKED_AT = datetime(2025, 5, 14, 8, 0, tzinfo=UTC)


def info(
    payment_status: str | None = None,
    *,
    visit_payment: bool = True,
    status: str = "booked",
    booked_by: str = "user",
    booked_at: datetime | None = BOOKED_AT,
) -> BookingInfo:
    return BookingInfo("b-1", status, booked_by, visit_payment, payment_status, booked_at)


def add_docplanner_booking(
    repo: Repository,
    event: Event,
    *,
    booking_id: str | None = None,
    booked_by: str = "user",
    visit_payment: bool = True,
    payment_status: str | None = None,
    status: str = "booked",
    booked_at: datetime | None = BOOKED_AT,
    current: bool = True,
) -> BookingLink:
    """Store ``event`` as booked through Docplanner: an account (once), an address mapped to
    the event's calendar, and the booking link, the way the sync leaves them."""
    store = DocplannerStore(repo)
    account = next((a for a in list_accounts(repo) if a.kind is ProviderKind.DOCPLANNER), None)
    if account is None:
        account = Account(new_id(), ProviderKind.DOCPLANNER, "Docplanner (pl)", {"domain": "pl"})
        repo.add_account(account, actor="test")
    store.save_address(
        AddressMapping(
            account_id=account.id,
            address_id="addr-online",
            facility_id="fac-1",
            doctor_id="doc-1",
            name="Online consultations",
            online_only=True,
            visit_payment=visit_payment,
            commercial_type="premium",
            calendar_id=event.calendar_id,
        ),
        BOOKED_AT,
    )
    assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
    link = BookingLink(
        account_id=account.id,
        booking_id=booking_id or new_id(),
        event_id=event.id,
        address_id="addr-online",
        origin_id=None,
        current=current,
        status=status,
        start=event.start,
        end=event.end,
        booked_by=booked_by,
        visit_payment=visit_payment,
        payment_status=payment_status,
        presence=None,
        booked_at=booked_at,
    )
    store.save_link(link, BOOKED_AT)
    return link


@pytest.mark.parametrize(
    ("payment_status", "state", "line"),
    [
        ("paid", "paid", "Paid online"),
        ("successful", "paid", "Paid online"),
        ("SUCCESSFUL ", "paid", "Paid online"),
        ("waiting_for_confirmation", "awaiting", "Awaiting payment: 43 min left"),
        ("in_progress", "awaiting", "Awaiting payment: 43 min left"),
        ("new", "awaiting", "Awaiting payment: 43 min left"),
        (None, "awaiting", "Awaiting payment: 43 min left"),
        ("not-paid", "failed", "Payment failed"),
        ("failed", "failed", "Payment failed"),
        ("canceled", "failed", "Payment failed"),
        ("refunded", "refunded", "Payment refunded"),
        ("charged_back", "refunded", "Payment refunded"),
        ("on_hold_by_bank", "unknown", "Payment status: on_hold_by_bank"),
    ],
)
def test_every_documented_payment_status(payment_status: str | None, state: str, line: str) -> None:
    booking = info(payment_status)
    now = BOOKED_AT + timedelta(minutes=47)
    assert booking.payment == state
    assert booking.payment_line(now) == line
    assert (booking.deadline() is not None) == (state == "awaiting")


@pytest.mark.parametrize("payment_status", ["not-paid", "failed", "canceled", None, "new"])
def test_a_cancelled_booking_not_paid_reads_as_cancelled(payment_status: str | None) -> None:
    booking = info(payment_status, status="canceled")
    assert booking.payment == "cancelled"
    assert booking.payment_line(BOOKED_AT) == "Cancelled: not paid in time"
    assert booking.deadline() is None


def test_a_cancelled_booking_keeps_paid_and_refunded() -> None:
    assert info("paid", status="canceled").payment == "paid"
    assert info("refunded", status="canceled").payment == "refunded"


def test_no_visit_payment_says_nothing_about_paying() -> None:
    booking = info("paid", visit_payment=False)
    assert booking.payment == "none"
    assert booking.payment_line(BOOKED_AT) == ""
    assert booking.time_left(BOOKED_AT) is None


def test_the_ninety_minutes_count_down_and_end() -> None:
    booking = info("new")
    assert booking.deadline() == BOOKED_AT + PAYMENT_WINDOW
    assert booking.payment_line(BOOKED_AT) == "Awaiting payment: 90 min left"
    # A started minute counts as a whole one: 42.5 minutes left still read 43.
    half = BOOKED_AT + timedelta(minutes=47, seconds=30)
    assert booking.time_left(half) == timedelta(minutes=42, seconds=30)
    assert booking.payment_line(half) == "Awaiting payment: 43 min left"
    last = BOOKED_AT + timedelta(minutes=89, seconds=50)
    assert booking.payment_line(last) == "Awaiting payment: 1 min left"
    over = BOOKED_AT + timedelta(minutes=95)
    assert booking.time_left(over) == timedelta(0)
    assert booking.payment_line(over) == "Awaiting payment (the 90 minutes are over)"


def test_without_a_booking_time_there_is_no_countdown() -> None:
    booking = info("in_progress", booked_at=None)
    assert booking.deadline() is None and booking.time_left(BOOKED_AT) is None
    assert booking.payment_line(BOOKED_AT) == "Awaiting payment"


@pytest.mark.parametrize(
    ("booked_by", "source"),
    [
        ("user", "Booked on Docplanner by the patient"),
        ("doctor", "Booked on Docplanner by the practice"),
        ("integration", "Booked on Docplanner by Carecal"),
        ("", "Booked on Docplanner"),
        ("somebody_new", "Booked on Docplanner"),
    ],
)
def test_source_names_who_booked(booked_by: str, source: str) -> None:
    assert info(booked_by=booked_by).source == source


def _event(session: Session, title: str, hour: int) -> Event:
    repo = session.repo
    start = datetime(2025, 5, 14, hour, tzinfo=UTC)
    ev = Event(
        id=new_id(),
        calendar_id=repo.ensure_local_calendar().id,
        uid="",
        title=title,
        start=start,
        end=start + timedelta(minutes=30),
        tzid="Europe/Warsaw",
    )
    session.events.create(ev)
    return ev


def test_booking_infos_reads_the_current_links_of_many_events(session: Session) -> None:
    repo = session.repo
    paid = _event(session, "Paid visit", 9)
    waiting = _event(session, "Waiting visit", 10)
    plain = _event(session, "Walk-in", 11)
    moved = _event(session, "Moved visit", 12)
    add_docplanner_booking(repo, paid, payment_status="paid", booked_by="doctor")
    add_docplanner_booking(repo, waiting, payment_status="new")
    # A booking moved on Docplanner: the old id is no longer current, the new one is.
    add_docplanner_booking(repo, moved, booking_id="old", payment_status="new")
    add_docplanner_booking(repo, moved, booking_id="new", payment_status="successful")
    found = booking_infos(repo, [paid.id, waiting.id, plain.id, moved.id, "no-such-event"])
    assert set(found) == {paid.id, waiting.id, moved.id}
    assert found[paid.id].payment == "paid"
    assert found[paid.id].source == "Booked on Docplanner by the practice"
    assert found[waiting.id].payment == "awaiting"
    assert found[waiting.id].booked_at == BOOKED_AT
    assert found[moved.id].booking_id == "new" and found[moved.id].payment == "paid"
    assert booking_infos(repo, []) == {}


def test_booking_infos_handles_more_ids_than_one_query_binds(session: Session) -> None:
    repo = session.repo
    ev = _event(session, "Visit", 9)
    add_docplanner_booking(repo, ev, payment_status="new")
    ids = [new_id() for _ in range(1200)] + [ev.id]
    assert list(booking_infos(repo, ids)) == [ev.id]
