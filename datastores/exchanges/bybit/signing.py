"""Bybit V5 HTTP signing (main, regional, demo and testnet hosts).

Rule (https://bybit-exchange.github.io/docs/v5/guide#authentication):
``X-BAPI-SIGN`` is the lower-case hex HMAC-SHA256 of ``timestamp + apiKey +
recvWindow + queryString`` for GET and ``timestamp + apiKey + recvWindow +
jsonBodyString`` for POST, timestamp in milliseconds. The receive window is the
caller's ``X-BAPI-RECV-WINDOW`` header when given, else 5000 ms, and is always
sent (the docs' examples always include it).
"""

from __future__ import annotations

from ..._registry import register_http_auth
from ..._signing import HttpAuth, SignedRequest, SigningInput, hmac_sha256_hex

__all__ = ["DEFAULT_RECV_WINDOW", "HOSTS", "HTTP_AUTH", "message", "sign"]

_MAIN_HOSTS = (
    "api.bybit.com",
    "api.bytick.com",
    # Regional entities (https://bybit-exchange.github.io/docs/v5/guide): keys made
    # there are used with the same "bybit" credential name.
    "api.bybit.nl",
    "api.bybit.tr",
    "api.bybit.kz",
    "api.bybitgeorgia.ge",
    "api.bybit.ae",
    "api.bybit.eu",
    "api.bybit.id",
    "api.manepa.jp",
)
HOSTS = {
    **dict.fromkeys(_MAIN_HOSTS, "bybit"),
    "api-demo.bybit.com": "bybit_demo",
    "api-testnet.bybit.com": "bybit_testnet",
}
DEFAULT_RECV_WINDOW = "5000"


def message(
    timestamp: str, key: str, recv_window: str, method: str, query: str, body: bytes
) -> bytes:
    """The string Bybit signs, as bytes."""
    prefix = (timestamp + key + recv_window).encode()
    return prefix + (query.encode() if method == "GET" else body)


def sign(inp: SigningInput) -> SignedRequest:
    """Add the ``X-BAPI-*`` headers."""
    timestamp = str(int(inp.now * 1000))
    recv_window = inp.headers.get("X-BAPI-RECV-WINDOW") or DEFAULT_RECV_WINDOW
    signature = hmac_sha256_hex(
        inp.credentials.secret_bytes,
        message(
            timestamp,
            inp.credentials.key,
            recv_window,
            inp.method,
            inp.url.raw_query_string,
            inp.body,
        ),
    )
    headers = {
        "X-BAPI-API-KEY": inp.credentials.key,
        "X-BAPI-TIMESTAMP": timestamp,
        "X-BAPI-RECV-WINDOW": recv_window,
        "X-BAPI-SIGN": signature,
    }
    return SignedRequest(inp.url, headers, inp.body)


HTTP_AUTH = HttpAuth(exchange="bybit", hosts=HOSTS, body_format="json", sign=sign)

register_http_auth(HTTP_AUTH)
