"""bitFlyer: the server side of its HTTP signature rule, and its error answer.

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

__all__ = ["SCHEMES", "bitflyer_error", "verify_bitflyer"]


def verify_bitflyer(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """bitFlyer: hex HMAC of timestamp + method + path?query + body (window 60 s, modelled)."""
    found = lookup_key(keys, header(request, "ACCESS-KEY"))
    stamp = header(request, "ACCESS-TIMESTAMP")
    check_within(parse_int(stamp, "ACCESS-TIMESTAMP"), now, past_ms=60_000, future_ms=60_000)
    payload = (stamp + request.method + target(request)).encode() + request.body
    check_same(sign_hex(found.secret, payload), header(request, "ACCESS-SIGN"))


def bitflyer_error(rejected: Rejected) -> tuple[int, Any]:
    """bitFlyer's answer to a failed authentication."""
    return 401, {"status": -500, "error_message": rejected.message, "data": None}


SCHEMES: dict[str, SigningScheme] = {
    "bitflyer": SigningScheme(
        host="api.bitflyer.com", verifier=lambda: verify_bitflyer, error=bitflyer_error
    ),
}
"""This exchange's signing schemes by name (found by ``profiles.signing_schemes()``)."""
