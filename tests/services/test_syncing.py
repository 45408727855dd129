"""services.syncing: one sync cycle over every remote account, and the stored status."""

from __future__ import annotations

import asyncio

from carecal.domain.errors import AuthExpired, TransientError
from carecal.domain.models import Account
from carecal.providers.base import Provider
from carecal.services.secrets import PasswordMissing
from carecal.services.session import Session
from carecal.services.syncing import CycleResult, ProviderFactory, read_status, run_cycle
from carecal.store.syncstate import SyncStore
from carecal.sync.engine import CancelToken
from tests.services.sync_helpers import REMOTE, Remote, fill, make_remote


def _factory(remote: Remote) -> ProviderFactory:
    return lambda _account: remote.provider  # type: ignore[return-value]


def _cycle(
    session: Session,
    providers: ProviderFactory,
    *,
    token: CancelToken | None = None,
    force: bool = False,
    progress: list[tuple[str, int, int]] | None = None,
) -> CycleResult:
    report = (lambda s, d, t: progress.append((s, d, t))) if progress is not None else None
    return asyncio.run(run_cycle(session.db, providers, token or CancelToken(), force, report))


def test_a_cycle_pulls_every_account_and_reads_the_status(session: Session) -> None:
    remote = make_remote(session.repo)
    fill(remote, 5)
    seen: list[tuple[str, int, int]] = []
    result = _cycle(session, _factory(remote), progress=seen)
    assert result.ok and result.changed and not result.offline and not result.cancelled
    assert result.reports[0].calendars[0].pulled == 5
    assert len(session.repo.find_by_uid(remote.calendar.id, "item-4@test")) == 1
    assert seen and seen[-1][1] == seen[-1][2]  # progress reached its end
    assert result.status is not None
    assert (result.status.accounts, result.status.pending) == (1, 0)
    assert result.status.last_sync_at is not None
    again = _cycle(session, _factory(remote))
    assert again.ok and not again.changed  # nothing new on the server
    # A no-op cycle stores nothing, yet the status must say the calendars were just checked.
    assert again.checked_at is not None and again.status is not None
    assert again.status.last_sync_at == again.checked_at


def test_no_remote_accounts_is_an_empty_ok_cycle(session: Session) -> None:
    def never(account: Account) -> Provider:
        raise AssertionError("no provider is needed without accounts")

    result = _cycle(session, never)
    assert result.ok and result.reports == [] and result.status is not None
    assert result.status.accounts == 0


def test_a_transient_failure_reads_as_offline(session: Session) -> None:
    remote = make_remote(session.repo)
    remote.provider.fail_next = [TransientError("the server did not answer")]
    result = _cycle(session, _factory(remote))
    assert result.offline and not result.ok
    assert result.status is not None and result.status.offline


def test_expired_credentials_mark_the_account_and_skip_it_until_forced(session: Session) -> None:
    remote = make_remote(session.repo)
    remote.provider.fail_next = [AuthExpired("401 Unauthorized")]
    result = _cycle(session, _factory(remote))
    assert result.status is not None
    assert result.status.needs_sign_in == ("Clinic server",)
    fill(remote, 1)
    skipped = _cycle(session, _factory(remote))
    assert skipped.reports == [] and not skipped.changed
    forced = _cycle(session, _factory(remote), force=True)
    assert forced.reports and forced.changed


def test_an_account_without_a_provider_is_an_error_line(session: Session) -> None:
    make_remote(session.repo)

    def missing(account: Account) -> Provider:
        raise PasswordMissing(f"no password for {account.name!r}")

    result = _cycle(session, missing)
    assert not result.ok
    assert result.errors == ["Clinic server: no password for 'Clinic server'"]


def test_a_cancelled_token_stops_before_the_first_account(session: Session) -> None:
    remote = make_remote(session.repo)
    fill(remote, 3)
    token = CancelToken()
    token.cancel()
    result = _cycle(session, _factory(remote), token=token)
    assert result.cancelled and result.reports == []
    assert session.repo.find_by_uid(remote.calendar.id, "item-0@test") == []


def test_read_status_counts_unsent_and_refused_changes(session: Session) -> None:
    assert read_status(session.repo).accounts == 0
    remote = make_remote(session.repo)
    fill(remote, 2)
    _cycle(session, _factory(remote))
    store = SyncStore(session.repo)
    first, second = (
        session.repo.find_by_uid(remote.calendar.id, f"item-{i}@test")[0] for i in (0, 1)
    )
    session.events.update(first.with_changes(title="Visit 0 (moved)"))
    session.events.update(second.with_changes(title="Visit 1 (moved)"))
    seq = next(o.seq for o in store.pending_ops() if o.event_id == second.id)
    store.mark_parked(remote.calendar.id, second.uid, seq, "the server refused the event")
    status = read_status(session.repo, offline=True)
    assert (status.accounts, status.pending, status.refused, status.offline) == (1, 1, 1, True)
    assert status.errors == () and status.conflicts == 0
    assert len(remote.provider.items(REMOTE.remote_id)) == 2


def test_last_sync_time_is_the_newer_of_stored_and_this_sessions_clean_check() -> None:
    from carecal.services.syncing import _latest

    stored, checked = "2026-11-21T09:00:00+00:00", "2026-11-21T10:30:00+00:00"
    assert _latest(stored, checked) == checked
    assert _latest(checked, stored) == checked
    assert _latest(None, checked) == checked
    assert _latest(stored, None) == stored
