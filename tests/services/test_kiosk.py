"""The kiosk's rules and use cases, without Qt: names, PINs, check-in, self check-in, walk-ins."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from carecal.domain.models import AppointmentStatus, Attendance, Patient, Settings
from carecal.services.kiosk import (
    KioskNotReady,
    KioskRefused,
    KioskService,
    NameStyle,
    VisitState,
    WalkInPatient,
    clear_pin,
    hash_pin,
    require_pin,
    set_pin,
    validate_pin,
    verify_pin,
)
from carecal.services.kiosk_rules import AttemptLimiter, fold_letters, initials_of, patient_label
from carecal.services.session import Session
from carecal.store.outbox import OpKind
from tests.services.kiosk_practice import NOW, PIN, TODAY, Practice, at, build_practice


@pytest.fixture()
def practice(session: Session) -> Practice:
    return build_practice(session)


@pytest.fixture()
def kiosk(session: Session, practice: Practice) -> KioskService:
    return KioskService(session.repo, clock=lambda: NOW)


def _visit(kiosk: KioskService, event_id: str, day: date = TODAY):  # type: ignore[no-untyped-def]
    return next(v for v in kiosk.visits(day) if v.key[0] == event_id)


# --- names and PINs ---------------------------------------------------------------------------


def test_name_styles() -> None:
    p = Patient("x", "Anna", "Nowak-Wróbel")
    assert patient_label(p, NameStyle.SHORT) == "Anna N."
    assert patient_label(p, NameStyle.INITIALS) == "A. N."
    assert patient_label(p, NameStyle.FULL) == "Anna Nowak-Wróbel"
    assert NameStyle.of("bogus") is NameStyle.SHORT


def test_initials_fold_accents_and_punctuation() -> None:
    assert initials_of(Patient("x", "Łucja", "Żak")) == "LZ"
    assert fold_letters(" l. z. ") == "LZ"
    assert fold_letters("Ó-ś") == "OS"


def test_pin_is_hashed_with_a_salt_and_verified() -> None:
    first, second = hash_pin("2468"), hash_pin("2468")
    assert first != second  # a fresh salt each time
    assert "2468" not in first and first.startswith("scrypt$")
    assert verify_pin("2468", first) and verify_pin("2468", second)
    assert not verify_pin("2469", first)
    assert not verify_pin("2468", "") and not verify_pin("2468", "scrypt$1$2$3$zz$zz")


@pytest.mark.parametrize("bad", ["", "123", "12a4", "１２３４", "1234567890123"])
def test_bad_pins_are_refused(bad: str) -> None:
    with pytest.raises(Exception, match="PIN"):
        validate_pin(bad)


def test_pin_set_and_cleared_in_settings(session: Session) -> None:
    with pytest.raises(KioskNotReady, match="needs a PIN"):
        require_pin(session.repo.settings())
    set_pin(session.repo, "13579", actor="test")
    stored = session.repo.settings().kiosk_pin_hash
    assert stored and "13579" not in stored
    require_pin(session.repo.settings())
    clear_pin(session.repo, actor="test")
    with pytest.raises(KioskNotReady):
        require_pin(session.repo.settings())


def test_settings_defaults() -> None:
    s = Settings()
    assert (s.kiosk_names, s.kiosk_self_checkin, s.kiosk_idle_seconds, s.kiosk_pin_hash) == (
        "short",
        False,
        60,
        "",
    )


def test_exit_pin_locks_after_five_wrong(kiosk: KioskService) -> None:
    assert kiosk.check_exit_pin(PIN)
    for _ in range(5):
        assert not kiosk.check_exit_pin("0000")
    with pytest.raises(KioskRefused, match="Too many"):
        kiosk.check_exit_pin(PIN)
    kiosk.clock = lambda: NOW + timedelta(seconds=31)
    assert kiosk.check_exit_pin(PIN)


def test_limiter_resets_on_success() -> None:
    limiter = AttemptLimiter(limit=2)
    limiter.record(False, NOW)
    limiter.record(True, NOW)
    limiter.record(False, NOW)
    limiter.check(NOW)  # not locked: the success reset the count


# --- what the kiosk shows ---------------------------------------------------------------------


def test_today_lists_appointments_with_short_names_only(
    kiosk: KioskService, practice: Practice
) -> None:
    visits = kiosk.visits(TODAY)
    assert [v.start.strftime("%H:%M") for v in visits] == ["09:00", "11:00", "12:00"]
    assert all(v.key[0] != practice.personal.id for v in visits)  # no patient, not shown
    anna = visits[0]
    assert anna.service == "Therapy session"  # never the free-text title with the full name
    assert [a.label for a in anna.attendees] == ["Anna N."]
    group = visits[2]
    assert group.group and [a.label for a in group.attendees] == ["Zofia K.", "Tomasz P.", "Ewa Ł."]


def test_other_days_show_no_names_and_past_days_nothing(
    kiosk: KioskService, practice: Practice
) -> None:
    tomorrow = kiosk.visits(TODAY + timedelta(days=1))
    assert len(tomorrow) == 1 and tomorrow[0].attendees[0].label == ""
    assert not tomorrow[0].attendees[0].can_arrive
    with pytest.raises(KioskRefused):
        kiosk.visits(TODAY - timedelta(days=1))
    with pytest.raises(KioskRefused):
        kiosk.visits(TODAY + timedelta(days=4))


def test_name_setting_is_respected(session: Session, kiosk: KioskService) -> None:
    for style, expected in (("initials", "A. N."), ("full", "Anna Nowak")):
        session.repo.save_settings(
            dataclasses.replace(session.repo.settings(), kiosk_names=style), actor="test"
        )
        assert kiosk.visits(TODAY)[0].attendees[0].label == expected


# --- staff check-in and no-show -----------------------------------------------------------------


def test_check_in_sets_status_and_goes_through_the_outbox_and_audit(
    session: Session, kiosk: KioskService, practice: Practice
) -> None:
    visit = _visit(kiosk, practice.marek_11.id)
    assert visit.attendees[0].can_arrive and not visit.attendees[0].can_no_show
    changes = kiosk.check_in(visit.key, TODAY, practice.marek.id)
    assert practice.marek_11.id in changes.events
    assert session.repo.get_event(practice.marek_11.id).status is AppointmentStatus.ARRIVED
    entry = session.repo.audit.entries()[-1]
    assert (entry.actor, entry.entity_id) == ("kiosk", practice.marek_11.id)
    assert entry.after is not None and entry.after["status"] == "arrived"
    ops = [o for o in session.repo.pending_ops() if o.event_id == practice.marek_11.id]
    assert ops[-1].kind is OpKind.UPDATE and ops[-1].payload["status"] == "arrived"
    assert _visit(kiosk, practice.marek_11.id).attendees[0].state is VisitState.ARRIVED
    with pytest.raises(KioskRefused, match="already marked arrived"):
        kiosk.check_in(visit.key, TODAY, practice.marek.id)


def test_group_check_in_is_per_participant(
    session: Session, kiosk: KioskService, practice: Practice
) -> None:
    visit = _visit(kiosk, practice.group_12.id)
    kiosk.check_in(visit.key, TODAY, practice.tomasz.id)
    stored = session.repo.get_event(practice.group_12.id)
    attendance = {p.patient_id: p.attendance for p in stored.participants}
    assert attendance == {
        practice.zofia.id: Attendance.EXPECTED,
        practice.tomasz.id: Attendance.ARRIVED,
        practice.ewa.id: Attendance.EXPECTED,
    }
    assert stored.status is AppointmentStatus.ARRIVED
    states = [a.state for a in _visit(kiosk, practice.group_12.id).attendees]
    assert states == [VisitState.EXPECTED, VisitState.ARRIVED, VisitState.EXPECTED]


def test_no_show_refused_before_the_start(kiosk: KioskService, practice: Practice) -> None:
    visit = _visit(kiosk, practice.marek_11.id)
    with pytest.raises(KioskRefused, match="after its start"):
        kiosk.no_show(visit.key, TODAY, practice.marek.id)


def test_no_show_after_the_start(session: Session, kiosk: KioskService, practice: Practice) -> None:
    visit = _visit(kiosk, practice.anna_9.id)
    assert visit.attendees[0].can_no_show
    kiosk.no_show(visit.key, TODAY, practice.anna.id)
    assert session.repo.get_event(practice.anna_9.id).status is AppointmentStatus.NO_SHOW
    # A very late patient can still be marked arrived.
    kiosk.check_in(visit.key, TODAY, practice.anna.id)
    assert session.repo.get_event(practice.anna_9.id).status is AppointmentStatus.ARRIVED


def test_tomorrow_cannot_be_checked_in(kiosk: KioskService, practice: Practice) -> None:
    day = TODAY + timedelta(days=1)
    visit = _visit(kiosk, practice.anna_tomorrow.id, day)
    with pytest.raises(KioskRefused, match="today"):
        kiosk.check_in(visit.key, day, practice.anna.id)


def test_check_in_of_a_series_occurrence_makes_an_override(
    session: Session, kiosk: KioskService, practice: Practice
) -> None:
    series = practice.marek_11.with_changes(
        id="weekly", uid="", start=at("14:00", TODAY - timedelta(days=7)),
        end=at("14:50", TODAY - timedelta(days=7)), rrule="FREQ=WEEKLY;COUNT=4", raw=None,
    )  # fmt: skip
    session.events.create(series)
    visit = next(v for v in kiosk.visits(TODAY) if v.key[0] == "weekly")
    kiosk.check_in(visit.key, TODAY, practice.marek.id)
    master, overrides = session.repo.get_series("weekly")
    assert master.status is AppointmentStatus.CONFIRMED
    assert [o.status for o in overrides] == [AppointmentStatus.ARRIVED]


# --- self check-in ------------------------------------------------------------------------------


def test_self_check_in_finds_own_visit_with_dob_and_initials(
    session: Session, kiosk: KioskService, practice: Practice
) -> None:
    match = kiosk.find_own_visit(date(1990, 7, 21), "m.z.")
    assert match is not None
    assert (match.first_name, match.service, match.start.strftime("%H:%M")) == (
        "Marek",
        "Therapy session",
        "11:00",
    )
    kiosk.self_check_in(match)
    assert session.repo.get_event(practice.marek_11.id).status is AppointmentStatus.ARRIVED
    assert session.repo.audit.entries()[-1].actor == "kiosk:self"
    assert kiosk.find_own_visit(date(1990, 7, 21), "MZ") is None  # already checked in


def test_self_check_in_in_a_group_touches_only_that_participant(
    session: Session, kiosk: KioskService, practice: Practice
) -> None:
    match = kiosk.find_own_visit(date(1966, 6, 16), "EL")  # Ewa Łukasik
    assert match is not None
    kiosk.self_check_in(match)
    stored = session.repo.get_event(practice.group_12.id)
    arrived = [p.patient_id for p in stored.participants if p.attendance is Attendance.ARRIVED]
    assert arrived == [practice.ewa.id]


@pytest.mark.parametrize(
    ("born", "initials"),
    [
        (date(1990, 7, 21), "MK"),  # right date, wrong initials
        (date(1990, 7, 22), "MZ"),  # wrong date
        (date(1985, 3, 2), "AN"),  # Anna's visit is over
        (date(1990, 7, 21), ""),
    ],
)
def test_self_check_in_wrong_data_finds_nothing(
    kiosk: KioskService, born: date, initials: str
) -> None:
    assert kiosk.find_own_visit(born, initials) is None


def test_self_check_in_off_or_locked(session: Session, kiosk: KioskService) -> None:
    for _ in range(5):
        assert kiosk.find_own_visit(date(2000, 1, 1), "XX") is None
    with pytest.raises(KioskRefused, match="Too many"):
        kiosk.find_own_visit(date(1990, 7, 21), "MZ")
    session.repo.save_settings(
        dataclasses.replace(session.repo.settings(), kiosk_self_checkin=False), actor="test"
    )
    with pytest.raises(KioskRefused, match="not enabled"):
        kiosk.find_own_visit(date(1990, 7, 21), "MZ")


def test_twins_with_same_initials_are_sent_to_the_desk(
    session: Session, kiosk: KioskService, practice: Practice
) -> None:
    twin = Patient("twin", "Marta", "Zielińska", birth_date=date(1990, 7, 21))
    session.repo.add_patient(twin, actor="test")
    session.events.create(
        practice.marek_11.with_changes(id="twin-visit", uid="", patient_id="twin", raw=None)
    )
    assert kiosk.find_own_visit(date(1990, 7, 21), "MZ") is None


# --- walk-ins -----------------------------------------------------------------------------------


def test_walk_in_takes_a_free_slot_which_is_then_gone(
    session: Session, kiosk: KioskService, practice: Practice
) -> None:
    slots = kiosk.walk_in_slots(practice.therapy.id)
    starts = [s.strftime("%H:%M") for s, _ in slots]
    # 10:45 would run into Marek at 11:00; the group runs 12:00-13:30 over the lunch break.
    assert starts[:3] == ["13:30", "13:45", "14:00"]
    assert all(s >= at("10:37") for s, _ in slots)
    event, changes = kiosk.book_walk_in(
        practice.therapy.id, slots[0][0], WalkInPatient("Jan", "Kos", date(1970, 1, 1))
    )
    assert event.id in changes.events and changes.patients
    stored = session.repo.get_event(event.id)
    assert stored.status is AppointmentStatus.CONFIRMED
    assert session.repo.get_patient(stored.patient_id or "").full_name == "Jan Kos"
    assert session.repo.audit.entries()[-1].actor == "kiosk"
    after = [s for s, _ in kiosk.walk_in_slots(practice.therapy.id)]
    assert slots[0][0] not in after
    with pytest.raises(KioskRefused, match="just taken"):
        kiosk.book_walk_in(practice.therapy.id, slots[0][0], WalkInPatient("Ola"))


def test_walk_in_reuses_a_known_patient(
    session: Session, kiosk: KioskService, practice: Practice
) -> None:
    start = kiosk.walk_in_slots(practice.therapy.id)[0][0]
    event, changes = kiosk.book_walk_in(
        practice.therapy.id, start, WalkInPatient(" anna ", "NOWAK", date(1985, 3, 2))
    )
    assert event.patient_id == practice.anna.id and not changes.patients


def test_walk_in_needs_a_first_name(kiosk: KioskService, practice: Practice) -> None:
    start = kiosk.walk_in_slots(practice.therapy.id)[0][0]
    with pytest.raises(Exception, match="first name"):
        kiosk.book_walk_in(practice.therapy.id, start, WalkInPatient("  "))
