"""MEXC: the server side of its WebSocket protocol.

Shared base classes and helpers: :mod:`datastores.testing._ws_dialects`.
"""

from __future__ import annotations

import json
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
    parse_json,
)

__all__ = ["DIALECT", "MexcDialect"]


class MexcDialect(JsonLoginDialect):
    """Futures ``login``: hex HMAC of ``apiKey + reqTime`` (ms), answered on ``rs.login``."""

    login_field, login_value = "method", "login"

    def _verify(
        self, message: dict[str, Any], path: str, keys: Mapping[str, FakeKey], now: float
    ) -> FakeKey:
        param = message.get("param") or {}
        key = find_key(keys, param.get("apiKey"))
        request_time = param.get("reqTime")
        if not isinstance(request_time, str) or not request_time.isdigit():
            raise Refused("reqTime must be a string of epoch milliseconds")
        check_window(int(request_time) / 1000, now, past=10, future=5)
        check_signature(hmac_hex(key.secret, key.key + request_time), param.get("signature"))
        return key

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        return {"channel": "rs.error", "data": reason}

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        return {"channel": "rs.login", "data": "success", "ts": int(now * 1000)}

    def pong(self, text: str, path: str, now: float) -> str | None:
        message = parse_json(text)
        method = message.get("method") if isinstance(message, dict) else None
        if method == "ping":
            return json.dumps({"channel": "pong", "data": int(now * 1000)})
        if method == "PING":
            return json.dumps({"id": 0, "code": 0, "msg": "PONG"})
        return None


DIALECT = MexcDialect
"""This exchange's dialect (found by ``profiles.dialects()``)."""
