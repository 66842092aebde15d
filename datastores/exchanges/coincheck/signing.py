"""Coincheck HTTP signing (nonce scheme).

Rule (https://coincheck.com/documents/exchange/api#auth): ``ACCESS-SIGNATURE`` is
the hex HMAC-SHA256 of ``ACCESS-NONCE + full request URL + body``. The nonce must
grow on every request of a key; it is the time in milliseconds here (as ccxt and
pybotters send), so a key once used with millisecond nonces must keep them.
There is no time window: replay protection is the growing nonce.

The time alone does not make a growing nonce: two requests in one millisecond
would carry the same one, and a clock stepped back a smaller one, and Coincheck
refuses both. :data:`NONCES` hands out the time in milliseconds unless the key's
last nonce is not smaller, then that nonce plus one: one sequence per API key for
the whole process (every Client, REST and the WebSocket login alike), safe from
any thread.
"""

from __future__ import annotations

import threading

from yarl import URL

from ..._registry import register_http_auth
from ..._signing import HttpAuth, SignedRequest, SigningInput, hmac_sha256_hex

__all__ = ["HOSTS", "HTTP_AUTH", "NONCES", "NonceSequence", "message", "sign"]

HOSTS = {"coincheck.com": "coincheck"}


class NonceSequence:
    """Strictly increasing millisecond nonces, one sequence per API key.

    Thread-safe; :meth:`next` is O(1). Keeps one int per key it has seen.
    """

    __slots__ = ("_last", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, int] = {}

    def next(self, key: str, now: float) -> int:
        """The next nonce of ``key`` at ``now`` (seconds since the epoch): the time in
        milliseconds, or the key's last nonce plus one when that is larger (several
        requests in one millisecond, a clock that went back)."""
        milliseconds = int(now * 1000)
        with self._lock:
            last = self._last.get(key)
            nonce = milliseconds if last is None or milliseconds > last else last + 1
            self._last[key] = nonce
        return nonce


#: The process's nonces: shared by every Client (a key used by two Clients, or by
#: REST and the WebSocket login, still gets growing nonces).
NONCES = NonceSequence()


def message(nonce: str, url: URL, body: bytes) -> bytes:
    """The string Coincheck signs, as bytes (the URL exactly as sent)."""
    return (nonce + str(url)).encode() + body


def sign(inp: SigningInput) -> SignedRequest:
    """Add ``ACCESS-KEY``, ``ACCESS-NONCE`` (from :data:`NONCES`) and ``ACCESS-SIGNATURE``."""
    nonce = str(NONCES.next(inp.credentials.key, inp.now))
    signature = hmac_sha256_hex(inp.credentials.secret_bytes, message(nonce, inp.url, inp.body))
    headers = {
        "ACCESS-KEY": inp.credentials.key,
        "ACCESS-NONCE": nonce,
        "ACCESS-SIGNATURE": signature,
    }
    return SignedRequest(inp.url, headers, inp.body)


HTTP_AUTH = HttpAuth(exchange="coincheck", hosts=HOSTS, body_format="form", sign=sign)

register_http_auth(HTTP_AUTH)
