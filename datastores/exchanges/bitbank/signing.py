"""bitbank private REST signing, ACCESS-TIME-WINDOW method.

Rule (https://github.com/bitbankinc/bitbank-api-docs/blob/master/rest-api.md#authorization):
``ACCESS-SIGNATURE`` is the lower-case hex HMAC-SHA256 of
``ACCESS-REQUEST-TIME + ACCESS-TIME-WINDOW + path-with-query`` for GET and of
``ACCESS-REQUEST-TIME + ACCESS-TIME-WINDOW + body`` otherwise. The request time is
in milliseconds; the window (ms, default 5000, at most 60000) is the caller's
``ACCESS-TIME-WINDOW`` header when given, else 5000, and is always sent.
Only ``api.bitbank.cc`` is private; ``public.bitbank.cc`` needs no signature.
"""

from __future__ import annotations

from ..._registry import register_http_auth
from ..._signing import HttpAuth, SignedRequest, SigningInput, hmac_sha256_hex, path_with_query

__all__ = ["DEFAULT_TIME_WINDOW", "HOSTS", "HTTP_AUTH", "message", "sign"]

HOSTS = {"api.bitbank.cc": "bitbank"}
DEFAULT_TIME_WINDOW = "5000"


def message(request_time: str, window: str, method: str, path_query: str, body: bytes) -> bytes:
    """The string bitbank signs, as bytes."""
    if method == "GET":
        return (request_time + window + path_query).encode()
    return (request_time + window).encode() + body


def sign(inp: SigningInput) -> SignedRequest:
    """Add ``ACCESS-KEY``, ``ACCESS-REQUEST-TIME``, ``ACCESS-TIME-WINDOW``, ``ACCESS-SIGNATURE``."""
    request_time = str(int(inp.now * 1000))
    window = inp.headers.get("ACCESS-TIME-WINDOW") or DEFAULT_TIME_WINDOW
    signature = hmac_sha256_hex(
        inp.credentials.secret_bytes,
        message(request_time, window, inp.method, path_with_query(inp.url), inp.body),
    )
    headers = {
        "ACCESS-KEY": inp.credentials.key,
        "ACCESS-REQUEST-TIME": request_time,
        "ACCESS-TIME-WINDOW": window,
        "ACCESS-SIGNATURE": signature,
    }
    return SignedRequest(inp.url, headers, inp.body)


HTTP_AUTH = HttpAuth(exchange="bitbank", hosts=HOSTS, body_format="json", sign=sign)

register_http_auth(HTTP_AUTH)
