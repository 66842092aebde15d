"""GMO Coin HTTP signing (private API).

Rule (https://api.coin.z.com/docs/en/#authentication-private): ``API-SIGN`` is the
lower-case hex HMAC-SHA256 of ``timestamp + METHOD + path + body`` where ``path``
starts at ``/v1`` (the ``/private`` prefix is not signed), the query string is
never signed, and the body is signed for POST only: the official samples for
``PUT``/``DELETE /private/v1/ws-auth`` sign no body although they send one.
Public endpoints (``/public/...``) need no signature and are sent unsigned.
"""

from __future__ import annotations

from yarl import URL

from ..._registry import register_http_auth
from ..._signing import HttpAuth, SignedRequest, SigningInput, hmac_sha256_hex

__all__ = ["HOSTS", "HTTP_AUTH", "message", "sign"]

HOSTS = {"api.coin.z.com": "gmocoin"}


def signed_path(raw_path: str) -> str:
    """``/private/v1/order`` -> ``/v1/order`` (the first segment is dropped)."""
    rest = raw_path.split("/", 2)
    return "/" + rest[2] if len(rest) > 2 else raw_path


def message(timestamp: str, method: str, raw_path: str, body: bytes) -> bytes:
    """The string GMO Coin signs, as bytes."""
    signed_body = body if method == "POST" else b""
    return (timestamp + method + signed_path(raw_path)).encode() + signed_body


def sign(inp: SigningInput) -> SignedRequest:
    """Add ``API-KEY``, ``API-TIMESTAMP`` and ``API-SIGN``."""
    timestamp = str(int(inp.now * 1000))
    signature = hmac_sha256_hex(
        inp.credentials.secret_bytes, message(timestamp, inp.method, inp.url.raw_path, inp.body)
    )
    headers = {
        "API-KEY": inp.credentials.key,
        "API-TIMESTAMP": timestamp,
        "API-SIGN": signature,
    }
    return SignedRequest(inp.url, headers, inp.body)


def _is_private(url: URL) -> bool:
    return url.raw_path.startswith("/private/")


HTTP_AUTH = HttpAuth(
    exchange="gmocoin", hosts=HOSTS, body_format="json", sign=sign, applies=_is_private
)

register_http_auth(HTTP_AUTH)
