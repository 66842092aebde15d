"""Bybit: the server side of its HTTP signature rule, and its error answer.

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
    header,
    lookup_key,
    now_ms,
    parse_int,
    sign_hex,
)

__all__ = ["SCHEMES", "bybit_error", "verify_bybit"]


def verify_bybit(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """Bybit V5: hex HMAC of ts + key + recvWindow + (query for GET | body)."""
    key = header(request, "X-BAPI-API-KEY")
    found = lookup_key(keys, key)
    stamp = header(request, "X-BAPI-TIMESTAMP")
    window = request.headers.get("X-BAPI-RECV-WINDOW", "")
    window_ms = parse_int(window, "X-BAPI-RECV-WINDOW") if window else 5000
    check_within(parse_int(stamp, "X-BAPI-TIMESTAMP"), now, past_ms=window_ms, future_ms=1000)
    tail = request.query.encode() if request.method == "GET" else request.body
    payload = (stamp + key + window).encode() + tail
    check_same(sign_hex(found.secret, payload), header(request, "X-BAPI-SIGN"))


def bybit_error(rejected: Rejected) -> tuple[int, Any]:
    """Bybit's answer to a failed authentication (10002: time window, 10004: signature)."""
    return 401, {
        "retCode": 10002 if rejected.kind == "timestamp" else 10004,
        "retMsg": rejected.message,
        "result": {},
        "retExtInfo": {},
        "time": now_ms(),
    }


SCHEMES: dict[str, SigningScheme] = {
    "bybit": SigningScheme(host="api.bybit.com", verifier=lambda: verify_bybit, error=bybit_error),
}
"""This exchange's signing schemes by name (found by ``profiles.signing_schemes()``)."""
