"""Removing a remote account deletes its mirror on this computer, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carecal.domain.errors import NotFound, ValidationError
from carecal.domain.models import Account, Calendar, ProviderKind
from carecal.store.calendars import LOCAL_ACCOUNT_ID
from carecal.store.repo import Repository
from tests.store.conftest import make_event

START = datetime(2026, 11, 24, 9, tzinfo=UTC)


def _remote_calendar(repo: Repository) -> tuple[Account, Calendar]:
    account = Account(id="acc-1", kind=ProviderKind.CALDAV, name="Clinic server")
    repo.add_account(account, actor="test")
    calendar, _ = repo.add_calendar("Clinic", "#ff0000", actor="test", account_id=account.id)
    return account, calendar


def test_removal_deletes_the_mirror_and_refreshes_window_queries(
    repo: Repository, cal: Calendar
) -> None:
    account, remote = _remote_calendar(repo)
    mine = make_event(cal.id, START)
    theirs = make_event(remote.id, START + timedelta(hours=2))
    repo.add_event(mine, actor="test")
    repo.add_event(theirs, actor="test")
    window = (START - timedelta(days=1), START + timedelta(days=1))
    # Fill the window cache first: removed events must not come back from it.
    assert {e.id for e in repo.events_in_window(*window)} == {mine.id, theirs.id}

    removal = repo.remove_account(account.id, actor="test")

    assert (removal.calendars, removal.events, removal.unsent_ops) == (1, 1, 1)
    assert [e.id for e in repo.events_in_window(*window)] == [mine.id]
    assert [c.id for c in repo.list_calendars()] == [cal.id]
    with pytest.raises(NotFound):
        repo.get_event(theirs.id)
    assert repo.audit.entries()[-1].entity_kind == "account"
    repo.audit.verify()


def test_local_account_and_unknown_accounts_are_refused(repo: Repository) -> None:
    with pytest.raises(ValidationError):
        repo.remove_account(LOCAL_ACCOUNT_ID, actor="test")
    with pytest.raises(NotFound):
        repo.remove_account("no-such-account", actor="test")
