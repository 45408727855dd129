"""Turning what a user types into an FTS5 query (never an FTS5 syntax error)."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str:
    """Every word of ``text`` as a quoted prefix term, all required: ``"ann"* "kow"*``.

    Quoting each word keeps FTS5 operators (AND, NEAR, ``:``, ``-``) typed by the user literal.
    Any thread; never raises. '' when there is nothing to search for.
    """
    return " ".join(f'"{w}"*' for w in _WORD.findall(text)[:16])


def patient_names_sql(e: str) -> str:
    """SQL for the patient names of event alias ``e``: its main patient and participants."""
    return (
        "TRIM(COALESCE((SELECT first_name || ' ' || last_name FROM patients "
        f"WHERE id = {e}.patient_id), '') || ' ' || "
        "COALESCE((SELECT group_concat(p.first_name || ' ' || p.last_name, ' ') "
        "FROM event_participants ep JOIN patients p ON p.id = ep.patient_id "
        f"WHERE ep.event_id = {e}.id), ''))"
    )


def index_new_events_sql(n: int) -> str:
    """Add ``n`` just-inserted events (ids as parameters) to the search index."""
    marks = ", ".join("?" for _ in range(n))
    return (
        "INSERT INTO event_search(rowid, title, notes, location, patients) "
        f"SELECT sd.doc, e.summary, e.description, e.location, {patient_names_sql('e')} "
        f"FROM events e JOIN search_docs sd ON sd.event_id = e.id WHERE e.id IN ({marks})"
    )
