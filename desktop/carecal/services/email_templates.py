"""Subject and body templates of patient e-mail reminders, and the fields they may use.

Templates are plain text with ``{placeholders}``; ``{{`` and ``}}`` stand for literal braces.
Only the names in ``FIELDS`` are allowed: anything else (a typo, ``{first_name.upper}``, a
format spec) is refused with a ``TemplateError`` that names it. Pure; any thread.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from carecal.domain.errors import ValidationError

FIELDS: dict[str, str] = {
    "first_name": "the patient's first name",
    "last_name": "the patient's last name",
    "full_name": "the patient's full name",
    "weekday": "the day of the week (Tuesday)",
    "date": "the date (5 May 2026)",
    "time": "the start time (14:30)",
    "end_time": "the end time (15:20)",
    "duration": "the length in minutes (50)",
    "service": "the service (Physiotherapy)",
    "location": "where the visit takes place",
    "video_link": "the link of a video visit (empty otherwise)",
    "practitioner": "the practitioner's name (Settings > Reminders)",
}

DEFAULT_SUBJECT = "Reminder: {service} on {weekday}, {date} at {time}"
DEFAULT_BODY = """Hello {first_name},

this is a reminder of your appointment:

    {weekday}, {date}, {time}–{end_time}
    {service}
    {location}{video_link}

The attached calendar file adds it to your calendar. If you cannot come, please let us know
as soon as possible.

Kind regards,
{practitioner}
"""


class TemplateError(ValidationError):
    """A template that cannot be rendered (unknown placeholder, stray brace)."""


def check_template(template: str, what: str) -> None:
    """Raise TemplateError unless every placeholder of ``template`` is a known field.

    ``what`` names the template in the message ("subject", "body").
    """
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(
            f"the {what} template has a stray brace ({exc}); write {{{{ or }}}} for a brace"
        ) from None
    for _text, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in FIELDS or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            known = ", ".join("{" + f + "}" for f in FIELDS)
            raise TemplateError(f"unknown placeholder {shown} in the {what}; use one of {known}")


def render(template: str, fields: Mapping[str, str], what: str) -> str:
    """``template`` with its placeholders filled from ``fields``. Raises TemplateError."""
    check_template(template, what)
    return template.format_map({k: fields.get(k, "") for k in FIELDS})
