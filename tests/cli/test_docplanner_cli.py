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
from tests.fakes.docplanner_server import DocplannerEmulator


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[DocplannerEmulator]:
    with DocplannerEmulator() as server:
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
