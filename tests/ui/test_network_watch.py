"""The sync lane hears when the network comes back, and only then."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from carecal.ui.network_watch import NetworkWatch, Reachability


def test_only_a_return_to_online_wakes_the_sync(qapp: QApplication) -> None:
    calls: list[str] = []
    watch = NetworkWatch(lambda: calls.append("back"), load_backend=False)
    watch.reachability_changed(Reachability.Online)  # the first report: nothing came back
    watch.reachability_changed(Reachability.Disconnected)
    watch.reachability_changed(Reachability.Local)
    assert calls == []
    watch.reachability_changed(Reachability.Online)
    watch.reachability_changed(Reachability.Online)  # still online: no second wake-up
    assert calls == ["back"]


def test_without_a_backend_the_watch_stays_quiet(qapp: QApplication) -> None:
    watch = NetworkWatch(lambda: None, load_backend=False)
    assert watch.info is None
