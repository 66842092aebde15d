"""BitMEX: the server side of its WebSocket protocol.

Shared base classes and helpers: :mod:`datastores.testing._ws_dialects`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ..._verify import FakeKey
from ..._ws_dialects import Dialect, LoginCheck, Refused, check_signature, find_key, hmac_hex

__all__ = ["DIALECT", "BitmexDialect"]


class BitmexDialect(Dialect):
    """Signed upgrade: hex HMAC of ``"GET" + path + api-expires`` (seconds, future)."""

    def greeting(self, path: str, query: Mapping[str, str]) -> list[str]:
        welcome = {
            "info": "Welcome to the BitMEX Realtime API.",
            "version": "2.0.0",
            "timestamp": "2026-01-01T00:00:00.000Z",
            "docs": "https://www.bitmex.com/app/wsAPI",
            "limit": {"remaining": 39},
        }
        return [json.dumps(welcome)]

    def check_handshake(
        self, path: str, headers: Mapping[str, str], keys: Mapping[str, FakeKey], now: float
    ) -> LoginCheck | None:
        if "api-key" not in headers:
            return None
        try:
            key = find_key(keys, headers.get("api-key"))
            expires = headers.get("api-expires", "")
            if not expires.isdigit() or int(expires) <= now:
                raise Refused("api-expires must be a future time in seconds")
            check_signature(
                hmac_hex(key.secret, f"GET{path}{expires}"), headers.get("api-signature")
            )
        except Refused as exc:
            return LoginCheck(False, str(exc))
        return LoginCheck(True, key=key.key)

    def pong(self, text: str, path: str, now: float) -> str | None:
        return "pong" if text == "ping" else None


DIALECT = BitmexDialect
"""This exchange's dialect (found by ``profiles.dialects()``)."""
