"""Booking requests on Docplanner too, against the emulator: a request booked on a calendar
mapped to a Docplanner address is booked there at the next sync (actions go out before slots
are published, so the slot published earlier is still offered) and the booking is linked to
the request's appointment, never made a second one, also when the book call's answer is lost;
a retried booking queues nothing twice; an unmapped calendar queues nothing; a time Docplanner
does not offer parks the action with a readable error and the appointment stays."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from pathlib import Path

import pytest

from carecal.domain.errors import ValidationError
from carecal.domain.models import Event, ServiceType, VisitMode
from carecal.services.docplanner_actions import ActionRunner
from carecal.services.docplanner_mapping import find_node, list_tree, map_address, unmap_address
from carecal.services.docplanner_panel import list_actions
from carecal.services.docplanner_requests import DocplannerRequestBooking
from carecal.services.requests import Booked, RequestService
from carecal.services.slots import free_slots_for
from carecal.store.docplanner_actions import ActionStore, QueuedAction
from tests.services.test_docplanner_sync import Practice, practice

__all__ = ["practice"]

SERVICE = "Konsultacja psychologiczna"  # the office's default service, created by the mapping
DAY = "2026-11-04"


def _service(practice: Practice, name: str = SERVICE) -> ServiceType:
    return practice.session.repo.find_service(name)


def _requests(practice: Practice, booker: DocplannerRequestBooking | None = None) -> RequestService:
    return RequestService(
        practice.session.events,
        practice.session.db,
        clock=practice.time.now,
        external=[
            booker or DocplannerRequestBooking(practice.session.repo, clock=practice.time.now)
        ],
    )


def _request(practice: Practice, tmp_path: Path, service: str = SERVICE, rid: str = "r-1") -> str:
    row = {
        "id": rid,
        "name": "Jan Kowalski",
        "phone": "+48 700 800 900",
        "email": "jan@ex.pl",
        "service": service,
        "preferred": [{"date": DAY}],
        "source": "website",
    }
    path = tmp_path / f"{rid}.json"
    path.write_text(json.dumps([row]), encoding="utf-8")
    svc = RequestService(practice.session.events, practice.session.db, clock=practice.time.now)
    assert svc.import_file(path).added == 1
    (request,) = [r for r in svc.inbox() if r.name == "Jan Kowalski" and rid in r.id + r.origin]
    return request.id


def _both_free(practice: Practice, service: ServiceType, address: str) -> list[datetime]:
    """Starts free in Carecal for the service AND offered on Docplanner."""
    offered = set(practice.free(address, DAY))
    ours = free_slots_for(
        practice.session.repo, date.fromisoformat(DAY), service, now=practice.time.now()
    )
    return [s for s, _ in ours if s in offered]


def _actions(practice: Practice) -> list[QueuedAction]:
    return ActionStore(practice.session.repo).actions(practice.account.id)


def _integration(practice: Practice, address: str) -> list[dict[str, object]]:
    return [
        b
        for b in practice.emu.bookings_at(address)
        if b["status"] == "booked" and b["booked_by"] == "integration"
    ]


def _book(practice: Practice, tmp_path: Path) -> tuple[Booked, datetime]:
    assert practice.sync().ok
    service = _service(practice)
    start = _both_free(practice, service, practice.emu.ids.office)[1]
    booked = _requests(practice).book(_request(practice, tmp_path), start)
    assert booked.external_error is None
    return booked, start


def test_a_booked_request_is_booked_on_docplanner_and_linked_to_its_appointment(
    practice: Practice, tmp_path: Path
) -> None:
    emu, repo = practice.emu, practice.session.repo
    booked, start = _book(practice, tmp_path)
    (action,) = _actions(practice)
    assert action.kind == "book" and action.address_id == emu.ids.office
    assert action.payload["event_id"] == booked.event.id
    # The local appointment makes the time busy; the sync still books the published slot.
    report = practice.sync()
    assert report.ok, report.errors
    assert report.actions_sent == 1
    (made,) = _integration(practice, emu.ids.office)
    assert datetime.fromisoformat(str(made["start_at"])) == start
    patient = emu.state.bookings[str(made["id"])].patient
    assert (patient["name"], patient["surname"], patient["email"]) == (
        "Jan",
        "Kowalski",
        "jan@ex.pl",
    )
    (event,) = practice.appointments()
    assert event.id == booked.event.id and event.start == start
    assert event.patient_id == booked.patient.id
    link = practice.store.link(practice.account.id, str(made["id"]))
    assert link is not None and link.current and link.event_id == booked.event.id
    assert link.booked_by == "integration"
    assert start not in practice.free(emu.ids.office, DAY)
    assert ActionStore(repo).conflicts(practice.account.id) == []
    # Docplanner's slot-booked notification comes back: nothing else changes.
    before = repo.get_event(booked.event.id)
    patients = len(repo.list_patients())
    again = practice.sync()
    assert again.ok, again.errors
    assert again.applied >= 1 and again.actions_sent == 0
    assert practice.appointments() == [before]
    assert len(repo.list_patients()) == patients
    assert len(_integration(practice, emu.ids.office)) == 1
    assert [x.booking_id for x in practice.store.links_of_event(before.id)] == [made["id"]]


def test_a_lost_answer_is_adopted_by_the_listing_with_one_booking_and_one_appointment(
    practice: Practice, tmp_path: Path
) -> None:
    emu, repo = practice.emu, practice.session.repo
    booked, start = _book(practice, tmp_path)
    emu.timeout_after_commit(path_contains="/book", method="POST")
    lost = practice.sync()
    assert lost.offline and not lost.ok
    (action,) = ActionStore(repo).pending(practice.account.id)
    assert action.attempted
    assert len(_integration(practice, emu.ids.office)) == 1  # it happened on Docplanner
    # The runner alone (no pull first): the day's listing finds the booking and links it.
    runner = ActionRunner(repo, practice.account, practice.api, clock=practice.time.now)
    assert asyncio.run(runner.run()) == 1
    (made,) = _integration(practice, emu.ids.office)
    link = practice.store.link(practice.account.id, str(made["id"]))
    assert link is not None and link.event_id == booked.event.id
    healed = practice.sync()
    assert healed.ok, healed.errors
    (event,) = practice.appointments()
    assert event.id == booked.event.id and event.start == start
    assert len(_integration(practice, emu.ids.office)) == 1
    assert len([p for m, p, _ in emu.log if m == "POST" and p.endswith("/book")]) == 1


def test_a_lost_answer_seen_first_by_the_notification_is_linked_too(
    practice: Practice, tmp_path: Path
) -> None:
    emu, repo = practice.emu, practice.session.repo
    booked, _start = _book(practice, tmp_path)
    emu.timeout_after_commit(path_contains="/book", method="POST")
    assert practice.sync().offline
    # The next sync pulls slot-booked before it runs the actions: the booking adopts the
    # appointment the queued action names, and the action is found done by listing.
    healed = practice.sync()
    assert healed.ok, healed.errors
    (event,) = practice.appointments()
    assert event.id == booked.event.id
    (made,) = _integration(practice, emu.ids.office)
    link = practice.store.link(practice.account.id, str(made["id"]))
    assert link is not None and link.event_id == booked.event.id
    (action,) = _actions(practice)
    assert action.state == "done" and action.result_id == made["id"]
    assert len([p for m, p, _ in emu.log if m == "POST" and p.endswith("/book")]) == 1
    assert ActionStore(repo).pending(practice.account.id) == []


def test_booking_again_queues_one_action(practice: Practice, tmp_path: Path) -> None:
    repo = practice.session.repo
    booked, _start = _book(practice, tmp_path)
    # A retried RequestService.book calls after_booking again for the same appointment.
    retry = DocplannerRequestBooking(repo, clock=practice.time.now)
    retry.after_booking(booked.request, booked.event)
    assert retry.queued == []
    with pytest.raises(ValidationError):
        _requests(practice).book(booked.request.id, booked.event.start)  # type: ignore[arg-type]
    assert len(_actions(practice)) == 1
    assert practice.sync().ok
    retry.after_booking(booked.request, booked.event)  # linked by now: still nothing
    assert [a.state for a in _actions(practice)] == ["done"]


def test_an_unmapped_calendar_queues_nothing(practice: Practice, tmp_path: Path) -> None:
    repo = practice.session.repo
    assert practice.sync().ok
    service = _service(practice)
    start = _both_free(practice, service, practice.emu.ids.office)[0]
    for address in (practice.emu.ids.office, practice.emu.ids.online):
        unmap_address(repo, practice.account, address)
    booker = DocplannerRequestBooking(repo, clock=practice.time.now)
    booked = _requests(practice, booker).book(_request(practice, tmp_path), start)
    assert booked.external_error is None and booker.queued == []
    assert _actions(practice) == []
    assert practice.appointments()[0].id == booked.event.id


def test_a_service_not_mapped_there_is_reported_and_the_appointment_stays(
    practice: Practice, tmp_path: Path
) -> None:
    repo = practice.session.repo
    assert practice.sync().ok
    massage = ServiceType("svc-massage", "Massage", 50)
    repo.save_service(massage, actor="test")
    start = _both_free(practice, massage, practice.emu.ids.office)[0]
    booked = _requests(practice).book(_request(practice, tmp_path, "Massage"), start)
    assert booked.external_error is not None
    assert booked.external_error == (
        "none of the calendar's Docplanner addresses (Gabinet, Marszałkowska 1, Warszawa; "
        "Konsultacje online, Marszałkowska 1, Warszawa) offers a service mapped to Massage; "
        "map one, or book the visit on Docplanner yourself"
    )
    assert "Jan" not in booked.external_error and "Kowalski" not in booked.external_error
    assert _actions(practice) == []
    (event,) = practice.appointments()
    assert event.id == booked.event.id


def test_a_time_docplanner_does_not_offer_is_parked_and_the_appointment_stays(
    practice: Practice, tmp_path: Path
) -> None:
    emu = practice.emu
    assert practice.sync().ok
    service = _service(practice)
    offered = set(practice.free(emu.ids.office, DAY))
    ours = free_slots_for(
        practice.session.repo, date.fromisoformat(DAY), service, now=practice.time.now()
    )
    off_grid = [s for s, _ in ours if s not in offered]
    assert off_grid  # Carecal's 15-minute grid offers starts Docplanner's 50-minute one does not
    booked = _requests(practice).book(_request(practice, tmp_path), off_grid[0])
    report = practice.sync()
    assert not report.ok
    (line,) = report.errors
    assert "Docplanner offers no free slot of this service at" in line
    assert "Jan" not in line and "Kowalski" not in line
    (action,) = _actions(practice)
    assert action.state == "parked"
    (row,) = list_actions(practice.session.repo)
    assert row.reason.startswith("Docplanner offers no free slot of this service at")
    assert _integration(practice, emu.ids.office) == []
    (event,) = practice.appointments()
    assert event.id == booked.event.id and event.start == off_grid[0]


def test_a_video_visit_goes_to_the_online_address_when_both_offer_the_service(
    practice: Practice, tmp_path: Path
) -> None:
    repo, emu = practice.session.repo, practice.emu
    tree = asyncio.run(list_tree(practice.api))
    online = find_node(tree, emu.ids.online)
    # The online address's service stands for the same service type as the office's.
    map_address(
        repo,
        practice.account,
        online,
        practice.calendar,
        choices={online.services[0].id: SERVICE},
        actor="test",
        now=practice.time.now(),
    )
    booked, _start = _book(practice, tmp_path)
    (in_person,) = _actions(practice)
    assert in_person.address_id == emu.ids.office
    video = Event(
        "video-visit",
        booked.event.calendar_id,
        "",
        SERVICE,
        booked.event.start,
        booked.event.end,
        patient_id=booked.patient.id,
        service_id=booked.event.service_id,
        mode=VisitMode.VIDEO,
    )
    booker = DocplannerRequestBooking(repo, clock=practice.time.now)
    booker.after_booking(booked.request, video)
    (queued,) = booker.queued
    assert queued.address.address_id == emu.ids.online and queued.address.online_only
    assert ActionStore(repo).get(queued.seq) is not None
    assert {a.address_id for a in _actions(practice)} == {emu.ids.office, emu.ids.online}
