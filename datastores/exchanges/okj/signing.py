"""OKJ (OKCoin Japan) HTTP signing.

Same scheme as OKX v5: ``OK-ACCESS-SIGN`` is the Base64 HMAC-SHA256 of
``timestamp + METHOD + path-with-query + body`` with an ISO-8601 UTC timestamp in
milliseconds (``2020-12-08T09:08:57.715Z``); the passphrase is sent as given.
"""

from __future__ import annotations

from ..._registry import register_http_auth
from ..._signing import HttpAuth, SignedRequest, SigningInput
from .._okstyle import iso_timestamp, message, sign_request

__all__ = ["HOSTS", "HTTP_AUTH", "message", "sign"]

HOSTS = {"www.okcoin.jp": "okj"}


def sign(inp: SigningInput) -> SignedRequest:
    """Add the ``OK-ACCESS-*`` headers (ISO-8601 timestamp)."""
    return sign_request(inp, iso_timestamp(inp.now), "OK-ACCESS-")


HTTP_AUTH = HttpAuth(exchange="okj", hosts=HOSTS, body_format="json", sign=sign)

register_http_auth(HTTP_AUTH)
