"""The real servers' fixtures, shared with the provider contract suite."""

from __future__ import annotations

from tests.integration.servers import radicale_server, xandikos_server

__all__ = ["radicale_server", "xandikos_server"]
