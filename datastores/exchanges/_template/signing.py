"""Example exchange HTTP signing.

TODO(<x>): cite the exchange's authentication page and state its rule exactly, e.g.
"Rule (https://docs.example.invalid/rest/auth): ``EX-API-SIGN`` is the hex
HMAC-SHA256 of ``timestamp + METHOD + path?query + body``, keyed by the secret;
``EX-API-TIMESTAMP`` in milliseconds, accepted within 5 s of server time."
(The fictional rule above is what this template implements.)

A signer is a pure function of :class:`~datastores._signing.SigningInput` (method,
URL, body bytes, credentials, ``now``): no session state, no clock of its own, so
tests check it against golden vectors from the exchange's documentation.
Credentials are looked up by ``HTTP_AUTH.exchange`` in ``Client(apis=...)``.
"""

from __future__ import annotations

from ..._registry import register_http_auth
from ..._signing import HttpAuth, SignedRequest, SigningInput, hmac_sha256_hex, path_with_query

__all__ = ["HOSTS", "HTTP_AUTH", "message", "sign"]

#: TODO(<x>): every REST host the exchange signs (host -> credentials name).
#: ``.invalid`` never resolves: the template can never sign a real host.
HOSTS = {"api.example.invalid": "example"}


def message(timestamp: str, method: str, path_and_query: str, body: bytes) -> bytes:
    """The bytes the exchange signs (TODO(<x>): its own concatenation)."""
    return (timestamp + method + path_and_query).encode() + body


def sign(inp: SigningInput) -> SignedRequest:
    """Add the ``EX-API-*`` headers (TODO(<x>): its header names)."""
    timestamp = str(int(inp.now * 1000))
    payload = message(timestamp, inp.method, path_with_query(inp.url), inp.body)
    headers = {
        "EX-API-KEY": inp.credentials.key,
        "EX-API-TIMESTAMP": timestamp,
        "EX-API-SIGN": hmac_sha256_hex(inp.credentials.secret_bytes, payload),
    }
    return SignedRequest(inp.url, headers, inp.body)


HTTP_AUTH = HttpAuth(exchange="example", hosts=HOSTS, body_format="json", sign=sign)

# Registered on import; the registry imports ``signing`` of every exchange package on
# the first signed request (``_`` packages such as this one are skipped).
register_http_auth(HTTP_AUTH)
