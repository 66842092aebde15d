"""OKX v5 HTTP signing, production and demo trading.

Rule (https://www.okx.com/docs-v5/en/#overview-rest-authentication):
``OK-ACCESS-SIGN`` is the Base64 HMAC-SHA256 of ``timestamp + METHOD +
requestPath + body``; ``requestPath`` includes the query string
(``/api/v5/account/balance?ccy=BTC``) and the timestamp is ISO-8601 UTC with
milliseconds (``2020-12-08T09:08:57.715Z``). Requests expire 30 s after it.

Demo trading uses the same hosts plus the header ``x-simulated-trading: 1`` and
separate keys: such requests are signed with the ``okx_demo`` credentials.
"""

from __future__ import annotations

from collections.abc import Mapping

from yarl import URL

from ..._registry import register_http_auth
from ..._signing import HttpAuth, SignedRequest, SigningInput
from .._okstyle import iso_timestamp, message, sign_request

__all__ = ["HOSTS", "HTTP_AUTH", "credential_name", "iso_timestamp", "message", "sign"]

HOSTS = {
    "www.okx.com": "okx",
    "aws.okx.com": "okx",
    "my.okx.com": "okx",
    "app.okx.com": "okx",
}


def sign(inp: SigningInput) -> SignedRequest:
    """Add the ``OK-ACCESS-*`` headers (ISO-8601 timestamp)."""
    return sign_request(inp, iso_timestamp(inp.now), "OK-ACCESS-")


def credential_name(default: str, url: URL, headers: Mapping[str, str]) -> str:
    """``okx_demo`` for demo-trading requests (``x-simulated-trading: 1``)."""
    return "okx_demo" if headers.get("x-simulated-trading") == "1" else default


HTTP_AUTH = HttpAuth(
    exchange="okx", hosts=HOSTS, body_format="json", sign=sign, credential_name=credential_name
)

register_http_auth(HTTP_AUTH)
