"""KuCoin HTTP signing, API key version 2.

Rule (https://www.kucoin.com/docs-new/authentication): ``KC-API-SIGN`` is the
Base64 HMAC-SHA256 of ``timestamp + METHOD + endpoint + body`` where
``endpoint`` is the path with its query string **not URL-encoded** (the docs'
example signs ``...passphrase=abc!@#11`` for ``...passphrase=abc%21%40%2311``).
With key version 2 the ``KC-API-PASSPHRASE`` header carries the Base64
HMAC-SHA256 of the passphrase, keyed by the secret. Timestamp in milliseconds,
accepted within 5 s of server time.
"""

from __future__ import annotations

from urllib.parse import unquote

from yarl import URL

from ..._registry import register_http_auth
from ..._signing import HttpAuth, SignedRequest, SigningInput, hmac_sha256_b64

__all__ = ["HOSTS", "HTTP_AUTH", "endpoint", "message", "sign"]

HOSTS = {"api.kucoin.com": "kucoin", "api-futures.kucoin.com": "kucoin"}


def endpoint(url: URL) -> str:
    """The path and query as KuCoin signs them: percent-decoded."""
    query = url.raw_query_string
    return unquote(url.raw_path + ("?" + query if query else ""))


def message(timestamp: str, method: str, endpoint_text: str, body: bytes) -> bytes:
    """The string KuCoin signs, as bytes."""
    return (timestamp + method + endpoint_text).encode() + body


def sign(inp: SigningInput) -> SignedRequest:
    """Add the ``KC-API-*`` headers."""
    secret = inp.credentials.secret_bytes
    timestamp = str(int(inp.now * 1000))
    signature = hmac_sha256_b64(secret, message(timestamp, inp.method, endpoint(inp.url), inp.body))
    headers = {
        "KC-API-KEY": inp.credentials.key,
        "KC-API-SIGN": signature,
        "KC-API-TIMESTAMP": timestamp,
        "KC-API-PASSPHRASE": hmac_sha256_b64(secret, inp.credentials.passphrase),
        "KC-API-KEY-VERSION": "2",
        "Content-Type": "application/json",
    }
    return SignedRequest(inp.url, headers, inp.body)


HTTP_AUTH = HttpAuth(exchange="kucoin", hosts=HOSTS, body_format="json", sign=sign)

register_http_auth(HTTP_AUTH)
