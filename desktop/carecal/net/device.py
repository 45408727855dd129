"""The device-code grant (RFC 8628): show a short code, the user enters it on another device,
Carecal polls the token endpoint. For machines where no browser can be opened.

``start_device_sign_in`` asks for the codes; ``finish_device_sign_in`` polls at the server's
interval, waits on ``authorization_pending``, slows down by 5 s on ``slow_down`` and stops at
expiry or on cancel. The poll goes through authlib's token request. Network thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from carecal.domain.errors import AuthExpired, CarecalError
from carecal.net.errors import SignInCancelled, SignInFailed, SignInTimedOut
from carecal.net.http import make_client
from carecal.net.oauth import OAuthConfig, oauth_client, translate_oauth_errors
from carecal.net.tokens import TokenSet

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP = 5.0


@dataclass(frozen=True)
class DeviceCode:
    """What to show the user (``user_code`` at ``verification_uri``) and what to poll with."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    expires_at: float  # on the monotonic clock given to start_device_sign_in
    interval: float
    verification_uri_complete: str | None = None
    message: str | None = None


async def start_device_sign_in(
    config: OAuthConfig,
    *,
    clock: Callable[[], float] = time.monotonic,
    transport: httpx.AsyncBaseTransport | None = None,
) -> DeviceCode:
    """Ask the device endpoint for a code. Raises SignInFailed, TransientError."""
    if not config.device_url:
        raise SignInFailed("this account type does not offer sign-in with a code")
    form = {"client_id": config.client_id}
    if config.scopes:
        form["scope"] = " ".join(config.scopes)
    async with make_client(
        timeout=config.timeout, user_agent=config.user_agent, transport=transport
    ) as client:
        try:
            response = await client.post(config.device_url, data=form)
            data = response.json()
        except CarecalError as exc:
            raise SignInFailed(f"sign-in with a code could not start: {exc}") from None
        except ValueError:
            raise SignInFailed("the sign-in server's answer could not be read") from None
    try:
        uri = data.get("verification_uri") or data["verification_url"]  # Google's older name
        return DeviceCode(
            device_code=str(data["device_code"]),
            user_code=str(data["user_code"]),
            verification_uri=str(uri),
            expires_at=clock() + float(data.get("expires_in", 900)),
            interval=float(data.get("interval", 5)),
            verification_uri_complete=data.get("verification_uri_complete"),
            message=data.get("message"),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise SignInFailed("the sign-in server's answer could not be read") from None


async def finish_device_sign_in(
    config: OAuthConfig,
    device: DeviceCode,
    *,
    cancel: asyncio.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TokenSet:
    """Poll until the user has approved. Raises SignInCancelled, SignInTimedOut, SignInFailed
    (declined), TransientError."""
    interval = device.interval
    async with oauth_client(config, transport=transport) as client:
        while True:
            if cancel is not None and cancel.is_set():
                raise SignInCancelled("sign-in cancelled")
            if clock() >= device.expires_at:
                raise SignInTimedOut("the sign-in code expired before it was entered; try again")
            await sleep(interval)
            if cancel is not None and cancel.is_set():
                raise SignInCancelled("sign-in cancelled")
            outcome = await _poll(client, config, device)
            if outcome == "pending":
                continue
            if outcome == "slow_down":
                interval += SLOW_DOWN_STEP
                continue
            assert isinstance(outcome, dict)
            return TokenSet.from_response(outcome, now=wall_clock())


async def _poll(client: Any, config: OAuthConfig, device: DeviceCode) -> dict[str, Any] | str:
    try:
        data: dict[str, Any] = await translate_oauth_errors(
            client.fetch_token(
                config.token_url,
                grant_type=DEVICE_GRANT,
                device_code=device.device_code,
                client_id=config.client_id,
            ),
            action="sign-in with a code",
        )
    except SignInFailed as exc:
        if exc.code == "authorization_pending":
            return "pending"
        if exc.code == "slow_down":
            return "slow_down"
        if exc.code == "expired_token":
            raise SignInTimedOut(
                "the sign-in code expired before it was entered; try again"
            ) from None
        if exc.code in ("access_denied", "authorization_declined"):
            raise SignInFailed("sign-in was declined") from None
        raise
    except AuthExpired:
        raise SignInFailed("the sign-in code was refused; try again") from None
    return data
