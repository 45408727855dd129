"""OAuth tokens and where they are kept: only in the OS keyring, as one JSON blob per account.

``KeyringTokenStore`` is given the keyring helpers (``store``, ``load``, ``delete`` of
``carecal.services.secrets``) by the layer that wires the app, so the network layer never
depends on services. ``TokenSet``'s repr hides every secret, so logging one leaks nothing.
Any thread (each call may block briefly on the keyring daemon).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from carecal.domain.errors import AuthExpired


@dataclass(frozen=True)
class TokenSet:
    """An access token, its expiry (epoch seconds) and the refresh token, if any."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    token_type: str = "Bearer"
    scope: str | None = None

    def expires_within(self, seconds: float, *, now: float | None = None) -> bool:
        """True when the access token is expired or will be within ``seconds``."""
        if self.expires_at is None:
            return False
        return (time.time() if now is None else now) + seconds >= self.expires_at

    def with_refresh_token(self, refresh_token: str | None) -> TokenSet:
        return replace(self, refresh_token=refresh_token)

    @classmethod
    def from_response(
        cls, data: Mapping[str, Any], *, now: float, previous: TokenSet | None = None
    ) -> TokenSet:
        """A TokenSet from a token endpoint's JSON. A refresh that returns no new refresh token
        keeps the previous one (Google does that). Raises AuthExpired without an access token."""
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise AuthExpired("the sign-in server answered without an access token; sign in again")
        expires_in = data.get("expires_in")
        expires_at: float | None = None
        if isinstance(expires_in, int | float) or (
            isinstance(expires_in, str) and expires_in.isdigit()
        ):
            expires_at = now + float(expires_in)
        refresh = data.get("refresh_token")
        if not isinstance(refresh, str) or not refresh:
            refresh = previous.refresh_token if previous is not None else None
        scope = data.get("scope")
        token_type = data.get("token_type")
        return cls(
            access_token=access,
            refresh_token=refresh,
            expires_at=expires_at,
            token_type=token_type if isinstance(token_type, str) else "Bearer",
            scope=scope if isinstance(scope, str) else None,
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_at": self.expires_at,
                "token_type": self.token_type,
                "scope": self.scope,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> TokenSet:
        """Raises AuthExpired when the stored blob is not a token set (damaged or foreign)."""
        try:
            data = json.loads(text)
            access = data["access_token"]
            if not isinstance(access, str):
                raise TypeError("access_token")
            expires = data.get("expires_at")
            return cls(
                access_token=access,
                refresh_token=data.get("refresh_token"),
                expires_at=float(expires) if expires is not None else None,
                token_type=str(data.get("token_type") or "Bearer"),
                scope=data.get("scope"),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            raise AuthExpired("the saved sign-in could not be read; sign in again") from None


class TokenStore(Protocol):
    """Where an account's tokens live. Implementations must keep them out of SQLite and logs."""

    def load(self, account_id: str) -> TokenSet | None: ...

    def save(self, account_id: str, tokens: TokenSet) -> None: ...

    def delete(self, account_id: str) -> None: ...


class KeyringTokenStore:
    """Tokens as a JSON blob in the keyring entry of the account (keyed by the account id, so
    removing an account's secret removes its tokens too). Errors are those of the helpers
    (NoKeyring, KeyringFailed), plus AuthExpired for a blob that cannot be read."""

    def __init__(
        self,
        *,
        store: Callable[[str, str], None],
        load: Callable[[str], str | None],
        delete: Callable[[str], object],
    ) -> None:
        self._store = store
        self._load = load
        self._delete = delete

    def load(self, account_id: str) -> TokenSet | None:
        text = self._load(account_id)
        return TokenSet.from_json(text) if text else None

    def save(self, account_id: str, tokens: TokenSet) -> None:
        self._store(account_id, tokens.to_json())

    def delete(self, account_id: str) -> None:
        self._delete(account_id)
