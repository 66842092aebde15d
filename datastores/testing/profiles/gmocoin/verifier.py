"""GMO Coin: the server side of its HTTP signature rule, and its error answer.

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
)

__all__ = ["SCHEMES", "gmocoin_error", "verify_gmocoin"]


def verify_gmocoin(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """GMO Coin: path without /private, no query, body for POST only."""
    found = lookup_key(keys, header(request, "API-KEY"))
    stamp = header(request, "API-TIMESTAMP")
    check_within(parse_int(stamp, "API-TIMESTAMP"), now, past_ms=60_000, future_ms=60_000)
    path = request.path
    if path.startswith("/private/"):
        path = path[len("/private") :]
    payload = (stamp + request.method + path).encode()
    if request.method == "POST":
        payload += request.body
    check_same(sign_hex(found.secret, payload), header(request, "API-SIGN"))


def gmocoin_error(rejected: Rejected) -> tuple[int, Any]:
    """GMO Coin's answer to a failed authentication (HTTP 200, ``status`` 5)."""
    return 200, {
        "status": 5,
        "messages": [{"message_code": "ERR-5010", "message_string": rejected.message}],
        "responsetime": "2026-01-01T00:00:00.000Z",
    }


SCHEMES: dict[str, SigningScheme] = {
    "gmocoin": SigningScheme(
        host="api.coin.z.com", verifier=lambda: verify_gmocoin, error=gmocoin_error
    ),
}
"""This exchange's signing schemes by name (found by ``profiles.signing_schemes()``)."""
