"""MEXC: the server side of its HTTP signature rule, and its error answer.

Written from the exchange's documentation, independently of the client's signer
(see :mod:`datastores.testing._verify` for the shared pieces and the rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from ..._verify import (
    FakeKey,
    ReceivedRequest,
    Rejected,
    SigningScheme,
    check_same,
    check_within,
    form_param,
    header,
    lookup_key,
    parse_int,
    sign_hex,
    strip_signature,
)

__all__ = ["SCHEMES", "mexc_error", "mexc_futures_error", "verify_mexc_futures", "verify_mexc_spot"]


# MEXC spot v3 keeps the Binance-style public market-data paths, which need no signature.
_PUBLIC = ("/depth", "/trades", "/klines", "/ticker/price", "/exchangeInfo", "/time")


def verify_mexc_spot(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """MEXC spot v3: hex HMAC of the query (without signature) + body."""
    found = lookup_key(keys, header(request, "X-MEXC-APIKEY"))
    query, signature = strip_signature(request.query)
    if signature is None:
        if request.path.endswith(_PUBLIC):
            return
        raise Rejected("missing", "signature is missing")
    stamp = form_param(query, request.body, "timestamp")
    if stamp is None:
        raise Rejected("missing", "timestamp is missing")
    window = form_param(query, request.body, "recvWindow") or "5000"
    check_within(
        parse_int(stamp, "timestamp"), now, past_ms=parse_int(window, "recvWindow"), future_ms=1000
    )
    check_same(sign_hex(found.secret, query.encode() + request.body), signature)


def verify_mexc_futures(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """MEXC futures: hex HMAC of key + Request-Time + (sorted query | JSON body)."""
    key = header(request, "ApiKey")
    found = lookup_key(keys, key)
    stamp = header(request, "Request-Time")
    check_within(parse_int(stamp, "Request-Time"), now, past_ms=10_000, future_ms=10_000)
    if request.method in ("GET", "DELETE"):
        pairs = sorted(parse_qsl(request.query, keep_blank_values=True), key=lambda p: p[0])
        params = urlencode(pairs).encode()
    else:
        params = request.body
    check_same(
        sign_hex(found.secret, (key + stamp).encode() + params), header(request, "Signature")
    )


def mexc_error(rejected: Rejected) -> tuple[int, Any]:
    """MEXC spot's answer to a failed authentication."""
    return 400, {"code": 700002, "msg": rejected.message}


def mexc_futures_error(rejected: Rejected) -> tuple[int, Any]:
    """MEXC futures' answer to a failed authentication (HTTP 200, ``success`` false)."""
    return 200, {"success": False, "code": 602, "message": rejected.message}


SCHEMES: dict[str, SigningScheme] = {
    "mexc": SigningScheme(host="api.mexc.com", verifier=lambda: verify_mexc_spot, error=mexc_error),
    "mexc-futures": SigningScheme(
        host="contract.mexc.com", verifier=lambda: verify_mexc_futures, error=mexc_futures_error
    ),
}
"""This exchange's signing schemes by name (found by ``profiles.signing_schemes()``)."""
