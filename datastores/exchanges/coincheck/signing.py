"""Coincheck HTTP signing (nonce scheme).

Rule (https://coincheck.com/documents/exchange/api#auth): ``ACCESS-SIGNATURE`` is
the hex HMAC-SHA256 of ``ACCESS-NONCE + full request URL + body``. The nonce must
grow on every request of a key; it is the time in milliseconds here (as ccxt and
pybotters send), so a key once used with millisecond nonces must keep them.
There is no time window: replay protection is the growing nonce.
"""

from __future__ import annotations

from yarl import URL

from ..._registry import register_http_auth
from ..._signing import HttpAuth, SignedRequest, SigningInput, hmac_sha256_hex

__all__ = ["HOSTS", "HTTP_AUTH", "message", "sign"]

HOSTS = {"coincheck.com": "coincheck"}


def message(nonce: str, url: URL, body: bytes) -> bytes:
    """The string Coincheck signs, as bytes (the URL exactly as sent)."""
    return (nonce + str(url)).encode() + body


def sign(inp: SigningInput) -> SignedRequest:
    """Add ``ACCESS-KEY``, ``ACCESS-NONCE`` and ``ACCESS-SIGNATURE``."""
    nonce = str(int(inp.now * 1000))
    signature = hmac_sha256_hex(inp.credentials.secret_bytes, message(nonce, inp.url, inp.body))
    headers = {
        "ACCESS-KEY": inp.credentials.key,
        "ACCESS-NONCE": nonce,
        "ACCESS-SIGNATURE": signature,
    }
    return SignedRequest(inp.url, headers, inp.body)


HTTP_AUTH = HttpAuth(exchange="coincheck", hosts=HOSTS, body_format="form", sign=sign)

register_http_auth(HTTP_AUTH)
