"""Google's OAuth 2.0 endpoints for a desktop client, as the emulator serves them: authorize
(loopback redirect, PKCE S256 required), token (authorization_code and refresh_token grants)
and revoke. Runs under the emulator's lock on an HTTP handler thread.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

CALENDAR = "https://www.googleapis.com/auth/calendar"
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class OAuthError(Exception):
    """An OAuth endpoint's error answer: HTTP status plus the RFC 6749 error body."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.body = {"error": error, "error_description": description}


@dataclass
class Grant:
    """One user consent: a refresh token and the access tokens issued under it."""

    scopes: tuple[str, ...]
    refresh_token: str
    alive: bool = True
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: tuple[str, ...]


def s256(verifier: str) -> str:
    """The PKCE S256 challenge for a verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OAuthServer:
    """Clients, codes and tokens of the emulator's authorization server."""

    def __init__(self, client_id: str, client_secret: str, access_ttl: float) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_ttl = access_ttl
        self.deny_consent = False
        self.codes: dict[str, _Code] = {}
        self.grants: list[Grant] = []

    def issue(self, scopes: tuple[str, ...] = (CALENDAR,)) -> tuple[str, str]:
        """A fresh grant without the browser dance: (access token, refresh token)."""
        grant = Grant(scopes, "1//" + secrets.token_urlsafe(24))
        self.grants.append(grant)
        return self._access(grant), grant.refresh_token

    def _access(self, grant: Grant) -> str:
        token = "ya29." + secrets.token_urlsafe(24)
        grant.access_tokens[token] = time.monotonic() + self.access_ttl
        return token

    def scopes_for(self, access_token: str) -> tuple[str, ...] | None:
        """The scopes of a live access token, or None (unknown, expired or revoked)."""
        for grant in self.grants:
            expiry = grant.access_tokens.get(access_token)
            if expiry is not None:
                return grant.scopes if grant.alive and time.monotonic() < expiry else None
        return None

    def expire_access_tokens(self) -> None:
        for grant in self.grants:
            for token in grant.access_tokens:
                grant.access_tokens[token] = 0.0

    def kill_refresh_tokens(self) -> None:
        """Every refresh token dies (revoked elsewhere, 7-day testing limit, ...)."""
        for grant in self.grants:
            grant.alive = False

    def authorize(self, params: dict[str, str]) -> tuple[int, str]:
        """(status, redirect URL or error text) for a browser hitting the consent page."""
        if params.get("client_id") != self.client_id:
            return 401, "invalid_client: The OAuth client was not found."
        redirect = params.get("redirect_uri", "")
        parts = urlsplit(redirect)
        if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
            return 400, "invalid_request: redirect_uri must be a loopback http URL."
        if params.get("response_type") != "code":
            return 400, "unsupported_response_type"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return 400, "invalid_request: PKCE with code_challenge_method=S256 is required."
        scopes = tuple(params.get("scope", "").split())
        if not scopes:
            return 400, "invalid_request: Missing required parameter: scope"
        sep = "&" if parts.query else "?"
        answer: dict[str, str] = {}
        if self.deny_consent:
            answer["error"] = "access_denied"
        else:
            code = "4/" + secrets.token_urlsafe(24)
            self.codes[code] = _Code(self.client_id, redirect, params["code_challenge"], scopes)
            answer.update(code=code, scope=" ".join(scopes))
        if "state" in params:
            answer["state"] = params["state"]
        return 302, redirect + sep + urlencode(answer)

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        """The token endpoint; raises OAuthError."""
        if form.get("client_id") != self.client_id:
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        if form.get("client_secret") != self.client_secret:
            raise OAuthError(400, "invalid_client", "Unauthorized")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            if code is None or code.redirect_uri != form.get("redirect_uri"):
                raise OAuthError(400, "invalid_grant", "Malformed auth code.")
            verifier = form.get("code_verifier")
            if not verifier or s256(verifier) != code.challenge:
                raise OAuthError(400, "invalid_grant", "Invalid code verifier.")
            grant = Grant(code.scopes, "1//" + secrets.token_urlsafe(24))
            self.grants.append(grant)
            return self._token_body(grant, with_refresh=True)
        if grant_type == "refresh_token":
            for grant in self.grants:
                if grant.refresh_token == form.get("refresh_token") and grant.alive:
                    # Google keeps the refresh token: none comes back on refresh.
                    return self._token_body(grant, with_refresh=False)
            raise OAuthError(400, "invalid_grant", "Token has been expired or revoked.")
        raise OAuthError(400, "unsupported_grant_type", "Invalid grant_type: " + str(grant_type))

    def _token_body(self, grant: Grant, *, with_refresh: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": self._access(grant),
            "expires_in": int(self.access_ttl),
            "scope": " ".join(grant.scopes),
            "token_type": "Bearer",
        }
        if with_refresh:
            body["refresh_token"] = grant.refresh_token
        return body

    def revoke(self, token: str) -> None:
        """Revoking either token of a grant ends the whole grant; raises OAuthError."""
        for grant in self.grants:
            if grant.alive and (token == grant.refresh_token or token in grant.access_tokens):
                grant.alive = False
                return
        raise OAuthError(400, "invalid_token", "Token expired or revoked")
