"""The network layer: the only package that opens HTTP connections (httpx).

``http`` builds the one kind of client Carecal uses (timeouts, a per-host throttle, HTTP statuses
and network failures turned into the domain's errors); ``oauth`` signs accounts in and keeps
their tokens fresh, storing them only through an injected keyring-backed store.
"""

from __future__ import annotations
