"""Tell the sync lane when the computer is back online, as the operating system reports it.

Uses Qt's QNetworkInformation (NetworkManager, glib or connman on Linux; the system's own
backend on Windows and macOS). Where no backend can be loaded the watcher does nothing: the
scheduler's interval and the next edit still bring the sync back.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtNetwork import QNetworkInformation

Reachability = QNetworkInformation.Reachability


class NetworkWatch(QObject):
    """Calls ``on_back`` once per transition to "online". Create and use on the GUI thread."""

    def __init__(self, on_back: Callable[[], None], *, load_backend: bool = True) -> None:
        super().__init__()
        self._on_back = on_back
        self._online: bool | None = None
        self.info: QNetworkInformation | None = None
        if load_backend and QNetworkInformation.loadBackendByFeatures(
            QNetworkInformation.Feature.Reachability
        ):
            self.info = QNetworkInformation.instance()
        if self.info is not None:
            self._online = self.info.reachability() == Reachability.Online
            self.info.reachabilityChanged.connect(self.reachability_changed)

    def reachability_changed(self, reachability: Reachability) -> None:
        """The system's new reachability; ``on_back`` runs when it turns online."""
        online = reachability == Reachability.Online
        came_back = online and self._online is False
        self._online = online
        if came_back:
            self._on_back()
