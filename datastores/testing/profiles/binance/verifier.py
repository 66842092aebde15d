"""Binance: the server side of its HTTP signature rule, and its error answer.

Written from the exchange's documentation, independently of the client's signer
(see :mod:`datastores.testing._verify` for the shared pieces and the rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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

__all__ = ["SCHEMES", "binance_error", "verify_binance"]


_BINANCE_KEY_ONLY_SUFFIXES = ("/userDataStream", "/listenKey")


_BINANCE_PUBLIC = ("/depth", "/trades", "/klines", "/ticker/price", "/exchangeInfo", "/time")


def verify_binance(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """Binance: hex HMAC of query (without signature) + body; recvWindow rule."""
    found = lookup_key(keys, header(request, "X-MBX-APIKEY"))
    query, signature = strip_signature(request.query)
    if signature is None:
        if request.path.endswith(_BINANCE_KEY_ONLY_SUFFIXES + _BINANCE_PUBLIC):
            return
        raise Rejected("missing", "Mandatory parameter 'signature' was not sent")
    stamp = form_param(query, request.body, "timestamp")
    if stamp is None:
        raise Rejected("missing", "Mandatory parameter 'timestamp' was not sent")
    window = form_param(query, request.body, "recvWindow") or "5000"
    check_within(
        parse_int(stamp, "timestamp"), now, past_ms=parse_int(window, "recvWindow"), future_ms=1000
    )
    check_same(
        sign_hex(found.secret, query.encode() + request.body), signature, case_insensitive=True
    )


def binance_error(rejected: Rejected) -> tuple[int, Any]:
    """Binance's answer to a failed authentication (-1021: time window, -1022: signature)."""
    return 400, {"code": -1021 if rejected.kind == "timestamp" else -1022, "msg": rejected.message}


SCHEMES: dict[str, SigningScheme] = {
    "binance": SigningScheme(
        host="api.binance.com", verifier=lambda: verify_binance, error=binance_error
    ),
    "binance-usdsm": SigningScheme(
        host="fapi.binance.com", verifier=lambda: verify_binance, error=binance_error
    ),
}
"""This exchange's signing schemes by name (found by ``profiles.signing_schemes()``)."""
