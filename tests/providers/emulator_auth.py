"""The sign-in a provider under test uses on an emulator (Google's or Graph's): the
emulator's own access tokens, no browser."""

from __future__ import annotations

from typing import Protocol

from carecal.domain.errors import AuthExpired
from carecal.net.tokens import TokenSet


class TokenIssuer(Protocol):
    def issue_token(self) -> str: ...


class EmulatorAuth:
    """A GoogleAuth or OutlookAuth handing out one emulator access token; a refresh gets a
    fresh one until ``dead`` is set (then it fails like a revoked refresh token). Runs on the
    provider's event loop; ``refresh`` raises AuthExpired once dead."""

    def __init__(self, emu: TokenIssuer) -> None:
        self.emu = emu
        self.token = emu.issue_token()
        self.refreshes = 0
        self.dead = False

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def refresh(self, stale: TokenSet | None = None) -> TokenSet:
        self.refreshes += 1
        if self.dead:
            raise AuthExpired("the saved sign-in is no longer valid (invalid_grant)")
        self.token = self.emu.issue_token()
        return TokenSet(self.token)
