"""Fixtures for the integration tests: the real servers (see servers.py)."""

from __future__ import annotations

from tests.integration.servers import radicale_server

__all__ = ["radicale_server"]
