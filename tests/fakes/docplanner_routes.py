"""Routing of the Docplanner emulator's `/api/v3/integration` requests: one `Router` per
request, run under the emulator's lock, turning a method, path, query and JSON body into a
`Reply` or raising a DocplannerError. Endpoints and status codes follow
../shared/reference/data/docplanner/endpoints.json; the rules themselves live in
docplanner_practice (bookings, breaks, services), docplanner_slots and docplanner_tree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tests.fakes.docplanner_bookings import Booking
from tests.fakes.docplanner_breaks import CalendarBreak
from tests.fakes.docplanner_clock import parse_instant, render
from tests.fakes.docplanner_errors import (
    DocplannerError,
    FieldErrors,
    bad_request,
    conflict,
    forbidden,
    not_found,
    unprocessable,
)
from tests.fakes.docplanner_slots import delete_day, free_starts, parse_put, replace
from tests.fakes.docplanner_tree import (
    ADDRESS_SCOPES,
    DICTIONARY_SERVICES,
    DOCTOR_SCOPES,
    Address,
)

if TYPE_CHECKING:
    from tests.fakes.docplanner_server import DocplannerEmulator

SLOTS_MAX_RANGE = timedelta(days=180)
DUPLICATE_PUT_WINDOW = timedelta(minutes=3)
RELEASE_INTERVAL = timedelta(hours=1)
BOOKING_LIST_SCOPES = frozenset(
    {
        "booking.patient",
        "booking.address_service",
        "booking.presence",
        "booking.confirmation",
        "address_service.public_insurance_flow",
    }
)
SERVICE_SCOPES = frozenset(
    {
        "address_service.allowed_patients",
        "address_service.custom_name",
        "address_service.public_insurance_flow",
    }
)


@dataclass
class Reply:
    """One answer: status, JSON body (None: empty), headers, the body's kind for the field
    check, and for PUT slots the work to apply after the processing time."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = "?"
    finish: Callable[[], None] | None = None


class Router:
    """Routes one API request; every method runs under the emulator's lock."""

    def __init__(
        self,
        emu: DocplannerEmulator,
        method: str,
        segs: list[str],
        query: dict[str, list[str]],
        body: Any,
        zone: ZoneInfo,
        domain: str,
    ) -> None:
        self.emu, self.method, self.segs, self.query, self.body = emu, method, segs, query, body
        self.zone, self.domain = zone, domain
        self.state = emu.state
        self.tree = emu.state.tree

    # ----- helpers ----------------------------------------------------------------------------
    def q(self, key: str) -> str | None:
        values = self.query.get(key)
        return values[-1] if values else None

    def instant(self, key: str, *, source: dict[str, Any] | None = None) -> datetime:
        """A required date-time from the query (or a body); 400 when missing or malformed."""
        raw = source.get(key) if source is not None else self.q(key)
        if raw is None or raw == "":
            raise DocplannerError(
                400, "Validation failed", {key: ["This value should not be blank."]}
            )
        try:
            value, had_offset = parse_instant(raw, self.state.zone)
        except (TypeError, ValueError):
            raise DocplannerError(
                400, "Validation failed", {key: ["This value is not a valid datetime."]}
            ) from None
        if not had_offset:
            self.state.naive_dates.append(str(raw))
        return value

    def obj(self) -> dict[str, Any]:
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise bad_request("The request body must be a JSON object.")
        return self.body

    def no_route(self) -> DocplannerError:
        return DocplannerError(404, f'No route found for "{self.method} /{"/".join(self.segs)}"')

    def render_booking(
        self, booking: Booking, scopes: frozenset[str], full: bool
    ) -> dict[str, Any]:
        return booking.resource(
            self.zone,
            scopes=scopes,
            full=full,
            dialect=self.emu.payment_dialect,
            newest_id=self.state.newest(booking),
            video_on_lists=self.emu.video_on_lists,
        )

    def location(self, tail: str) -> dict[str, str]:
        return {"Location": self.emu.api_base_for(self.domain) + tail}

    # ----- routing ----------------------------------------------------------------------------
    def route(self) -> Reply:
        segs, method = self.segs, self.method
        if segs == ["facilities"] and method == "GET":
            items = [
                {"id": f.id, "name": f.name} for f in self.tree.facilities.values() if f.granted
            ]
            return Reply(200, {"_items": items}, kind="facilities")
        if segs[:1] == ["facilities"] and len(segs) >= 2:
            return self.facility_route(segs[1], segs[2:])
        if segs == ["services"] and method == "GET":
            items = [{"id": i, "name": n} for i, n in DICTIONARY_SERVICES]
            return Reply(200, {"_items": items}, kind="services")
        if segs == ["insurance-providers"] and method == "GET":
            return Reply(200, {"_items": []}, kind="insurance_providers")
        if segs[:1] == ["notifications"]:
            return self.notifications_route(segs[1:])
        raise self.no_route()

    def facility_route(self, facility_id: str, tail: list[str]) -> Reply:
        fac = self.tree.facility(facility_id)
        if not tail and self.method == "GET":
            scopes = self.tree.scopes(self.query, frozenset({"facility.doctors"}))
            out: dict[str, Any] = {"id": fac.id, "name": fac.name}
            if "facility.doctors" in scopes:
                out["doctors"] = {
                    "_items": [
                        d.render(frozenset(), self._profiles()) for d in fac.doctors.values()
                    ]
                }
            return Reply(200, out, kind="facility")
        if tail == ["doctors"] and self.method == "GET":
            scopes = self.tree.scopes(self.query, DOCTOR_SCOPES - {"doctor.addresses"})
            items = [d.render(scopes, self._profiles()) for d in fac.doctors.values()]
            return Reply(200, {"_items": items}, kind="doctors")
        if tail[:1] == ["doctors"] and len(tail) >= 2:
            return self.doctor_route(facility_id, tail[1], tail[2:])
        raise self.no_route()

    def _profiles(self) -> str:
        return f"https://www.{self.domain}/profil"

    def doctor_route(self, facility_id: str, doctor_id: str, tail: list[str]) -> Reply:
        doc = self.tree.doctor(facility_id, doctor_id)
        if not tail and self.method == "GET":
            scopes = self.tree.scopes(
                self.query, DOCTOR_SCOPES | ADDRESS_SCOPES - {"address.insurance_support"}
            )
            return Reply(200, doc.render(scopes, self._profiles()), kind="doctor")
        if tail == ["addresses"] and self.method == "GET":
            scopes = self.tree.scopes(self.query, ADDRESS_SCOPES)
            items = [a.render(scopes) for a in doc.addresses.values()]
            return Reply(200, {"_items": items}, kind="addresses")
        if tail == ["opinion-request"] and self.method == "PUT":
            return Reply(200, kind="empty")
        if tail[:1] == ["addresses"] and len(tail) >= 2:
            addr = self.tree.address(facility_id, doctor_id, tail[1])
            return self.address_route(addr, tail[2:])
        raise self.no_route()

    def address_route(self, addr: Address, tail: list[str]) -> Reply:
        method = self.method
        if not tail:
            if method == "GET":
                scopes = self.tree.scopes(self.query, ADDRESS_SCOPES)
                return Reply(200, addr.render(scopes), kind="address")
            if method == "PATCH":
                value = self.obj().get("insurance_support")
                if not isinstance(value, str):
                    raise DocplannerError(
                        400, "Validation failed", {"insurance_support": ["Invalid value."]}
                    )
                addr.insurance_support = value
                return Reply(200, addr.render(ADDRESS_SCOPES), kind="address")
            raise self.no_route()
        head, rest = tail[0], tail[1:]
        if head == "services":
            return self.services_route(addr, rest)
        if head == "calendar":
            return self.calendar_route(addr, rest)
        if head == "breaks":
            return self.breaks_route(addr, rest)
        if head == "slots":
            return self.slots_route(addr, rest)
        if head == "bookings":
            return self.bookings_route(addr, rest)
        raise self.no_route()

    # ----- address services -------------------------------------------------------------------
    def services_route(self, addr: Address, rest: list[str]) -> Reply:
        scopes = self.tree.scopes(
            self.query,
            frozenset(
                {
                    "address_service.allowed_patients",
                    "address_service.custom_name",
                    "address_service.public_insurance_flow",
                }
            ),
        )
        if not rest and self.method == "GET":
            items = [s.render(scopes) for s in addr.services.values()]
            return Reply(200, {"_items": items}, kind="address_services")
        if not rest and self.method == "POST":
            body = self.obj()
            service_id = body.get("service_id")
            if not isinstance(service_id, str | int) or str(service_id) not in dict(
                DICTIONARY_SERVICES
            ):
                raise DocplannerError(
                    400, "Validation failed", {"service_id": ["Unknown service."]}
                )
            fields = _service_fields(body)
            svc = self.state.add_service(addr, str(service_id), "integration", **fields)
            path = self.emu.path_to(addr.id)
            return Reply(201, headers=self.location(f"{path}/services/{svc.id}"), kind="empty")
        if len(rest) == 1:
            svc = self.tree.service(addr, rest[0])
            if self.method == "GET":
                return Reply(200, svc.render(scopes), kind="address_service")
            if self.method == "PATCH":
                self.state.change_service(addr, svc, "integration", **_service_fields(self.obj()))
                return Reply(200, svc.render(scopes), kind="address_service")
            if self.method == "DELETE":
                self.state.delete_service(addr, svc, "integration")
                return Reply(204)
        raise self.no_route()

    # ----- calendar ---------------------------------------------------------------------------
    def calendar_route(self, addr: Address, rest: list[str]) -> Reply:
        if not rest and self.method == "GET":
            if addr.calendar is None:
                raise not_found("Calendar does not exist.")
            return Reply(200, {"status": addr.calendar}, kind="calendar")
        if rest in (["enable"], ["disable"]) and self.method == "POST":
            wanted = rest[0] + "d"
            if addr.calendar == wanted:
                raise conflict(f"The calendar is already {wanted}.")
            if wanted == "enabled" and not addr.commercial:
                raise unprocessable("The address is not commercial.")
            addr.calendar = wanted
            return Reply(200, kind="empty")
        raise self.no_route()

    # ----- breaks -----------------------------------------------------------------------------
    def breaks_route(self, addr: Address, rest: list[str]) -> Reply:
        zone = self.zone
        if not rest and self.method == "GET":
            since, till = self.instant("since"), self.instant("till")
            found = sorted(
                (
                    k
                    for k in self.state.breaks.values()
                    if k.address_id == addr.id and k.since < till and since < k.till
                ),
                key=lambda k: (k.since, k.id),
            )
            return Reply(200, {"_items": [k.resource(zone) for k in found]}, kind="breaks")
        if not rest and self.method == "POST":
            body = self.obj()
            since = self.instant("since", source=body)
            till = self.instant("till", source=body)
            description = body.get("description") or ""
            coupled = bool(body.get("apply_on_coupled_addresses", False))
            made = self.state.add_break(
                addr, since, till, str(description), "integration", coupled=coupled
            )
            path = self.emu.path_to(addr.id)
            return Reply(201, headers=self.location(f"{path}/breaks/{made.id}"), kind="empty")
        if len(rest) == 1:
            item: CalendarBreak = self.state.calendar_break(addr, rest[0])
            if self.method == "GET":
                return Reply(200, item.resource(zone), kind="break")
            if self.method == "PATCH":
                body = self.obj()
                since = self.instant("since", source=body)
                till = self.instant("till", source=body)
                self.state.move_break(item, since, till, "integration")
                return Reply(204)
            if self.method == "DELETE":
                self.state.remove_break(item, "integration")
                return Reply(204)
        raise self.no_route()

    # ----- slots ------------------------------------------------------------------------------
    def slots_route(self, addr: Address, rest: list[str]) -> Reply:
        state, emu = self.state, self.emu
        if not rest and self.method == "GET":
            start, end = self.instant("start"), self.instant("end")
            if end <= start:
                raise bad_request("The end must be later than the start.")
            if end - start > SLOTS_MAX_RANGE:
                raise bad_request("The date range cannot be longer than 180 days.")
            state.require_commercial(addr)
            ranges = state.slots.get(addr.id, [])
            if not ranges:
                raise not_found("No slots found on given address")
            scopes = self.tree.scopes(self.query, frozenset({"slot.services"}))
            items = []
            for at, fitting in free_starts(
                ranges, state.busy(addr.id), start, end, emu.clock.now()
            ):
                slot: dict[str, Any] = {"start": render(at, self.zone)}
                if "slot.services" in scopes:
                    slot["address_services"] = {
                        "_items": [
                            {**addr.services[i].render(frozenset()), "duration": d}
                            for i, d in fitting
                        ]
                    }
                items.append(slot)
            return Reply(200, {"_items": items}, kind="slots")
        if not rest and self.method == "PUT":
            return self.put_slots(addr)
        if len(rest) == 1 and self.method == "DELETE":
            day = rest[0]
            try:
                datetime.strptime(day, "%Y-%m-%d")
            except ValueError:
                raise bad_request("The date must be YYYY-MM-DD.") from None
            state.require_commercial(addr)
            state.slots[addr.id] = delete_day(state.slots.get(addr.id, []), day, state.zone)
            return Reply(204)
        if len(rest) == 2 and rest[1] == "book" and self.method == "POST":
            return self.book(addr, rest[0])
        raise self.no_route()

    def put_slots(self, addr: Address) -> Reply:
        """Validate now; apply after `slot_processing` (a twin in flight gets 429, a twin
        within 3 minutes after is ignored with 201)."""
        state, emu = self.state, self.emu
        state.require_commercial(addr)
        now = emu.clock.now()
        key = hashlib.sha256((addr.id + json.dumps(self.body, sort_keys=True)).encode()).hexdigest()
        if key in emu._inflight_puts:
            raise DocplannerError(429, "An identical request is still being processed.")
        done = emu._recent_puts.get(key)
        if done is not None and now - done < DUPLICATE_PUT_WINDOW:
            return Reply(201, kind="empty")
        ranges, naive = parse_put(self.body, addr, now, emu.slot_horizon, state.zone)
        state.naive_dates.extend(naive)
        emu._inflight_puts.add(key)

        def finish() -> None:
            emu._inflight_puts.discard(key)
            state.slots[addr.id] = replace(state.slots.get(addr.id, []), ranges)
            emu._recent_puts[key] = emu.clock.now()

        return Reply(201, kind="empty", finish=finish)

    def book(self, addr: Address, start_text: str) -> Reply:
        body = self.obj()
        errors = FieldErrors()
        service_id = body.get("address_service_id")
        if not isinstance(service_id, str | int) or isinstance(service_id, bool):
            errors.add("address_service_id", "This value should not be blank.")
        duration = body.get("duration")
        if not isinstance(duration, int) or isinstance(duration, bool) or duration <= 0:
            errors.add("duration", "This value should be a positive integer.")
        if "patient" not in body:
            errors.add("patient", "This value should not be blank.")
        errors.raise_if_any()
        start = self.instant("start", source={"start": start_text})
        extra = {
            k: body.get(k)
            for k in ("is_returning", "label", "insurance_provider_id", "insurance_plan_id")
        }
        extra["is_recurring"] = body.get("is_recurring", False)
        draft = self.state.draft(
            addr,
            start,
            str(service_id),
            int(duration),  # type: ignore[arg-type]
            body.get("patient"),
            "integration",
            comment=body.get("comment"),
            extra=extra,
        )
        booking = self.state.store(draft)
        return Reply(200, self.render_booking(booking, frozenset(), True), kind="booking")

    # ----- bookings ---------------------------------------------------------------------------
    def bookings_route(self, addr: Address, rest: list[str]) -> Reply:
        state = self.state
        if not rest and self.method == "GET":
            start, end = self.instant("start"), self.instant("end")
            scopes = self.tree.scopes(
                self.query,
                frozenset(
                    {
                        "booking.patient",
                        "booking.address_service",
                        "booking.presence",
                        "booking.confirmation",
                        "address_service.public_insurance_flow",
                    }
                ),
            )
            found = sorted(
                (
                    b
                    for b in state.bookings.values()
                    if b.address_id == addr.id and start <= b.start < end
                ),
                key=lambda b: (b.start, b.id),
            )
            items = [self.render_booking(b, scopes, False) for b in found]
            page_text = self.q("page")
            if page_text is None:
                return Reply(200, {"_items": items}, kind="bookings")
            try:
                page = int(page_text)
                limit = int(self.q("limit") or 100)
            except ValueError:
                raise bad_request("page and limit must be integers.") from None
            if page < 1 or not 1 <= limit <= 100:
                raise bad_request("page must be 1 or more and limit 1 to 100.")
            pages = max(1, -(-len(items) // limit))
            chunk = items[(page - 1) * limit : page * limit]
            out = {
                "_items": chunk,
                "page": page,
                "limit": limit,
                "pages": pages,
                "total": len(items),
            }
            return Reply(200, out, kind="bookings")
        if not rest:
            raise self.no_route()
        booking = state.booking(addr, rest[0])
        tail = rest[1:]
        if not tail and self.method == "GET":
            scopes = self.tree.scopes(
                self.query, frozenset({"booking.moving", "address_service.public_insurance_flow"})
            )
            return Reply(200, self.render_booking(booking, scopes, True), kind="booking")
        if not tail and self.method == "DELETE":
            reason = self.obj().get("reason")
            state.cancel(booking, "integration", reason if isinstance(reason, str) else None)
            return Reply(204)
        if tail == ["move"] and self.method == "POST":
            return self.move(addr, booking)
        if tail == ["confirm"] and self.method == "PUT":
            state.confirm(booking, self.obj().get("confirmed_by"), "integration")
            return Reply(204)
        if tail == ["presence", "patient"] and self.method in ("POST", "DELETE"):
            state.mark_presence(booking, self.method == "POST", "integration")
            return Reply(204)
        raise self.no_route()

    def move(self, addr: Address, booking: Booking) -> Reply:
        body = self.obj()
        errors = FieldErrors()
        service_id = body.get("address_service_id")
        if not isinstance(service_id, str | int) or isinstance(service_id, bool):
            errors.add("address_service_id", "This value should not be blank.")
        if not body.get("start"):
            errors.add("start", "This value should not be blank.")
        duration = body.get("duration")
        if duration is not None and (
            not isinstance(duration, int) or isinstance(duration, bool) or duration <= 0
        ):
            errors.add("duration", "This value should be a positive integer.")
        errors.raise_if_any()
        start = self.instant("start", source=body)
        target = addr
        target_id = body.get("address_id")
        if target_id is not None and str(target_id) != addr.id:
            try:
                target = self.tree.address_by_id(str(target_id))
            except KeyError:
                raise not_found("Address not found.") from None
            here = self.tree.context(addr.id)[0]
            if self.tree.context(target.id)[0].id != here.id:
                raise forbidden("The address belongs to another facility.")
        new = self.state.move(booking, target, start, str(service_id), duration, "integration")
        path = self.emu.path_to(target.id)
        return Reply(
            201,
            self.render_booking(new, frozenset(), True),
            self.location(f"{path}/bookings/{new.id}"),
            kind="booking",
        )

    # ----- notifications ----------------------------------------------------------------------
    def notifications_route(self, rest: list[str]) -> Reply:
        outbox = self.state.outbox
        if not rest and self.method == "GET":
            popped = outbox.pop(1)
            if not popped:
                raise not_found("No notifications found")
            return Reply(200, popped[0], kind="notification")
        if rest == ["multiple"] and self.method == "GET":
            text = self.q("limit")
            try:
                limit = 1 if text is None else int(text)
            except ValueError:
                limit = 0
            if not 1 <= limit <= 100:
                raise DocplannerError(
                    400, "Validation failed", {"limit": ["The limit must be between 1 and 100."]}
                )
            popped = outbox.pop(limit)
            if not popped:
                raise not_found("No notifications found")
            body = {outbox.multiple_key: popped, "remaining": len(outbox.queue)}
            return Reply(200, body, kind="notifications")
        if rest == ["release"] and self.method == "POST":
            if outbox.push_url is None:
                raise forbidden("The client does not use push notifications.")
            now = self.emu.clock.now()
            if outbox.last_release is not None and now - outbox.last_release < RELEASE_INTERVAL:
                wait = RELEASE_INTERVAL - (now - outbox.last_release)
                raise DocplannerError(
                    429,
                    "Notifications can be released once per hour.",
                    headers={"Retry-After": str(max(1, int(wait.total_seconds())))},
                )
            outbox.release(now)
            return Reply(204)
        raise self.no_route()


def _service_fields(body: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in ("is_price_from", "price", "description", "is_visible"):
        if key in body:
            fields[key] = body[key]
    if "default_duration" in body:
        fields["duration"] = body["default_duration"]
    return fields
