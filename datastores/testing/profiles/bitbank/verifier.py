"""bitbank: the server side of its HTTP signature rule, and its error answer.

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
    parse_int,
    sign_hex,
    target,
)

__all__ = ["SCHEMES", "bitbank_error", "verify_bitbank"]


def verify_bitbank(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """bitbank ACCESS-TIME-WINDOW: time + window + (path?query for GET | body)."""
    found = lookup_key(keys, header(request, "ACCESS-KEY"))
    stamp = header(request, "ACCESS-REQUEST-TIME")
    window = request.headers.get("ACCESS-TIME-WINDOW") or "5000"
    window_ms = min(parse_int(window, "ACCESS-TIME-WINDOW"), 60_000)
    check_within(parse_int(stamp, "ACCESS-REQUEST-TIME"), now, past_ms=window_ms, future_ms=1000)
    tail = target(request).encode() if request.method == "GET" else request.body
    check_same(
        sign_hex(found.secret, (stamp + window).encode() + tail),
        header(request, "ACCESS-SIGNATURE"),
    )


def bitbank_error(rejected: Rejected) -> tuple[int, Any]:
    """bitbank's answer to a failed authentication (HTTP 200, ``success`` 0)."""
    return 200, {"success": 0, "data": {"code": 20001}}


SCHEMES: dict[str, SigningScheme] = {
    "bitbank": SigningScheme(
        host="api.bitbank.cc", verifier=lambda: verify_bitbank, error=bitbank_error
    ),
}
"""This exchange's signing schemes by name (found by ``profiles.signing_schemes()``)."""
