"""Names of the iCalendar properties that carry Carecal's own fields.

Other calendars keep unknown ``X-`` properties, so these travel through any server untouched.
"""

from __future__ import annotations

X_ID = "X-CARECAL-ID"
X_PATIENT = "X-CARECAL-PATIENT"
X_SERVICE = "X-CARECAL-SERVICE"
X_MODE = "X-CARECAL-MODE"
X_STATUS = "X-CARECAL-STATUS"
X_PRICE = "X-CARECAL-PRICE"
X_VIDEO_URL = "X-CARECAL-VIDEO-URL"
X_CAPACITY = "X-CARECAL-CAPACITY"
X_PARTICIPANT = "X-CARECAL-PARTICIPANT"
"""One per participant, value ``patient_id;attendance`` (the ';' escaped as TEXT requires)."""

FIELD_PROPERTIES: dict[str, tuple[str, ...]] = {
    "id": (X_ID,),
    "uid": ("UID",),
    "title": ("SUMMARY",),
    "description": ("DESCRIPTION",),
    "location": ("LOCATION",),
    "status": ("STATUS", X_STATUS),
    "busy": ("TRANSP",),
    "rrule": ("RRULE",),
    "rdates": ("RDATE",),
    "exdates": ("EXDATE",),
    "recurrence_id": ("RECURRENCE-ID",),
    "sequence": ("SEQUENCE",),
    "patient_id": (X_PATIENT,),
    "participants": (X_PARTICIPANT,),
    "capacity": (X_CAPACITY,),
    "service_id": (X_SERVICE,),
    "mode": (X_MODE,),
    "video_url": (X_VIDEO_URL,),
    "price": (X_PRICE,),
}
"""Event field -> the properties that hold it. Times (start, end, all_day, floating, tzid) and
reminder_minutes (a VALARM) are handled on their own by the writer."""

TIME_FIELDS = ("start", "end", "all_day", "floating", "tzid")
TIME_PROPERTIES = ("DTSTART", "DTEND", "DURATION")
