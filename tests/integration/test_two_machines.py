"""Two front-desk computers, one CalDAV hub (issue 3, item 8).

Two Carecal data directories mirror the same Radicale calendar through the real command line.
Both edit while apart: different appointments, the same appointment on different fields, and
the same appointment on the same field. After a few sync rounds both list the same events, the
disjoint edits are merged on both, the same-field edit waits in exactly one conflict inbox, and
resolving it there brings the other computer along after one more sync.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.cli_client import (
    Item,
    add_account,
    cli_json,
    local_item,
    local_items,
    open_conflict_uids,
    run_cli,
    server_items,
    sync,
)
from tests.integration.servers import ServerInfo


def _add(data_dir: Path, calendar: str, title: str, start: str) -> dict[str, Any]:
    out: dict[str, Any] = cli_json(
        data_dir, "events", "add", "--calendar", calendar, "--title", title,
        "--start", start, "--tz", "UTC", "--duration", "50",
    )  # fmt: skip
    return out


def _update(data_dir: Path, event_id: str, *args: str) -> None:
    run_cli(data_dir, "events", "update", event_id, *args)


def _view(data_dir: Path, calendar: str) -> dict[str, Item]:
    grouped = local_items(data_dir, calendar)
    assert all(len(rows) == 1 for rows in grouped.values()), f"duplicates: {grouped}"
    return {uid: local_item(rows[0]) for uid, rows in grouped.items()}


def _ids(data_dir: Path, calendar: str) -> dict[str, str]:
    return {uid: str(rows[0]["id"]) for uid, rows in local_items(data_dir, calendar).items()}


def test_two_data_dirs_through_one_server_converge(
    radicale_server: ServerInfo, tmp_path: Path
) -> None:
    url = radicale_server.new_calendar()
    desk_a, desk_b = tmp_path / "desk-a", tmp_path / "desk-b"
    cal_a = add_account(desk_a, url)
    cal_b = add_account(desk_b, url)

    shared = {
        name: _add(desk_a, cal_a, name, f"2030-01-{8 + i:02d} 09:00")
        for i, name in enumerate(("Anna K.", "Piotr N.", "Ewa W.", "Jan M."))
    }
    sync(desk_a)
    sync(desk_b)
    ids_b = _ids(desk_b, cal_b)
    assert set(ids_b) == {e["uid"] for e in shared.values()}, "B did not receive A's events"
    uid = {name: str(e["uid"]) for name, e in shared.items()}
    id_a = {name: str(e["id"]) for name, e in shared.items()}
    id_b = {name: ids_b[uid[name]] for name in shared}

    # Apart: each desk edits without syncing.
    new_a = _add(desk_a, cal_a, "New patient (A)", "2030-01-14 10:00")
    new_b = _add(desk_b, cal_b, "New patient (B)", "2030-01-14 11:00")
    _update(desk_a, id_a["Anna K."], "--title", "Anna K. (first visit)")  # same item,
    _update(desk_b, id_b["Anna K."], "--location", "Room 2")  # different fields
    _update(desk_a, id_a["Piotr N."], "--notes", "Bring the referral")  # same item,
    _update(desk_b, id_b["Piotr N."], "--notes", "Paid in advance")  # same field
    _update(desk_b, id_b["Jan M."], "--title", "Jan M. (video)")
    run_cli(desk_a, "events", "delete", id_a["Ewa W."])

    for _ in range(2):
        sync(desk_a)
        sync(desk_b)

    in_a, in_b = open_conflict_uids(desk_a), open_conflict_uids(desk_b)
    assert sorted(in_a + in_b) == [uid["Piotr N."]], (
        f"the same-field edit must be in exactly one inbox: A {in_a}, B {in_b}"
    )
    waiting = desk_a if in_a else desk_b
    other, cal_other = (desk_b, cal_b) if in_a else (desk_a, cal_a)

    view_a, view_b = _view(desk_a, cal_a), _view(desk_b, cal_b)
    expected_uids = {uid["Anna K."], uid["Piotr N."], uid["Jan M."], new_a["uid"], new_b["uid"]}
    assert set(view_a) == expected_uids, f"A lists {sorted(view_a)}"
    assert set(view_b) == expected_uids, f"B lists {sorted(view_b)}"
    for view in (view_a, view_b):
        anna = view[uid["Anna K."]]
        assert (anna.title, anna.location) == ("Anna K. (first visit)", "Room 2"), anna
        assert view[uid["Jan M."]].title == "Jan M. (video)"
    settled = expected_uids - {uid["Piotr N."]}
    assert {u: view_a[u] for u in settled} == {u: view_b[u] for u in settled}

    # The server holds one resource per appointment, and the version both sides agree on.
    on_server = {item.uid: item for _, item, _ in server_items(url)}
    assert len(server_items(url)) == len(expected_uids)
    assert {u: on_server[u] for u in settled} == {u: view_a[u] for u in settled}

    # Resolve where it waits ("mine"), then one more sync on each side converges.
    [conflict] = cli_json(waiting, "conflicts", "list")
    run_cli(waiting, "conflicts", "resolve", str(conflict["id"]), "--take", "mine")
    mine = _view(waiting, cal_a if waiting == desk_a else cal_b)[uid["Piotr N."]].notes
    sync(waiting)
    sync(other)
    assert open_conflict_uids(desk_a) == [] and open_conflict_uids(desk_b) == []
    final_a, final_b = _view(desk_a, cal_a), _view(desk_b, cal_b)
    assert final_a == final_b, "the two desks still differ after the resolution"
    assert mine == ("Bring the referral" if waiting == desk_a else "Paid in advance")
    assert final_a[uid["Piotr N."]].notes == mine
    assert _view(other, cal_other)[uid["Piotr N."]].notes == mine
    on_server = {item.uid: item for _, item, _ in server_items(url)}
    assert on_server == final_a
