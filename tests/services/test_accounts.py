"""Account use cases against a real Radicale: discover, add, choose calendars, remove."""

from __future__ import annotations

from datetime import UTC, datetime

import keyring
import pytest

from carecal.domain.errors import NotFound, ValidationError
from carecal.domain.models import Event, new_id
from carecal.services import accounts as svc
from carecal.services.session import Session
from carecal.store.syncstate import SyncStore
from tests.integration.servers import PASSWORD, USERNAME, ServerInfo, radicale_server

__all__ = ["radicale_server"]


def _add(session: Session, server: ServerInfo, url: str, **kw: object) -> tuple[object, list]:
    found = svc.discover_blocking(url, USERNAME, PASSWORD, "generic")
    names = kw.pop("names", None)
    chosen = svc.pick_calendars(found, names)  # type: ignore[arg-type]
    return svc.add_caldav_account(
        session.repo,
        url=url,
        username=USERNAME,
        password=PASSWORD,
        preset="generic",
        calendars=chosen,
        actor="user",
        **kw,  # type: ignore[arg-type]
    )


def test_add_from_server_root_mirrors_chosen_calendars(
    session: Session, radicale_server: ServerInfo
) -> None:
    first = radicale_server.new_calendar()
    second = radicale_server.new_calendar()
    name_first = first.rstrip("/").rsplit("/", 1)[-1]
    account, mirrored = _add(session, radicale_server, radicale_server.base_url, names=[name_first])
    assert [c.name for c in mirrored] == [name_first]
    assert mirrored[0].remote_id == first and mirrored[0].account_id == account.id
    assert keyring.get_password("Carecal", account.id) == PASSWORD
    assert "password" not in account.settings and PASSWORD not in str(account.settings)
    assert svc.find_account(session.repo, account.name) == account
    assert second not in {c.remote_id for c in session.repo.list_calendars()}


def test_add_from_a_calendar_url(session: Session, radicale_server: ServerInfo) -> None:
    url = radicale_server.new_calendar()
    account, mirrored = _add(session, radicale_server, url, name="Clinic")
    assert account.name == "Clinic"
    assert url in {c.remote_id for c in mirrored}
    with pytest.raises(ValidationError):
        _add(session, radicale_server, url, name="clinic")


def test_unknown_calendar_name_is_refused(radicale_server: ServerInfo) -> None:
    radicale_server.new_calendar()
    found = svc.discover_blocking(radicale_server.base_url, USERNAME, PASSWORD, "generic")
    with pytest.raises(ValidationError, match="no calendar named 'nope'"):
        svc.pick_calendars(found, ["nope"])


def _event(calendar_id: str, title: str) -> Event:
    start = datetime(2025, 3, 10, 9, tzinfo=UTC)
    return Event(
        id=new_id(),
        calendar_id=calendar_id,
        uid=f"{new_id()}@tests",
        title=title,
        start=start,
        end=start.replace(hour=10),
    )


def test_remove_deletes_mirrors_and_events_locally_only(
    session: Session, radicale_server: ServerInfo
) -> None:
    url = radicale_server.new_calendar()
    account, mirrored = _add(session, radicale_server, url)
    cal = mirrored[0]
    local = session.repo.ensure_local_calendar()
    session.repo.add_event(_event(local.id, "Stays"), actor="user")
    session.repo.add_event(_event(cal.id, "Mirrored"), actor="user")
    with pytest.raises(ValidationError, match="1 unsent changes"):
        svc.remove_account(session.repo, account, actor="user")
    removal = svc.remove_account(session.repo, account, actor="user", discard_unsent=True)
    assert (removal.calendars, removal.events, removal.discarded_ops) == (1, 1, 1)
    assert [c.id for c in session.repo.list_calendars()] == [local.id]
    window = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
    assert [e.title for e in session.repo.events_in_window(*window)] == ["Stays"]
    assert SyncStore(session.repo).pending_ops() == []
    assert keyring.get_password("Carecal", account.id) is None
    with pytest.raises(NotFound):
        svc.find_account(session.repo, account.name)
    session.repo.audit.verify()


def test_local_account_cannot_be_removed(session: Session) -> None:
    local = SyncStore(session.repo).account("local")
    with pytest.raises(ValidationError):
        svc.remove_account(session.repo, local, actor="user")
