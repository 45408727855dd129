"""What every emulator's HTTP side shares: a quiet HTTP/1.1 handler, and a threaded server on
127.0.0.1 with a free port that starts, stops and works as a context manager.

A subclass implements ``_handler_base`` (its handler class, which reads ``self.emu``); the
server builds a handler bound to the emulator on ``start``. The server runs on a daemon thread.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, no request log on stderr."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


class LoopbackServer:
    """Start/stop of an emulator's server; ``with Emulator() as emu:`` runs it."""

    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def _handler_base(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError  # each emulator names its own handler

    def start(self) -> None:
        """Bind a free port on 127.0.0.1 and serve on a daemon thread."""
        handler = type("Handler", (self._handler_base(),), {"emu": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT (the emulator must be running)."""
        assert self._server is not None, "emulator not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"
