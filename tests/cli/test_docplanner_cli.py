"""``carecal accounts add docplanner`` and ``carecal docplanner map|publish`` through the CLI's
entry function, against the Docplanner emulator."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from carecal.services import docplanner_client as dpc
from carecal.services.session import open_session
from carecal.store.docplanner import DocplannerStore
from tests.cli.conftest import Run
from tests.fakes.docplanner_clock import Clock
from tests.fakes.docplanner_server import DocplannerEmulator


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[DocplannerEmulator]:
    with DocplannerEmulator(clock=Clock(real=True)) as server:
        # A first publish sends 12 weeks of days; at 40 writes a minute (real time here)
        # that would take minutes. The limiter's own tests use a moved clock instead.
        server.limits.configure(writes=1000)
        monkeypatch.setenv(dpc.HOST_ENV, server.host_template)
        yield server


def add(run: Run, emu: DocplannerEmulator, monkeypatch: pytest.MonkeyPatch, secret: str) -> object:
    monkeypatch.setattr("sys.stdin", io.StringIO(secret + "\n"))
    return run(
        "accounts",
        "add",
        "docplanner",
        "--domain",
        "pl",
        "--client-id",
        emu.client_id,
        "--client-secret-stdin",
    )


def test_add_account_keeps_id_and_secret_in_the_keyring_only(
    run: Run, emu: DocplannerEmulator, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    wrong = add(run, emu, monkeypatch, "not-the-secret")
    assert wrong.code == 1 and "client id or secret" in wrong.err  # type: ignore[attr-defined]
    assert "not-the-secret" not in wrong.err  # type: ignore[attr-defined]
    assert "No accounts yet" in run("accounts", "list").out
    added = add(run, emu, monkeypatch, emu.client_secret)
    assert added.code == 0, added.err  # type: ignore[attr-defined]
    assert "Gabinet Psychoterapii" in added.out  # type: ignore[attr-defined]
    listed = run("accounts", "list", "--format", "json").json()
    assert isinstance(listed, list) and listed[0]["kind"] == "docplanner"
    assert listed[0]["url"] == "znanylekarz.pl"
    stored = keyring.get_password("Carecal", listed[0]["id"])
    assert stored is not None and json.loads(stored)["client_secret"] == emu.client_secret
    db_bytes = (data_dir / "carecal.db").read_bytes()
    assert emu.client_secret.encode() not in db_bytes
    again = add(run, emu, monkeypatch, emu.client_secret)  # same client: same account
    assert again.code == 0
    assert len(run("accounts", "list", "--format", "json").json()) == 1  # type: ignore[arg-type]


def test_map_lists_the_tree_and_maps_in_person_and_online_addresses_apart(
    run: Run, emu: DocplannerEmulator, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    assert add(run, emu, monkeypatch, emu.client_secret).code == 0  # type: ignore[attr-defined]
    listing = run("docplanner", "map", "--format", "json")
    assert listing.code == 0, listing.err
    tree = listing.json()
    assert isinstance(tree, list)
    by_id = {r["address"]["id"]: r for r in tree}
    assert set(by_id) == {emu.ids.office, emu.ids.online}
    assert by_id[emu.ids.online]["address"]["online_only"] is True
    assert by_id[emu.ids.online]["address"]["visit_payment"] is True
    assert by_id[emu.ids.office]["address"]["online_only"] is False
    assert [s["id"] for s in by_id[emu.ids.office]["services"]] == emu.ids.office_services
    assert run("calendars", "list").code == 0
    mapped = run(
        "docplanner",
        "map",
        "--address",
        emu.ids.office,
        "--calendar",
        "My practice",
        "--create-services",
    )
    assert mapped.code == 0, mapped.err
    assert "in person" in mapped.out
    online = run("docplanner", "map", "--address", emu.ids.online, "--calendar", "My practice")
    assert online.code == 0, online.err
    assert "online-only, visit payments" in online.out
    tree = run("docplanner", "map", "--format", "json").json()
    assert isinstance(tree, list)
    assert all(r["calendar"] == "My practice" for r in tree)
    office = next(r for r in tree if r["address"]["id"] == emu.ids.office)
    assert all(s["service_type"] for s in office["services"])
    with open_session(data_dir, actor="test") as session:
        store = DocplannerStore(session.repo)
        account = dpc.find_account(session.repo, None)
        addresses = {m.address_id: m for m in store.addresses(account.id)}
        assert addresses[emu.ids.online].online_only and addresses[emu.ids.online].visit_payment
        assert not addresses[emu.ids.office].online_only
        assert {s.address_service_id for s in store.services(account.id, emu.ids.online)} == set(
            emu.ids.online_services
        )
    table = run("docplanner", "map")
    assert table.code == 0 and "online only, visit payment" in table.out
    unknown = run("docplanner", "map", "--address", "424242", "--calendar", "My practice")
    assert unknown.code == 1 and "no address 424242" in unknown.err


def test_publish_dry_run_prints_the_diff_then_sync_covers_docplanner(
    run: Run, emu: DocplannerEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert add(run, emu, monkeypatch, emu.client_secret).code == 0  # type: ignore[attr-defined]
    for address in (emu.ids.office, emu.ids.online):
        mapped = run(
            "docplanner",
            "map",
            "--address",
            address,
            "--calendar",
            "My practice",
            "--create-services",
        )
        assert mapped.code == 0, mapped.err
    assert run("hours", "set", "--weekday", "all", "--from", "09:00", "--to", "17:00").code == 0
    dry = run("docplanner", "publish", "--days", "3", "--dry-run")
    assert dry.code == 0, dry.err
    assert "09:00-17:00" in dry.out and "(was: not published)" in dry.out
    assert "dry run: nothing was sent" in dry.out
    assert not [m for m, p, _ in emu.log if m == "PUT"]
    sent = run("docplanner", "publish", "--days", "3", "--format", "json").json()
    assert isinstance(sent, dict) and sent["sent"] >= 6 and sent["errors"] == []
    assert "up to date" in run("docplanner", "publish", "--days", "3").out
    import datetime as dt

    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).astimezone(emu.state.zone)
    start = emu.free_starts_on(emu.ids.office, tomorrow.date().isoformat())[0]
    assert emu.patient_books(emu.ids.office, start) is not None
    synced = run("sync", "--format", "json")
    assert synced.code == 0, synced.err
    records = synced.json()
    assert isinstance(records, list)
    (record,) = records
    assert record["ok"] and record["applied"] >= 1 and record["reconciled"]
    listed = run("events", "list", "--from", tomorrow.date().isoformat(), "--format", "json")
    assert "Docplanner" not in listed.err
    assert any(
        e["start"].startswith(start.astimezone(emu.state.zone).isoformat()[:16])
        for e in listed.json()
    )  # type: ignore[union-attr]


def test_the_desktop_sync_cycle_covers_docplanner(
    run: Run, emu: DocplannerEmulator, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    import asyncio

    from carecal.services.syncing import run_cycle
    from carecal.sync.engine import CancelToken

    assert add(run, emu, monkeypatch, emu.client_secret).code == 0  # type: ignore[attr-defined]
    mapped = run("docplanner", "map", "--address", emu.ids.office, "--calendar", "My practice")
    assert mapped.code == 0, mapped.err

    def no_provider(account: object) -> object:
        raise AssertionError("Docplanner is not a calendar server")

    with open_session(data_dir, actor="test") as session:
        result = asyncio.run(
            run_cycle(session.db, no_provider, CancelToken(), False, None)  # type: ignore[arg-type]
        )
    assert result.ok, result.errors
    assert [p for m, p, _ in emu.log if "/notifications/multiple" in p]
