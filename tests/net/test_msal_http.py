"""MSAL's HTTP client: only a loopback http authority (a local test server) is reached over
plain http, and only that server's OpenID document is shown to MSAL with https addresses."""

from __future__ import annotations

import httpx
import pytest

from carecal.domain.errors import TransientError
from carecal.net.msal_http import MsalHttp, msal_authority


def test_only_loopback_http_authorities_are_rewritten() -> None:
    assert msal_authority("http://127.0.0.1:8123/common") == (
        "https://127.0.0.1:8123/common",
        "127.0.0.1:8123",
    )
    real = "https://login.microsoftonline.com/common"
    assert msal_authority(real) == (real, None)
    assert msal_authority("http://login.example.com/common") == (
        "http://login.example.com/common",
        None,
    )


def test_requests_go_where_they_should_and_documents_are_shown_as_https() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        body = '{"token_endpoint": "http://127.0.0.1:8123/common/oauth2/v2.0/token"}'
        return httpx.Response(200, text=body)

    client = MsalHttp(plain_host="127.0.0.1:8123", transport=httpx.MockTransport(answer))
    doc = client.get("https://127.0.0.1:8123/common/v2.0/.well-known/openid-configuration")
    assert "https://127.0.0.1:8123/common/oauth2/v2.0/token" in doc.text
    token = client.post("https://127.0.0.1:8123/common/oauth2/v2.0/token", data={"a": "b"})
    assert "http://127.0.0.1:8123/common/oauth2/v2.0/token" in token.text  # untouched
    client.get("https://login.microsoftonline.com/common/discovery")
    assert seen == [
        "http://127.0.0.1:8123/common/v2.0/.well-known/openid-configuration",
        "http://127.0.0.1:8123/common/oauth2/v2.0/token",
        "https://login.microsoftonline.com/common/discovery",
    ]
    assert client.public_url("https://127.0.0.1:8123/x") == "http://127.0.0.1:8123/x"
    client.close()


def test_a_network_failure_is_transient() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = MsalHttp(transport=httpx.MockTransport(fail))
    with pytest.raises(TransientError):
        client.get("https://login.microsoftonline.com/common")
    client.close()
