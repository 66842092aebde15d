"""OKJ (OKCoin Japan) HTTP signing.

Same scheme as OKX v5: ``OK-ACCESS-SIGN`` is the Base64 HMAC-SHA256 of
``timestamp + METHOD + path-with-query + body`` with an ISO-8601 UTC timestamp in
milliseconds (``2020-12-08T09:08:57.715Z``); the passphrase is sent as given.
"""

from __future__ import annotations

from ..._signing import HttpAuth, SignedRequest, SigningInput, hmac_sha256_b64, path_with_query
from ..okx.signing import iso_timestamp

__all__ = ["HOSTS", "HTTP_AUTH", "message", "sign"]

HOSTS = {"www.okcoin.jp": "okj"}


def message(timestamp: str, method: str, path_query: str, body: bytes) -> bytes:
    """The string OKJ signs, as bytes."""
    return (timestamp + method + path_query).encode() + body


def sign(inp: SigningInput) -> SignedRequest:
    """Add the ``OK-ACCESS-*`` headers."""
    timestamp = iso_timestamp(inp.now)
    signature = hmac_sha256_b64(
        inp.credentials.secret_bytes,
        message(timestamp, inp.method, path_with_query(inp.url), inp.body),
    )
    headers = {
        "OK-ACCESS-KEY": inp.credentials.key,
        "OK-ACCESS-SIGN": signature,
        "OK-ACCESS-TIMESTAMP": timestamp,
        "OK-ACCESS-PASSPHRASE": inp.credentials.passphrase,
        "Content-Type": "application/json",
    }
    return SignedRequest(inp.url, headers, inp.body)


HTTP_AUTH = HttpAuth(exchange="okj", hosts=HOSTS, body_format="json", sign=sign)
