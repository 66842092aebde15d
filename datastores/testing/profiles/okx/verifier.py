"""OKX: the server side of its HTTP signature rule, and its error answer.

Written from the exchange's documentation, independently of the client's signer
(see :mod:`datastores.testing._verify` for the shared pieces and the rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._verify import FakeKey, ReceivedRequest, Rejected, SigningScheme, verify_ok_access

__all__ = ["SCHEMES", "okx_error", "verify_okx"]


def verify_okx(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """OKX: Base64 HMAC of ISO timestamp + method + path?query + body; 30 s."""
    demo = request.headers.get("x-simulated-trading") == "1"
    verify_ok_access(request, keys, now, demo)


def okx_error(rejected: Rejected) -> tuple[int, Any]:
    """OKX's answer to a failed authentication (50102: time window, 50113: signature)."""
    code = "50102" if rejected.kind == "timestamp" else "50113"
    return 401, {"code": code, "msg": rejected.message, "data": []}


SCHEMES: dict[str, SigningScheme] = {
    "okx": SigningScheme(host="www.okx.com", verifier=lambda: verify_okx, error=okx_error),
}
"""This exchange's signing schemes by name (found by ``profiles.signing_schemes()``)."""
