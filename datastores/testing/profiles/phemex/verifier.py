"""Phemex: the server side of its HTTP signature rule, and its error answer.

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
    header,
    lookup_key,
    parse_int,
    sign_hex,
)

__all__ = ["SCHEMES", "phemex_error", "verify_phemex"]


def verify_phemex(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """Phemex: hex HMAC of path + decoded query + expiry + body; expiry in the future."""
    found = lookup_key(keys, header(request, "x-phemex-access-token"))
    expiry_text = header(request, "x-phemex-request-expiry")
    expiry = parse_int(expiry_text, "x-phemex-request-expiry")
    if not now < expiry <= now + 120:
        raise Rejected("timestamp", "request expired (or expiry too far ahead)")
    payload = (request.path + unquote(request.query) + expiry_text).encode() + request.body
    check_same(sign_hex(found.secret, payload), header(request, "x-phemex-request-signature"))


def phemex_error(rejected: Rejected) -> tuple[int, Any]:
    """Phemex's answer to a failed authentication."""
    return 401, {"code": 401, "msg": rejected.message, "data": None}


SCHEMES: dict[str, SigningScheme] = {
    "phemex": SigningScheme(
        host="api.phemex.com", verifier=lambda: verify_phemex, error=phemex_error
    ),
}
"""This exchange's signing schemes by name (found by ``profiles.signing_schemes()``)."""
