"""The example exchange: the server side of its HTTP signature rule, and its error answer.

Written from the exchange's documentation, independently of the client's signer
(:mod:`datastores.testing._verify` has the shared pieces). TODO(<x>): your rule and
error codes, with the doc link.
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

__all__ = ["SCHEMES", "example_error", "verify_example"]


def verify_example(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """Hex HMAC-SHA256 of ``timestamp + METHOD + path?query + body``; 5 s window."""
    found = lookup_key(keys, header(request, "EX-API-KEY"))
    stamp = header(request, "EX-API-TIMESTAMP")
    check_within(parse_int(stamp, "EX-API-TIMESTAMP"), now, past_ms=5000, future_ms=5000)
    payload = (stamp + request.method + target(request)).encode() + request.body
    check_same(sign_hex(found.secret, payload), header(request, "EX-API-SIGN"))


def example_error(rejected: Rejected) -> tuple[int, Any]:
    """The exchange's answer to a failed authentication (HTTP status, JSON body)."""
    code = 10002 if rejected.kind == "timestamp" else 10001
    return 401, {"code": code, "message": rejected.message}


SCHEMES: dict[str, SigningScheme] = {
    "_template": SigningScheme(
        host="api.example.invalid", verifier=lambda: verify_example, error=example_error
    ),
}
"""This exchange's signing schemes by name (what ``profiles.signing_schemes()`` finds)."""
