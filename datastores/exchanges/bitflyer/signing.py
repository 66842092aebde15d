"""bitFlyer Lightning HTTP signing.

Rule (https://lightning.bitflyer.com/docs#authentication): ``ACCESS-SIGN`` is the
lower-case hex HMAC-SHA256 of ``ACCESS-TIMESTAMP + METHOD + path-with-query + body``.
The timestamp is sent in milliseconds, as the official Node sample does
(``Date.now()``); the accepted unit and window are not documented.
"""

from __future__ import annotations

from ..._registry import register_http_auth
from ..._signing import HttpAuth, SignedRequest, SigningInput, hmac_sha256_hex, path_with_query

__all__ = ["HOSTS", "HTTP_AUTH", "message", "sign"]

HOSTS = {"api.bitflyer.com": "bitflyer"}


def message(timestamp: str, method: str, path_query: str, body: bytes) -> bytes:
    """The string bitFlyer signs, as bytes."""
    return (timestamp + method + path_query).encode() + body


def sign(inp: SigningInput) -> SignedRequest:
    """Add ``ACCESS-KEY``, ``ACCESS-TIMESTAMP`` and ``ACCESS-SIGN``."""
    timestamp = str(int(inp.now * 1000))
    signature = hmac_sha256_hex(
        inp.credentials.secret_bytes,
        message(timestamp, inp.method, path_with_query(inp.url), inp.body),
    )
    headers = {
        "ACCESS-KEY": inp.credentials.key,
        "ACCESS-TIMESTAMP": timestamp,
        "ACCESS-SIGN": signature,
    }
    return SignedRequest(inp.url, headers, inp.body)


HTTP_AUTH = HttpAuth(exchange="bitflyer", hosts=HOSTS, body_format="json", sign=sign)

register_http_auth(HTTP_AUTH)
