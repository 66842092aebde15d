"""BitTrade: the server side of its HTTP signature rule, and its error answer.

Written from the exchange's documentation, independently of the client's signer
(see :mod:`datastores.testing._verify` for the shared pieces and the rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, quote

from ..._verify import (
    FakeKey,
    ReceivedRequest,
    Rejected,
    SigningScheme,
    check_same,
    check_within,
    lookup_key,
    sign_b64,
)

__all__ = ["SCHEMES", "bittrade_error", "verify_bittrade"]


def verify_bittrade(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """BitTrade (Huobi v2): Base64 HMAC of method, host, path and the sorted query."""
    pairs = parse_qsl(request.query, keep_blank_values=True)
    given = [value for name, value in pairs if name == "Signature"]
    if not given:
        raise Rejected("missing", "Signature parameter is missing")
    params = dict(pairs)
    found = lookup_key(keys, params.get("AccessKeyId", ""))
    if params.get("SignatureMethod") != "HmacSHA256" or params.get("SignatureVersion") != "2":
        raise Rejected("signature", "unsupported signature method or version")
    try:
        moment = datetime.strptime(params.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise Rejected("missing", "Timestamp is missing or malformed") from None
    stamp_ms = int(moment.replace(tzinfo=timezone.utc).timestamp() * 1000)
    check_within(stamp_ms, now, past_ms=300_000, future_ms=300_000)
    ordered = sorted((name, value) for name, value in pairs if name != "Signature")
    canonical = "&".join(
        f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}" for name, value in ordered
    )
    text = f"{request.method}\n{request.host}\n{request.path}\n{canonical}"
    check_same(sign_b64(found.secret, text.encode()), given[0])


def bittrade_error(rejected: Rejected) -> tuple[int, Any]:
    """BitTrade's answer to a failed authentication (HTTP 200, ``status`` error)."""
    return 200, {
        "status": "error",
        "err-code": "api-signature-not-valid",
        "err-msg": rejected.message,
        "data": None,
    }


SCHEMES: dict[str, SigningScheme] = {
    "bittrade": SigningScheme(
        host="api-cloud.bittrade.co.jp", verifier=lambda: verify_bittrade, error=bittrade_error
    ),
}
"""This exchange's signing schemes by name (found by ``profiles.signing_schemes()``)."""
