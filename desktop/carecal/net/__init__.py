"""The network layer: the only package that opens HTTP connections (httpx).

``http`` builds the one kind of client Carecal uses (timeouts, a per-host throttle, HTTP statuses
and network failures turned into the domain's errors); ``oauth`` signs accounts in and keeps
their tokens fresh, storing them only through an injected keyring-backed store.
"""

from __future__ import annotations

import sys

# On import httpx tries to load its own command line (``httpx._main``: click, pygments, rich).
# Here click and pygments come with other packages and rich does not, so every process paid for
# the first two and then got httpx's stub anyway. Carecal never runs httpx's command line, so
# that import is refused up front (a None entry in sys.modules is how Python refuses one): 10 to
# 30 ms less for every process that talks to a server.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
