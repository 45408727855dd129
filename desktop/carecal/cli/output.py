"""Rendering command results as aligned text tables, JSON or CSV on standard output.

The JSON shapes are part of Carecal's public interface; they are documented in
``carecal.cli.schema`` and must only grow (new keys), never change or lose keys.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

Row = Sequence[object]
MAX_CELL = 40


def out() -> TextIO:
    """Standard output as it is now (tests replace sys.stdout)."""
    return sys.stdout


def write_line(text: str = "") -> None:
    """Write one line to standard output."""
    out().write(text + "\n")


def write_json(value: object) -> None:
    """Pretty, key-stable JSON (UTF-8 text, non-ASCII kept) followed by a newline."""
    out().write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def _cell(value: object, limit: int) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    if limit and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def render_table(headers: Sequence[str], rows: Sequence[Row], *, limit: int = MAX_CELL) -> str:
    """Left-aligned columns separated by two spaces; cells shortened to ``limit`` characters.

    The last column is never shortened (it usually holds an id users copy).
    """
    cells = [
        [_cell(v, 0 if i == len(headers) - 1 else limit) for i, v in enumerate(row)] for row in rows
    ]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, text in enumerate(row):
            widths[i] = max(widths[i], len(text))
    lines = ["  ".join(h.ljust(widths[i]) for i, h in enumerate(headers)).rstrip()]
    for row in cells:
        lines.append("  ".join(t.ljust(widths[i]) for i, t in enumerate(row)).rstrip())
    return "\n".join(lines) + "\n"


def write_table(headers: Sequence[str], rows: Sequence[Row], *, empty: str) -> None:
    """A table, or the ``empty`` sentence when there are no rows."""
    if not rows:
        write_line(empty)
        return
    out().write(render_table(headers, rows))


def write_csv(headers: Sequence[str], records: Sequence[Mapping[str, object]]) -> None:
    """RFC 4180 CSV with a header row; values that are lists/dicts are written as JSON."""
    import csv  # only the csv format needs it, not every command that prints

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    for record in records:
        row: list[object] = []
        for h in headers:
            value = record.get(h)
            if isinstance(value, dict | list):
                value = json.dumps(value, ensure_ascii=False, sort_keys=True)
            row.append("" if value is None else value)
        writer.writerow(row)
    out().write(buffer.getvalue())
