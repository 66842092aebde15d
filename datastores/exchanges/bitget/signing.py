"""Bitget HTTP signing (v2 and the legacy v1 mix API share it).

Rule (https://www.bitget.com/api-doc/common/signature): ``ACCESS-SIGN`` is the
Base64 HMAC-SHA256 of ``timestamp + METHOD + requestPath + "?" + queryString +
body`` (without ``"?" + queryString`` when the query is empty), timestamp in
milliseconds. The query is signed exactly as sent.

Demo trading (https://www.bitget.com/api-doc/common/demotrading/restapi) uses the
same host with the header ``paptrading: 1`` and separate demo API keys: such
requests are signed with the ``bitget_demo`` credentials.
"""

from __future__ import annotations

from collections.abc import Mapping

from yarl import URL

from ..._signing import HttpAuth, SignedRequest, SigningInput, hmac_sha256_b64, path_with_query

__all__ = ["HOSTS", "HTTP_AUTH", "credential_name", "message", "sign"]

HOSTS = {"api.bitget.com": "bitget"}


def message(timestamp: str, method: str, path_query: str, body: bytes) -> bytes:
    """The string Bitget signs, as bytes."""
    return (timestamp + method + path_query).encode() + body


def sign(inp: SigningInput) -> SignedRequest:
    """Add the ``ACCESS-*`` headers."""
    timestamp = str(int(inp.now * 1000))
    signature = hmac_sha256_b64(
        inp.credentials.secret_bytes,
        message(timestamp, inp.method, path_with_query(inp.url), inp.body),
    )
    headers = {
        "ACCESS-KEY": inp.credentials.key,
        "ACCESS-SIGN": signature,
        "ACCESS-TIMESTAMP": timestamp,
        "ACCESS-PASSPHRASE": inp.credentials.passphrase,
        "Content-Type": "application/json",
    }
    return SignedRequest(inp.url, headers, inp.body)


def credential_name(default: str, url: URL, headers: Mapping[str, str]) -> str:
    """``bitget_demo`` for demo-trading requests (``paptrading: 1``)."""
    return "bitget_demo" if headers.get("paptrading") == "1" else default


HTTP_AUTH = HttpAuth(
    exchange="bitget", hosts=HOSTS, body_format="json", sign=sign, credential_name=credential_name
)
