"""bitFlyer: the server side of its WebSocket protocol.

Shared base classes and helpers: :mod:`datastores.testing._ws_dialects`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._verify import FakeKey
from ..._ws_dialects import (
    JsonLoginDialect,
    Refused,
    check_signature,
    check_window,
    find_key,
    hmac_hex,
)

__all__ = ["DIALECT", "BitflyerDialect"]


class BitflyerDialect(JsonLoginDialect):
    """JSON-RPC ``auth``: HMAC-SHA256 hex of ``str(timestamp) + nonce`` (13 or 10 digits)."""

    login_field, login_value = "method", "auth"

    def _verify(
        self, message: dict[str, Any], path: str, keys: Mapping[str, FakeKey], now: float
    ) -> FakeKey:
        params = message.get("params") or {}
        key = find_key(keys, params.get("api_key"))
        timestamp, nonce = params.get("timestamp"), params.get("nonce")
        if not isinstance(timestamp, int) or not isinstance(nonce, str):
            raise Refused("timestamp must be a number and nonce a string")
        if not 16 <= len(nonce) <= 255:
            raise Refused("nonce must have 16 to 255 characters")
        seconds = timestamp / 1000 if len(str(timestamp)) == 13 else timestamp
        check_window(seconds, now, past=60, future=60)
        check_signature(hmac_hex(key.secret, f"{timestamp}{nonce}"), params.get("signature"))
        return key

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        error = {"code": -32600, "message": reason}
        return {"jsonrpc": "2.0", "id": message.get("id"), "error": error}

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        return {"jsonrpc": "2.0", "id": message.get("id"), "result": True}


DIALECT = BitflyerDialect
"""This exchange's dialect (found by ``profiles.dialects()``)."""
