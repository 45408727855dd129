"""The argparse ``type=`` converters of the command tree, importing ``carecal.cli.timeparse``
only when one of them converts a value.

Every command line builds the whole tree, but most never convert a date or a zone; timeparse
brings zoneinfo and services.zones with it, which a ``carecal sync`` process need not pay for.
Any thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _on_first_use(name: str) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        from carecal.cli import timeparse

        return getattr(timeparse, name)(text)

    # argparse names a type's __name__ when it fails with ValueError or TypeError: keep the
    # messages what they were when the tree held timeparse's functions themselves.
    convert.__name__ = convert.__qualname__ = name
    return convert


parse_clock = _on_first_use("parse_clock")
parse_date = _on_first_use("parse_date")
parse_datetime_text = _on_first_use("parse_datetime_text")
parse_minutes = _on_first_use("parse_minutes")
parse_weekdays = _on_first_use("parse_weekdays")
parse_zone = _on_first_use("parse_zone")
