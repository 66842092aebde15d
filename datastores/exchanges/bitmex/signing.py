"""BitMEX HTTP signing (``api-expires`` scheme).

Rule (https://www.bitmex.com/app/apiKeysUsage): ``api-signature`` is the
lower-case hex HMAC-SHA256 of ``VERB + path-with-query + expires + body``, where
``expires`` is a UNIX time in **seconds** after which the request is refused.
Requests expire :data:`EXPIRES_AFTER` seconds after signing.
"""

from __future__ import annotations

from ..._registry import register_http_auth
from ..._signing import HttpAuth, SignedRequest, SigningInput, hmac_sha256_hex, path_with_query

__all__ = ["EXPIRES_AFTER", "HOSTS", "HTTP_AUTH", "message", "sign"]

HOSTS = {"www.bitmex.com": "bitmex", "testnet.bitmex.com": "bitmex_testnet"}
EXPIRES_AFTER = 60


def message(method: str, path_query: str, expires: str, body: bytes) -> bytes:
    """The string BitMEX signs, as bytes."""
    return (method + path_query + expires).encode() + body


def sign(inp: SigningInput) -> SignedRequest:
    """Add ``api-expires``, ``api-key`` and ``api-signature``."""
    expires = str(int(inp.now) + EXPIRES_AFTER)
    signature = hmac_sha256_hex(
        inp.credentials.secret_bytes,
        message(inp.method, path_with_query(inp.url), expires, inp.body),
    )
    headers = {
        "api-expires": expires,
        "api-key": inp.credentials.key,
        "api-signature": signature,
    }
    return SignedRequest(inp.url, headers, inp.body)


HTTP_AUTH = HttpAuth(exchange="bitmex", hosts=HOSTS, body_format="json", sign=sign)

register_http_auth(HTTP_AUTH)
