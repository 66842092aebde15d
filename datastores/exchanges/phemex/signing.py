"""Phemex HTTP signing.

Rule (https://phemex-docs.github.io/#rest-request-header): ``x-phemex-request-signature``
is the hex HMAC-SHA256 of ``path + queryString + expiry + body`` (no ``?``), with
``expiry`` in UNIX seconds (now + 60 here). The docs' examples sign the query as
plain text (``ordStatus=New&symbol=BTCUSD``), so the percent-decoded query is
signed. The key is the secret's UTF-8 bytes, as the official Python client
(github.com/phemex/phemex-python-api) does, although the docs' text mentions a
base64url decoding.
"""

from __future__ import annotations

from urllib.parse import unquote

from ..._registry import register_http_auth
from ..._signing import HttpAuth, SignedRequest, SigningInput, hmac_sha256_hex

__all__ = ["EXPIRES_AFTER", "HOSTS", "HTTP_AUTH", "message", "sign"]

HOSTS = {
    "api.phemex.com": "phemex",
    "vapi.phemex.com": "phemex",
    "testnet-api.phemex.com": "phemex_testnet",
}
EXPIRES_AFTER = 60


def message(path: str, query: str, expiry: str, body: bytes) -> bytes:
    """The string Phemex signs, as bytes."""
    return (path + query + expiry).encode() + body


def sign(inp: SigningInput) -> SignedRequest:
    """Add the ``x-phemex-*`` headers."""
    expiry = str(int(inp.now) + EXPIRES_AFTER)
    signature = hmac_sha256_hex(
        inp.credentials.secret_bytes,
        # unquote, not yarl's query_string: that one reads '+' as a space and keeps %2B.
        message(inp.url.raw_path, unquote(inp.url.raw_query_string), expiry, inp.body),
    )
    headers = {
        "x-phemex-access-token": inp.credentials.key,
        "x-phemex-request-expiry": expiry,
        "x-phemex-request-signature": signature,
    }
    return SignedRequest(inp.url, headers, inp.body)


HTTP_AUTH = HttpAuth(exchange="phemex", hosts=HOSTS, body_format="json", sign=sign)

register_http_auth(HTTP_AUTH)
