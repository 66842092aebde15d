"""Bitget HTTP signing (v2 and the legacy v1 mix API share it).

Rule (https://www.bitget.com/api-doc/common/signature): ``ACCESS-SIGN`` is the
Base64 HMAC-SHA256 of ``timestamp + METHOD + requestPath + "?" + queryString +
body`` (without ``"?" + queryString`` when the query is empty), timestamp in
milliseconds. The query is signed exactly as sent.

Demo trading (https://www.bitget.com/api-doc/common/demotrading/restapi) uses the
same host with the header ``paptrading: 1`` and separate demo API keys: such
requests are signed with the ``bitget_demo`` credentials.
"""

from __future__ import annotations

from collections.abc import Mapping

from yarl import URL

from ..._registry import register_http_auth
from ..._signing import HttpAuth, SignedRequest, SigningInput
from .._okstyle import message, sign_request

__all__ = ["HOSTS", "HTTP_AUTH", "credential_name", "message", "sign"]

HOSTS = {"api.bitget.com": "bitget"}


def sign(inp: SigningInput) -> SignedRequest:
    """Add the ``ACCESS-*`` headers (timestamp in epoch milliseconds)."""
    return sign_request(inp, str(int(inp.now * 1000)), "ACCESS-")


def credential_name(default: str, url: URL, headers: Mapping[str, str]) -> str:
    """``bitget_demo`` for demo-trading requests (``paptrading: 1``)."""
    return "bitget_demo" if headers.get("paptrading") == "1" else default


HTTP_AUTH = HttpAuth(
    exchange="bitget", hosts=HOSTS, body_format="json", sign=sign, credential_name=credential_name
)

register_http_auth(HTTP_AUTH)
