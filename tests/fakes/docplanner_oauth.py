"""OAuth2 client credentials for the Docplanner emulator: `POST https://www.{domain}/oauth/v2/token`.

- `grant_type=client_credentials&scope=integration`; the credentials come as HTTP Basic (the
  spec's curl example) or as `client_id`/`client_secret` form fields (the PHP SDK): both work.
- The answer is `{"access_token", "expires_in": 3600, "token_type": "bearer", "scope": null}`
  (the SDK README says 24 h; `access_ttl` sets it). There is no refresh token.
- Tokens expire on the emulator's clock; a dead or missing token gets 401 `{"message"}`.

A token is valid only on the country domain it was issued for (the country sites are separate
systems; the reference does not say, this is the emulator's guess). Token-endpoint failures use
the OAuth2 (RFC 6749) error body `{"error", "error_description"}`; Docplanner's exact wording is
not in the references.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tests.fakes.docplanner_clock import Clock
from tests.fakes.docplanner_errors import unauthenticated


class TokenError(Exception):
    """A token-endpoint failure with its OAuth2 error body."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.body = {"error": error, "error_description": description}


@dataclass
class ApiClient:
    """One API client (a credential set); `alive` False makes its tokens and sign-ins fail."""

    client_id: str
    secret: str
    alive: bool = True


@dataclass
class Token:
    """One issued access token."""

    client_id: str
    domain: str
    expires: datetime
    revoked: bool = False


@dataclass
class TokenServer:
    """Issues and checks bearer tokens; all methods run under the emulator's lock."""

    clock: Clock
    access_ttl: float = 3600.0
    clients: dict[str, ApiClient] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    issued: int = 0  # token-endpoint successes, for tests

    def add_client(self, client_id: str, secret: str) -> ApiClient:
        """Register a credential set."""
        client = ApiClient(client_id, secret)
        self.clients[client_id] = client
        return client

    def issue(self, client_id: str, domain: str) -> dict[str, Any]:
        """A fresh token body for `client_id` on `domain` (no checks)."""
        value = secrets.token_urlsafe(32)
        expires = self.clock.now() + timedelta(seconds=self.access_ttl)
        self.tokens[value] = Token(client_id, domain, expires)
        self.issued += 1
        return {
            "access_token": value,
            "expires_in": int(self.access_ttl),
            "token_type": "bearer",
            "scope": None,
        }

    def token(self, form: dict[str, str], authorization: str, domain: str) -> dict[str, Any]:
        """The token endpoint: credentials as Basic or form fields; raises TokenError."""
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
            except ValueError as exc:
                raise TokenError(400, "invalid_request", "Malformed Basic credentials.") from exc
            client_id, _, secret = decoded.partition(":")
        if form.get("grant_type") != "client_credentials":
            raise TokenError(
                400, "unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type')}"
            )
        client = self.clients.get(client_id or "")
        if client is None or not client.alive or client.secret != secret:
            raise TokenError(400, "invalid_client", "The client credentials are invalid")
        scope = form.get("scope")
        if scope not in (None, "", "integration"):
            raise TokenError(400, "invalid_scope", "An unsupported scope was requested.")
        return self.issue(client.client_id, domain)

    def check(self, authorization: str, domain: str) -> str:
        """The client id behind a bearer header; raises the 401 otherwise."""
        if not authorization.lower().startswith("bearer "):
            raise unauthenticated()
        token = self.tokens.get(authorization[7:].strip())
        if token is None or token.revoked or token.domain != domain:
            raise unauthenticated("The access token provided is invalid.")
        if self.clock.now() >= token.expires:
            raise unauthenticated("The access token provided has expired.")
        client = self.clients.get(token.client_id)
        if client is None or not client.alive:
            raise unauthenticated("The access token provided is invalid.")
        return token.client_id

    def expire_all(self) -> None:
        """Every token issued so far is dead (401 from now on)."""
        for token in self.tokens.values():
            token.revoked = True
