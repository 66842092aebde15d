"""OKJ: the server side of its HTTP signature rule, and its error answer.

Written from the exchange's documentation, independently of the client's signer
(see :mod:`datastores.testing._verify` for the shared pieces and the rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._verify import FakeKey, ReceivedRequest, Rejected, SigningScheme, verify_ok_access

__all__ = ["SCHEMES", "okj_error", "verify_okj"]


def verify_okj(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """OKJ: the OKX rule (no demo trading)."""
    verify_ok_access(request, keys, now, False)


def okj_error(rejected: Rejected) -> tuple[int, Any]:
    """OKJ's answer to a failed authentication."""
    return 401, {"code": 30013, "message": "Invalid Sign"}


SCHEMES: dict[str, SigningScheme] = {
    "okj": SigningScheme(host="www.okcoin.jp", verifier=lambda: verify_okj, error=okj_error),
}
"""This exchange's signing schemes by name (found by ``profiles.signing_schemes()``)."""
