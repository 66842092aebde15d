"""Bitget: the server side of its HTTP signature rule, and its error answer.

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
    sign_b64,
    target,
)

__all__ = ["SCHEMES", "bitget_error", "verify_bitget"]


def verify_bitget(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """Bitget: Base64 HMAC of ms timestamp + method + path[?query] + body; 30 s."""
    found = lookup_key(keys, header(request, "ACCESS-KEY"))
    if found.passphrase != request.headers.get("ACCESS-PASSPHRASE"):
        raise Rejected("key", "wrong passphrase")
    if found.demo != (request.headers.get("paptrading") == "1"):
        raise Rejected("key", "demo keys are for demo trading only, and the other way round")
    stamp = header(request, "ACCESS-TIMESTAMP")
    check_within(parse_int(stamp, "ACCESS-TIMESTAMP"), now, past_ms=30_000, future_ms=30_000)
    payload = (stamp + request.method + target(request)).encode() + request.body
    check_same(sign_b64(found.secret, payload), header(request, "ACCESS-SIGN"))


def bitget_error(rejected: Rejected) -> tuple[int, Any]:
    """Bitget's answer to a failed authentication (40008: time window, 40009: signature)."""
    return 400, {
        "code": "40008" if rejected.kind == "timestamp" else "40009",
        "msg": rejected.message,
        "requestTime": now_ms(),
        "data": None,
    }


SCHEMES: dict[str, SigningScheme] = {
    "bitget": SigningScheme(
        host="api.bitget.com", verifier=lambda: verify_bitget, error=bitget_error
    ),
}
"""This exchange's signing schemes by name (found by ``profiles.signing_schemes()``)."""
