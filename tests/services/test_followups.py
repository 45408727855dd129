"""Follow-up offers after a completed visit, the recall list, and booking them (Qt-free)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from carecal.domain.errors import ValidationError
from carecal.domain.models import AppointmentStatus, Event, Occurrence, Participant
from carecal.services.followups import FollowupService, followup_weeks
from carecal.services.session import Session
from tests.services.desk_practice import NOW, WARSAW, Desk, at, build_desk, private, visit


@pytest.fixture()
def desk(session: Session) -> Desk:
    return build_desk(session)


@pytest.fixture()
def followups(session: Session) -> FollowupService:
    return FollowupService(session.events, clock=lambda: NOW)


def _occ(event: Event) -> Occurrence:
    return Occurrence(event, event.start, event.end)


def test_offer_uses_the_service_interval_and_respects_hours_and_busy_time(
    session: Session, desk: Desk, followups: FollowupService
) -> None:
    done = visit(
        session, desk.anna, desk.physio, at(date(2025, 5, 12), "10:00"), AppointmentStatus.COMPLETED
    )
    # Friday 6 June (three days before the target) is busy until 12:00.
    private(session, at(date(2025, 6, 6), "07:00"), at(date(2025, 6, 6), "12:00"))
    offer = followups.offer(_occ(done), count=4)
    assert offer is not None
    assert offer.weeks == 4 and offer.target == date(2025, 6, 9)
    assert offer.patient.id == desk.anna.id and offer.service.id == desk.physio.id
    starts = [s.astimezone(WARSAW).strftime("%a %d %H:%M") for s, _ in offer.slots]
    # 12:00 fits before lunch; 12:30 would run into it; then 13:30, 14:00, ...
    assert starts == ["Fri 06 12:00", "Fri 06 13:30", "Fri 06 14:00", "Fri 06 14:30"]
    for start, end in offer.slots:
        assert end - start == timedelta(minutes=50)


def test_offer_for_a_service_without_interval_uses_the_default_setting(
    session: Session, desk: Desk, followups: FollowupService
) -> None:
    session.repo.save_settings(
        replace(session.repo.settings(), followup_default_weeks=2), actor="test"
    )
    done = visit(
        session,
        desk.marek,
        desk.massage,
        at(date(2025, 5, 13), "09:00"),
        AppointmentStatus.COMPLETED,
    )
    offer = followups.offer(_occ(done))
    assert offer is not None and offer.weeks == 2 and offer.target == date(2025, 5, 27)
    assert followup_weeks(desk.massage, session.repo.settings()) == 2
    assert followup_weeks(desk.physio, session.repo.settings()) == 4


def test_no_offer_for_a_group_visit_or_without_patient(
    session: Session, desk: Desk, followups: FollowupService
) -> None:
    group = visit(
        session, desk.anna, desk.physio, at(date(2025, 5, 12), "11:00"), AppointmentStatus.COMPLETED
    )
    group = group.with_changes(
        participants=(Participant(desk.anna.id), Participant(desk.zofia.id)), capacity=4
    )
    assert followups.offer(_occ(group)) is None
    lone = private(session, at(date(2025, 5, 12), "15:00"), at(date(2025, 5, 12), "16:00"))
    assert followups.offer(_occ(lone)) is None


def test_booking_an_offer_goes_through_event_service_and_refuses_a_taken_slot(
    session: Session, desk: Desk, followups: FollowupService
) -> None:
    done = visit(
        session, desk.anna, desk.physio, at(date(2025, 5, 12), "10:00"), AppointmentStatus.COMPLETED
    )
    offer = followups.offer(_occ(done))
    assert offer is not None
    start = offer.slots[1][0]
    event, changes = followups.book_offer(offer, start)
    stored = session.repo.get_event(event.id)
    assert event.id in changes.events
    assert stored.patient_id == desk.anna.id and stored.service_id == desk.physio.id
    assert stored.status is AppointmentStatus.SCHEDULED
    assert stored.start == start and stored.end - stored.start == timedelta(minutes=50)
    actions = [e.action for e in session.repo.audit.entries(entity_id=event.id)]
    assert actions == ["create"]
    with pytest.raises(ValidationError, match="no longer free"):
        followups.book_offer(offer, start)


def test_recall_list_sorted_by_due_date_skips_rebooked_and_services_without_interval(
    session: Session, desk: Desk, followups: FollowupService
) -> None:
    # Anna: physio on 2 May, nothing after -> due 30 May.
    visit(
        session, desk.anna, desk.physio, at(date(2025, 5, 2), "10:00"), AppointmentStatus.COMPLETED
    )
    # Marek: physio on 10 April -> due 8 May (overdue); an earlier physio visit does not matter.
    visit(
        session, desk.marek, desk.physio, at(date(2025, 3, 3), "10:00"), AppointmentStatus.COMPLETED
    )
    visit(
        session,
        desk.marek,
        desk.physio,
        at(date(2025, 4, 10), "10:00"),
        AppointmentStatus.COMPLETED,
    )
    # A cancelled later visit does not count as booked.
    visit(
        session,
        desk.marek,
        desk.physio,
        at(date(2025, 5, 20), "10:00"),
        AppointmentStatus.CANCELLED,
    )
    # Zofia: physio done, but already rebooked -> not due.
    visit(
        session,
        desk.zofia,
        desk.physio,
        at(date(2025, 4, 28), "09:00"),
        AppointmentStatus.COMPLETED,
    )
    visit(session, desk.zofia, desk.physio, at(date(2025, 5, 26), "09:00"))
    recalls = followups.recalls()
    assert [(r.patient.first_name, r.due) for r in recalls] == [
        ("Marek", date(2025, 5, 8)),
        ("Anna", date(2025, 5, 30)),
    ]
    assert recalls[0].overdue_days(date(2025, 5, 14)) == 6
    assert [r.patient.first_name for r in followups.recalls(within_days=7)] == ["Marek"]


def test_a_service_without_interval_never_reaches_the_recall_list(
    session: Session, desk: Desk, followups: FollowupService
) -> None:
    visit(
        session, desk.anna, desk.massage, at(date(2025, 4, 1), "10:00"), AppointmentStatus.COMPLETED
    )
    assert followups.recalls() == []


def test_booking_from_the_recall_list_removes_the_patient_from_it(
    session: Session, desk: Desk, followups: FollowupService
) -> None:
    visit(
        session,
        desk.marek,
        desk.physio,
        at(date(2025, 4, 10), "10:00"),
        AppointmentStatus.COMPLETED,
    )
    (recall,) = followups.recalls()
    slots = followups.recall_slots(recall, count=3)
    # Overdue: slots start today, after now (10:37 in Warsaw), on the 30-minute grid.
    assert slots[0][0] == at(date(2025, 5, 14), "11:00")
    followups.book_recall(recall, slots[0][0])
    assert followups.recalls() == []
