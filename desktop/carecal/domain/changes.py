"""The ``Changes`` record every mutation returns, so views redraw only what was touched."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Changes:
    """What a mutation changed. Combine records with ``|``."""

    events: frozenset[str] = field(default_factory=frozenset)
    calendars: bool = False
    patients: bool = False
    services: bool = False
    schedule: bool = False  # working hours or breaks
    settings: bool = False

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            events=self.events | other.events,
            calendars=self.calendars or other.calendars,
            patients=self.patients or other.patients,
            services=self.services or other.services,
            schedule=self.schedule or other.schedule,
            settings=self.settings or other.settings,
        )

    @property
    def empty(self) -> bool:
        return not (
            self.events
            or self.calendars
            or self.patients
            or self.services
            or self.schedule
            or self.settings
        )

    @staticmethod
    def of_events(*ids: str) -> Changes:
        return Changes(events=frozenset(ids))
