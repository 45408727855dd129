"""The JSON output of ``carecal ... --format json``: a stable, documented interface.

Rules: keys are never renamed or removed; new keys may be added. Times are ISO 8601 with their
UTC offset, in the user's display time zone (``2025-03-10T09:00:00+01:00``); all-day entries give
dates (``2025-03-15``) and, as in iCalendar, an exclusive end date. Absent values are ``null``.
Ids are opaque strings (32 hex digits for everything Carecal creates).

``carecal events list --format json`` prints an array of occurrences sorted by start; a
recurring series contributes one object per occurrence in the range. ``events add`` and
``events update`` with ``--format json`` print the stored event as one such object.

=================  ======================================================================
key                meaning
=================  ======================================================================
id                 the stored event to pass to ``events update``/``events delete`` (for an
                   unchanged occurrence of a series: the series' id)
series_id          the series' id when the occurrence belongs to a recurring series, else null
uid                the iCalendar UID
recurrence_id      the occurrence's original start within its series, else null
title              text
start, end         ISO 8601 (see above)
all_day            true for date-only entries
timezone           the event's own IANA zone (``Europe/Warsaw``), null for all-day/floating
calendar           calendar name; ``calendar_id`` its id
status             scheduled | confirmed | arrived | completed | no_show | cancelled
patient            the main patient's full name or null; ``patient_id`` its id
participants       group sessions: ``[{"patient_id", "patient", "attendance"}]`` where
                   attendance is expected | arrived | attended | no_show | cancelled
capacity           places in a group session, null for one-to-one appointments
service            service type name or null; ``service_id`` its id
mode               in_person | phone | video; ``video_url`` the link ("" when none)
location, notes    text ("" when none)
price              decimal as a string ("180.00") or null
busy               false for entries that do not block time
recurring          true for occurrences of a series; ``rrule`` the rule text or null
double_booked      true when this busy occurrence overlaps another one (any calendar)
=================  ======================================================================

``carecal patients list --format json`` (and ``patients add``): ``id, first_name, last_name,
full_name, phone, email, birth_date`` (``YYYY-MM-DD`` or null).

``carecal services list --format json`` (and ``services add``): ``id, name, duration_minutes,
price, color, online, buffer_minutes, capacity``.

``carecal events update|delete ID --occurrence DATE --format json`` prints an array of the
stored events the edit left in place (series masters and overrides), in the same shape.

``carecal free --format json``: ``[{"start", "end"}]``, one object per bookable slot; when there
is none, stderr says why (``carecal: note: ...``, e.g. no working hours are set).

``carecal hours list --format json``: ``[{"id", "weekday", "from", "to", "valid_from",
"valid_to"}]`` where weekday is mon..sun, from/to are ``HH:MM`` and valid_* dates or null.
``carecal breaks list --format json`` (and ``breaks add``): ``[{"id", "weekday", "date", "from",
"to", "label"}]``: weekday (mon..sun) for a weekly break, date (``YYYY-MM-DD``) for one day.

``carecal audit --format json|csv``: ``id, at (UTC ISO 8601), actor, action, entity_kind,
entity_id, before, after, prev_hash, hash``; ``before``/``after`` are the entity as JSON (null
when absent). Entries are oldest first; ``--limit N`` gives the newest N.

Exit status: 0 success; 1 an error (one line on stderr starting ``carecal: error:``, or
``carecal: audit log BROKEN:`` for ``audit verify``); 2 a usage error (bad option or value).
Warnings (e.g. a skipped component during import) go to stderr as ``carecal: warning: ...``.
"""

from __future__ import annotations

EVENT_KEYS: tuple[str, ...] = (
    "id",
    "series_id",
    "uid",
    "recurrence_id",
    "title",
    "start",
    "end",
    "all_day",
    "timezone",
    "calendar",
    "calendar_id",
    "status",
    "patient",
    "patient_id",
    "participants",
    "capacity",
    "service",
    "service_id",
    "mode",
    "video_url",
    "location",
    "notes",
    "price",
    "busy",
    "recurring",
    "rrule",
    "double_booked",
)
PATIENT_KEYS: tuple[str, ...] = (
    "id",
    "first_name",
    "last_name",
    "full_name",
    "phone",
    "email",
    "birth_date",
)
SERVICE_KEYS: tuple[str, ...] = (
    "id",
    "name",
    "duration_minutes",
    "price",
    "color",
    "online",
    "buffer_minutes",
    "capacity",
)
SLOT_KEYS: tuple[str, ...] = ("start", "end")
HOURS_KEYS: tuple[str, ...] = ("id", "weekday", "from", "to", "valid_from", "valid_to")
BREAK_KEYS: tuple[str, ...] = ("id", "weekday", "date", "from", "to", "label")
