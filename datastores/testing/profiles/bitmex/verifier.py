"""BitMEX: the server side of its HTTP signature rule, and its error answer.

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
    header,
    lookup_key,
    parse_int,
    sign_hex,
    target,
)

__all__ = ["SCHEMES", "bitmex_error", "verify_bitmex"]


def verify_bitmex(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """BitMEX: hex HMAC of verb + path?query + expires + body; expires in the future."""
    found = lookup_key(keys, header(request, "api-key"))
    expires_text = header(request, "api-expires")
    expires = parse_int(expires_text, "api-expires")
    if not now < expires <= now + 3600:
        raise Rejected("timestamp", "This request has expired - `expires` is in the past")
    payload = (request.method + target(request) + expires_text).encode() + request.body
    check_same(sign_hex(found.secret, payload), header(request, "api-signature"))


def bitmex_error(rejected: Rejected) -> tuple[int, Any]:
    """BitMEX's answer to a failed authentication."""
    return 401, {"error": {"message": rejected.message, "name": "HTTPError"}}


SCHEMES: dict[str, SigningScheme] = {
    "bitmex": SigningScheme(
        host="www.bitmex.com", verifier=lambda: verify_bitmex, error=bitmex_error
    ),
}
"""This exchange's signing schemes by name (found by ``profiles.signing_schemes()``)."""
