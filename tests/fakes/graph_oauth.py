"""The Microsoft identity platform endpoints (v2.0) for a public client, as the Graph emulator
serves them under `/{tenant}/oauth2/v2.0/`: authorize (auto-approving, loopback redirect, PKCE
S256), token (authorization_code, refresh_token with rotation, device_code) and devicecode,
plus the OpenID configuration document. Errors carry Entra's AADSTS codes.

Runs under the emulator's lock on an HTTP handler thread (or the test thread for admin hooks).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

GRAPH = "https://graph.microsoft.com/"
CALENDARS_RW = "Calendars.ReadWrite"
OIDC_SCOPES = ("openid", "profile", "offline_access", "email")
GRAPH_SCOPES = (
    "Calendars.Read", "Calendars.ReadWrite", "Calendars.Read.Shared",
    "Calendars.ReadWrite.Shared", "User.Read",
)  # fmt: skip
TENANT_ALIASES = ("common", "organizations", "consumers")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# Why a killed refresh token is refused: AADSTS code and the emulator's wording.
KILL_REASONS = {
    "expired": (700082, "The refresh token has expired due to inactivity."),
    "revoked": (50173, "The provided grant has expired due to it being revoked."),
    "consent": (65001, "The user or administrator has not consented to use the application."),
}
_GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


class IdentityError(Exception):
    """An identity endpoint's error answer: HTTP status and Entra's JSON error body."""

    def __init__(self, status: int, error: str, code: int, message: str) -> None:
        super().__init__(f"{error}: AADSTS{code}: {message}")
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        self.status = status
        self.body: dict[str, Any] = {
            "error": error,
            "error_description": f"AADSTS{code}: {message}\r\nTrace ID: {trace}\r\n"
            f"Correlation ID: {correlation}\r\nTimestamp: {stamp}",
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
        }


def s256(verifier: str) -> str:
    """The PKCE S256 challenge for a verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _b64json(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@dataclass
class Grant:
    """One sign-in: its scopes, its live refresh token and the access tokens issued."""

    scopes: tuple[str, ...]
    refresh_token: str | None
    old_refresh_tokens: set[str] = field(default_factory=set)
    killed: str | None = None  # a KILL_REASONS key once the grant is dead
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry


@dataclass
class _Code:
    redirect_uri: str
    challenge: str
    scopes: tuple[str, ...]
    nonce: str | None


@dataclass
class DeviceFlow:
    """One device-code sign-in waiting for the user."""

    user_code: str
    scopes: tuple[str, ...]
    expires: float
    state: str = "pending"  # pending, approved, declined, redeemed


class IdentityServer:
    """Client registration, codes, device flows and tokens of the emulator's tenant."""

    def __init__(
        self,
        client_id: str,
        tenant_id: str,
        user: tuple[str, str],
        access_ttl: float,
        base_url: Any,
    ) -> None:
        self.client_id = client_id
        self.tenant_id = tenant_id
        self.user_email, self.user_name = user
        self.user_oid = str(uuid.uuid4())
        self.access_ttl = access_ttl
        self.base_url = base_url  # a callable giving the emulator's base URL
        self.decline_consent = False  # the user clicks "No" on the consent page
        self.old_refresh_tokens_die = True  # rotation: a used refresh token stops working
        self.device_ttl = 900.0
        self.device_interval = 5
        self.codes: dict[str, _Code] = {}
        self.redeemed: set[str] = set()
        self.grants: list[Grant] = []
        self.devices: dict[str, DeviceFlow] = {}

    # ----- scopes and tokens --------------------------------------------------------------
    @staticmethod
    def parse_scopes(text: str) -> tuple[str, ...]:
        """Requested scopes, Graph ones without their resource prefix; 400 invalid_scope for
        a scope the app cannot have."""
        out: list[str] = []
        for raw in text.split():
            name = raw[len(GRAPH) :] if raw.lower().startswith(GRAPH) else raw
            if name == ".default":
                name = CALENDARS_RW
            match = next(
                (s for s in (*GRAPH_SCOPES, *OIDC_SCOPES) if s.lower() == name.lower()), None
            )
            if match is None:
                raise IdentityError(400, "invalid_scope", 70011, f"The scope '{raw}' is not valid.")
            if match not in out:
                out.append(match)
        if not out:
            raise IdentityError(400, "invalid_request", 900144, "The request needs a 'scope'.")
        return tuple(out)

    def issue(
        self, scopes: tuple[str, ...] = (CALENDARS_RW, "offline_access")
    ) -> tuple[str, str | None]:
        """A fresh grant without any browser: (access token, refresh token or None)."""
        grant = self._grant(scopes)
        return self._access(grant), grant.refresh_token

    def _grant(self, scopes: tuple[str, ...]) -> Grant:
        refresh = "M.C5" + secrets.token_urlsafe(48) if "offline_access" in scopes else None
        grant = Grant(scopes, refresh)
        self.grants.append(grant)
        return grant

    def _access(self, grant: Grant) -> str:
        token = "EwB" + secrets.token_urlsafe(60)
        grant.access_tokens[token] = time.monotonic() + self.access_ttl
        return token

    def scopes_for(self, access_token: str) -> tuple[str, ...] | None:
        """The scopes of a live access token, or None (unknown or expired). Killing a refresh
        token leaves issued access tokens working until they expire, as with Entra."""
        for grant in self.grants:
            expiry = grant.access_tokens.get(access_token)
            if expiry is not None:
                return grant.scopes if time.monotonic() < expiry else None
        return None

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is expired from now on."""
        for grant in self.grants:
            for token in grant.access_tokens:
                grant.access_tokens[token] = 0.0

    def kill_refresh_tokens(self, reason: str = "expired") -> None:
        """Every refresh token issued so far now gets invalid_grant with `reason`'s code."""
        if reason not in KILL_REASONS:
            raise ValueError(f"reason must be one of {sorted(KILL_REASONS)}")
        for grant in self.grants:
            grant.killed = reason

    def _token_body(self, grant: Grant, nonce: str | None, form: dict[str, str]) -> dict[str, Any]:
        api = [GRAPH + s for s in grant.scopes if s in GRAPH_SCOPES]
        oidc = [s for s in grant.scopes if s in ("openid", "profile", "email")]
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(api + oidc),
            "expires_in": int(self.access_ttl),
            "ext_expires_in": int(self.access_ttl),
            "access_token": self._access(grant),
        }
        if grant.refresh_token is not None:
            body["refresh_token"] = grant.refresh_token
        if "openid" in grant.scopes:
            body["id_token"] = self._id_token(nonce)
        if form.get("client_info") == "1":
            body["client_info"] = _b64json({"uid": self.user_oid, "utid": self.tenant_id})
        return body

    def _id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": self.client_id,
            "iss": f"{self.base_url()}/{self.tenant_id}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": self.user_name,
            "oid": self.user_oid,
            "preferred_username": self.user_email,
            "sub": self.user_oid,
            "tid": self.tenant_id,
            "ver": "2.0",
        }
        if nonce:
            claims["nonce"] = nonce
        head = _b64json({"typ": "JWT", "alg": "RS256", "kid": "carecal-emulator"})
        return f"{head}.{_b64json(claims)}.{base64.urlsafe_b64encode(b'unsigned').decode()}"

    # ----- endpoints ----------------------------------------------------------------------
    def check_tenant(self, tenant: str) -> None:
        """400 invalid_tenant unless `tenant` is an alias, this tenant or a GUID."""
        if tenant not in TENANT_ALIASES and tenant != self.tenant_id and not _GUID_RE.match(tenant):
            raise IdentityError(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")

    def _check_client(self, params: dict[str, str]) -> None:
        if params.get("client_id") != self.client_id:
            raise IdentityError(
                400, "unauthorized_client", 700016, "Application was not found in the directory."
            )
        if params.get("client_secret") or params.get("client_assertion"):
            raise IdentityError(
                401,
                "invalid_client",
                700025,
                "Client is public so neither 'client_assertion' nor 'client_secret' should be "
                "presented.",
            )

    def authorize(self, params: dict[str, str]) -> str:
        """The redirect a browser gets from the sign-in page (the user signs in at once, or
        declines when `decline_consent` is set); IdentityError for requests Entra refuses
        without redirecting."""
        self._check_client(params)
        redirect = params.get("redirect_uri", "")
        parts = urlsplit(redirect)
        if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
            raise IdentityError(
                400,
                "invalid_request",
                50011,
                "The redirect URI does not match those configured (http://localhost).",
            )
        if params.get("response_type") != "code":
            raise IdentityError(
                400, "unsupported_response_type", 700054, "response_type must be 'code'."
            )
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            raise IdentityError(
                400, "invalid_request", 501491, "The emulator requires PKCE with S256."
            )
        scopes = self.parse_scopes(params.get("scope", ""))
        answer: dict[str, str] = {}
        if self.decline_consent:
            answer["error"] = "access_denied"
            answer["error_description"] = "AADSTS65004: User declined to consent."
        else:
            code = "M.C5_" + secrets.token_urlsafe(32)
            self.codes[code] = _Code(
                redirect, params["code_challenge"], scopes, params.get("nonce")
            )
            answer["code"] = code
        if "state" in params:
            answer["state"] = params["state"]
        if "code" in answer:
            answer["session_state"] = str(uuid.uuid4())
        sep = "&" if parts.query else "?"
        return redirect + sep + urlencode(answer)

    def device_code(self, form: dict[str, str]) -> dict[str, Any]:
        """POST devicecode: a user code to type at the verification page."""
        self._check_client(form)
        scopes = self.parse_scopes(form.get("scope", ""))
        device = secrets.token_urlsafe(40)
        user = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
        self.devices[device] = DeviceFlow(user, scopes, time.monotonic() + self.device_ttl)
        uri = f"{self.base_url()}/devicelogin"
        return {
            "user_code": user,
            "device_code": device,
            "verification_uri": uri,
            "expires_in": int(self.device_ttl),
            "interval": self.device_interval,
            "message": f"To sign in, open {uri} in a browser and enter the code {user}.",
        }

    def settle_device(self, user_code: str | None, state: str) -> str:
        """Approve or decline a pending device sign-in (the newest when `user_code` is None);
        returns its user code."""
        pending = [d for d in self.devices.values() if d.state == "pending"]
        if user_code is not None:
            pending = [d for d in pending if d.user_code == user_code]
        if not pending:
            raise LookupError("no pending device sign-in")
        pending[-1].state = state
        return pending[-1].user_code

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        """POST token; raises IdentityError."""
        self._check_client(form)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)  # one try per code
            if code is None:
                used = form.get("code", "") in self.redeemed
                raise IdentityError(
                    400,
                    "invalid_grant",
                    54005 if used else 70000,
                    "The authorization code was already redeemed."
                    if used
                    else "The authorization code is not valid.",
                )
            self.redeemed.add(form["code"])
            if code.redirect_uri != form.get("redirect_uri"):
                raise IdentityError(
                    400, "invalid_grant", 50148, "The redirect_uri differs from the authorize one."
                )
            verifier = form.get("code_verifier", "")
            if not verifier or s256(verifier) != code.challenge:
                raise IdentityError(
                    400,
                    "invalid_grant",
                    501481,
                    "The code_verifier does not match the code_challenge of the request.",
                )
            return self._token_body(self._grant(code.scopes), code.nonce, form)
        if grant_type == "refresh_token":
            return self._refresh(form)
        if grant_type == DEVICE_CODE_GRANT:
            return self._poll(form)
        raise IdentityError(
            400, "unsupported_grant_type", 70003, f"The grant type {grant_type!r} is not supported."
        )

    def _refresh(self, form: dict[str, str]) -> dict[str, Any]:
        given = form.get("refresh_token", "")
        for grant in self.grants:
            if given != grant.refresh_token and given not in grant.old_refresh_tokens:
                continue
            if grant.killed is not None:
                code, message = KILL_REASONS[grant.killed]
                raise IdentityError(400, "invalid_grant", code, message)
            if given in grant.old_refresh_tokens and self.old_refresh_tokens_die:
                raise IdentityError(
                    400, "invalid_grant", 70000, "The refresh token was already used."
                )
            if "scope" in form:
                asked = self.parse_scopes(form["scope"])
                extra = [s for s in asked if s in GRAPH_SCOPES and s not in grant.scopes]
                if extra:
                    raise IdentityError(
                        400, "invalid_grant", 65001, f"No consent for {' '.join(extra)}."
                    )
            # Rotation: every refresh returns a new refresh token.
            assert grant.refresh_token is not None
            grant.old_refresh_tokens.add(grant.refresh_token)
            grant.refresh_token = "M.C5" + secrets.token_urlsafe(48)
            return self._token_body(grant, None, form)
        raise IdentityError(400, "invalid_grant", 9002313, "The refresh token is malformed.")

    def _poll(self, form: dict[str, str]) -> dict[str, Any]:
        flow = self.devices.get(form.get("device_code", ""))
        if flow is None or flow.state == "redeemed":
            raise IdentityError(400, "bad_verification_code", 70000, "Unknown device code.")
        if time.monotonic() > flow.expires:
            raise IdentityError(400, "expired_token", 70019, "The device code has expired.")
        if flow.state == "pending":
            raise IdentityError(
                400, "authorization_pending", 70016, "The user has not finished signing in yet."
            )
        if flow.state == "declined":
            raise IdentityError(
                400, "authorization_declined", 70000, "The user declined the sign-in."
            )
        flow.state = "redeemed"
        return self._token_body(self._grant(flow.scopes), None, form)

    def openid_configuration(self, tenant: str) -> dict[str, Any]:
        """The tenant's OpenID Connect discovery document, pointing at the emulator."""
        base = f"{self.base_url()}/{tenant}"
        return {
            "issuer": f"{self.base_url()}/{self.tenant_id}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "response_types_supported": ["code"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "token_endpoint_auth_methods_supported": ["none"],
            "code_challenge_methods_supported": ["S256"],
            "tenant_region_scope": "EU",
        }
