"""Binance HTTP signing: Spot, USDⓈ-M and COIN-M, their testnets and demo hosts.

Rule (https://github.com/binance/binance-spot-api-docs/blob/master/rest-api.md#signed-trade-and-user_data-endpoint-security):
SIGNED endpoints carry ``timestamp`` (ms) and ``signature``, the hex HMAC-SHA256
of ``totalParams`` = the query string concatenated with the form body, exactly as
sent. The key goes in the ``X-MBX-APIKEY`` header.

Here: ``timestamp`` is appended to the query unless the caller already put one in
the query or the body, then ``signature`` is appended to the query. Requests get
only the API-key header (no timestamp, no signature) on

* user-data-stream endpoints (``/api/v3/userDataStream``, ``/fapi/v1/listenKey``,
  ``/dapi/v1/listenKey``: security type USER_STREAM, key only);
* public market-data endpoints (``/api/v3/depth``, ``/fapi/v1/klines``...), where
  extra parameters can be refused (error -1104, "Not all sent parameters were
  read"). Pass ``auth=None`` to send no key at all.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from yarl import URL

from ..._registry import register_http_auth
from ..._signing import (
    HttpAuth,
    SignedRequest,
    SigningInput,
    hmac_sha256_hex,
    with_raw_query,
)

__all__ = ["HOSTS", "HTTP_AUTH", "is_key_only", "sign", "total_params"]

_MAIN = (
    "api.binance.com",
    "api-gcp.binance.com",
    "api1.binance.com",
    "api2.binance.com",
    "api3.binance.com",
    "api4.binance.com",
    "fapi.binance.com",
    "dapi.binance.com",
)
HOSTS = {
    **dict.fromkeys(_MAIN, "binance"),
    "testnet.binance.vision": "binancespot_testnet",
    "testnet.binancefuture.com": "binancefuture_testnet",
    # Demo mode (https://github.com/binance/binance-spot-api-docs/blob/master/demo-mode/general-info.md)
    # has its own keys, shared by its spot and futures hosts.
    "demo-api.binance.com": "binance_demo",
    "demo-fapi.binance.com": "binance_demo",
}

_USER_STREAM_SEGMENTS = frozenset({"userDataStream", "listenKey", "listen-key"})
_PUBLIC_PATH = re.compile(
    r"^/(?:api/v3|fapi/v[12]|dapi/v1)/(?:ping|time|exchangeInfo|depth|trades|historicalTrades"
    r"|aggTrades|klines|uiKlines|continuousKlines|indexPriceKlines|markPriceKlines"
    r"|premiumIndexKlines|avgPrice|premiumIndex|fundingRate|fundingInfo|openInterest"
    r"|constituents|assetIndex|indexInfo|ticker(?:/24hr|/tradingDay|/price|/bookTicker)?)$"
    r"|^/futures/data/"
)


def is_key_only(url: URL) -> bool:
    """Whether the endpoint takes the API key but no timestamp or signature."""
    return url.raw_path.rsplit("/", 1)[-1] in _USER_STREAM_SEGMENTS or bool(
        _PUBLIC_PATH.match(url.raw_path)
    )


def total_params(query: str, body: bytes) -> bytes:
    """What Binance signs: the query string directly followed by the body."""
    return query.encode() + body


def _has_timestamp(query: str, body: bytes) -> bool:
    names = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
    names.update(name for name, _ in parse_qsl(body.decode("latin-1"), keep_blank_values=True))
    return "timestamp" in names


def sign(inp: SigningInput) -> SignedRequest:
    """Add ``X-MBX-APIKEY``; for SIGNED endpoints also ``timestamp`` and ``signature``."""
    headers = {"X-MBX-APIKEY": inp.credentials.key}
    if is_key_only(inp.url):
        return SignedRequest(inp.url, headers, inp.body)
    query = inp.url.raw_query_string
    if not _has_timestamp(query, inp.body):
        query = (query + "&" if query else "") + f"timestamp={int(inp.now * 1000)}"
    signature = hmac_sha256_hex(inp.credentials.secret_bytes, total_params(query, inp.body))
    query = (query + "&" if query else "") + f"signature={signature}"
    return SignedRequest(with_raw_query(inp.url, query), headers, inp.body)


HTTP_AUTH = HttpAuth(exchange="binance", hosts=HOSTS, body_format="form", sign=sign)

register_http_auth(HTTP_AUTH)
