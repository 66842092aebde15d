"""Coincheck: the server side of its HTTP signature rule, and its error answer.

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

__all__ = ["SCHEMES", "CoincheckVerifier", "coincheck_error"]


class CoincheckVerifier:
    """Coincheck: hex HMAC of nonce + full URL + body; nonces must grow per key."""

    def __init__(self) -> None:
        self.last_nonce: dict[str, int] = {}

    def __call__(self, request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
        key = header(request, "ACCESS-KEY")
        found = lookup_key(keys, key)
        nonce_text = header(request, "ACCESS-NONCE")
        url = f"https://{request.host}{target(request)}"
        payload = (nonce_text + url).encode() + request.body
        check_same(sign_hex(found.secret, payload), header(request, "ACCESS-SIGNATURE"))
        nonce = parse_int(nonce_text, "ACCESS-NONCE")
        if nonce <= self.last_nonce.get(key, 0):
            raise Rejected("timestamp", "nonce must be larger than the previous one")
        self.last_nonce[key] = nonce


def coincheck_error(rejected: Rejected) -> tuple[int, Any]:
    """Coincheck's answer to a failed authentication."""
    return 401, {"success": False, "error": rejected.message}


SCHEMES: dict[str, SigningScheme] = {
    "coincheck": SigningScheme(
        host="coincheck.com", verifier=CoincheckVerifier, error=coincheck_error
    ),
}
"""This exchange's signing schemes by name (found by ``profiles.signing_schemes()``)."""
