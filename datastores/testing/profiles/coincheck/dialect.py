"""Coincheck: the server side of its WebSocket protocol.

Shared base classes and helpers: :mod:`datastores.testing._ws_dialects`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._verify import FakeKey
from ..._ws_dialects import JsonLoginDialect, Refused, check_signature, find_key, hmac_hex

__all__ = ["DIALECT", "CoincheckDialect"]


class CoincheckDialect(JsonLoginDialect):
    """``type: login``: hex HMAC of ``nonce + "wss://stream.coincheck.com/private"``.

    The nonce must grow per key (the server remembers the last one).
    """

    login_field, login_value = "type", "login"

    def _verify(
        self, message: dict[str, Any], path: str, keys: Mapping[str, FakeKey], now: float
    ) -> FakeKey:
        key = find_key(keys, message.get("access_key"))
        nonce = message.get("access_nonce")
        if not isinstance(nonce, str) or not nonce.isdigit():
            raise Refused("access_nonce must be a string of digits")
        last = self.state.get(("nonce", key.key), -1)
        if int(nonce) <= last:
            raise Refused("nonce must increase")
        url = "wss://stream.coincheck.com/private"
        check_signature(hmac_hex(key.secret, nonce + url), message.get("access_signature"))
        self.state[("nonce", key.key)] = int(nonce)
        return key

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        return {"success": False, "error": reason}

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        return {"success": True}


DIALECT = CoincheckDialect
"""This exchange's dialect (found by ``profiles.dialects()``)."""
