"""KuCoin: the server side of its HTTP signature rule, and its error answer.

Written from the exchange's documentation, independently of the client's signer
(see :mod:`datastores.testing._verify` for the shared pieces and the rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from ..._verify import (
    FakeKey,
    ReceivedRequest,
    Rejected,
    SigningScheme,
    check_same,
    check_within,
    header,
    lookup_key,
    parse_int,
    sign_b64,
    target,
)

__all__ = ["SCHEMES", "kucoin_error", "verify_kucoin"]


def verify_kucoin(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """KuCoin v2 keys: Base64 HMAC over the percent-decoded endpoint; signed passphrase."""
    found = lookup_key(keys, header(request, "KC-API-KEY"))
    if header(request, "KC-API-KEY-VERSION") != "2":
        raise Rejected("key", "only key version 2 is modelled")
    if sign_b64(found.secret, found.passphrase.encode()) != request.headers.get(
        "KC-API-PASSPHRASE"
    ):
        raise Rejected("key", "wrong passphrase")
    stamp = header(request, "KC-API-TIMESTAMP")
    check_within(parse_int(stamp, "KC-API-TIMESTAMP"), now, past_ms=5000, future_ms=5000)
    endpoint = unquote(target(request))
    payload = (stamp + request.method + endpoint).encode() + request.body
    check_same(sign_b64(found.secret, payload), header(request, "KC-API-SIGN"))


def kucoin_error(rejected: Rejected) -> tuple[int, Any]:
    """KuCoin's answer to a failed authentication (400002: time window, 400005: signature)."""
    code = "400002" if rejected.kind == "timestamp" else "400005"
    return 401, {"code": code, "msg": rejected.message}


SCHEMES: dict[str, SigningScheme] = {
    "kucoin": SigningScheme(
        host="api.kucoin.com", verifier=lambda: verify_kucoin, error=kucoin_error
    ),
}
"""This exchange's signing schemes by name (found by ``profiles.signing_schemes()``)."""
