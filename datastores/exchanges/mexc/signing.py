"""MEXC HTTP signing: spot API v3 and the futures (contract) API.

Spot v3 (https://mexcdevelop.github.io/apidocs/spot_v3_en/): Binance-like.
``timestamp`` (ms) and ``signature`` (hex HMAC-SHA256 of the query string) go in
the query, the key in ``X-MEXC-APIKEY``. A ``data=`` mapping is sent in the query
string too (body left empty), as MEXC's own examples do, so what is signed is
exactly the query sent.

Futures (https://mexcdevelop.github.io/apidocs/contract_v1_en/):
headers ``ApiKey``, ``Request-Time`` (ms) and ``Signature`` = hex HMAC-SHA256 of
``apiKey + Request-Time + paramString`` where ``paramString`` is, for GET and
DELETE, the query parameters sorted by name and joined with ``&`` (the query is
also *sent* in that order, so both sides see the same text) and, for POST, the
JSON body.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

from yarl import URL

from ..._registry import register_http_auth
from ..._signing import (
    HttpAuth,
    SignedRequest,
    SigningInput,
    hmac_sha256_hex,
    with_raw_query,
)

__all__ = [
    "FUTURES_HOSTS",
    "HTTP_AUTH",
    "SPOT_HOSTS",
    "futures_message",
    "sign_futures",
    "sign_spot",
]

SPOT_HOSTS = {"api.mexc.com": "mexc"}
FUTURES_HOSTS = {"contract.mexc.com": "mexc", "futures.mexc.com": "mexc"}

_PUBLIC_SPOT_PATH = re.compile(
    r"^/api/v3/(?:ping|time|defaultSymbols|exchangeInfo|depth|trades|historicalTrades|aggTrades"
    r"|klines|avgPrice|ticker/24hr|ticker/price|ticker/bookTicker)$"
)


def sign_spot(inp: SigningInput) -> SignedRequest:
    """Spot v3: body params moved to the query, then ``timestamp`` and ``signature``."""
    headers = {"X-MEXC-APIKEY": inp.credentials.key, "Content-Type": "application/json"}
    query = inp.url.raw_query_string
    if inp.body:
        query = (query + "&" if query else "") + inp.body.decode()
    if _PUBLIC_SPOT_PATH.match(inp.url.raw_path):
        return SignedRequest(with_raw_query(inp.url, query), headers, b"")
    names = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
    if "timestamp" not in names:
        query = (query + "&" if query else "") + f"timestamp={int(inp.now * 1000)}"
    signature = hmac_sha256_hex(inp.credentials.secret_bytes, query)
    query += f"&signature={signature}"
    return SignedRequest(with_raw_query(inp.url, query), headers, b"")


def futures_message(key: str, request_time: str, param_string: str | bytes) -> bytes:
    """The string MEXC futures signs, as bytes."""
    if isinstance(param_string, str):
        param_string = param_string.encode()
    return (key + request_time).encode() + param_string


def sorted_query(url: URL) -> str:
    """The query parameters sorted by name, re-encoded (``urlencode``)."""
    pairs = parse_qsl(url.raw_query_string, keep_blank_values=True)
    return urlencode(sorted(pairs, key=lambda pair: pair[0]))


def sign_futures(inp: SigningInput) -> SignedRequest:
    """Futures: ``ApiKey``, ``Request-Time`` and ``Signature`` headers."""
    request_time = str(int(inp.now * 1000))
    url = inp.url
    param_string: str | bytes
    if inp.method in ("GET", "DELETE"):
        param_string = sorted_query(url)
        url = with_raw_query(url, param_string)
    else:
        param_string = inp.body
    signature = hmac_sha256_hex(
        inp.credentials.secret_bytes,
        futures_message(inp.credentials.key, request_time, param_string),
    )
    headers = {
        "ApiKey": inp.credentials.key,
        "Request-Time": request_time,
        "Signature": signature,
        "Content-Type": "application/json",
    }
    return SignedRequest(url, headers, inp.body)


HTTP_AUTH = [
    HttpAuth(exchange="mexc", hosts=SPOT_HOSTS, body_format="form", sign=sign_spot),
    HttpAuth(exchange="mexc", hosts=FUTURES_HOSTS, body_format="json", sign=sign_futures),
]

register_http_auth(*HTTP_AUTH)
