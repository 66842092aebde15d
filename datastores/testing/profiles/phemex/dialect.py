"""Phemex: the server side of its WebSocket protocol.

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
    find_key,
    hmac_hex,
    json_request,
)

__all__ = ["DIALECT", "PhemexDialect"]


class PhemexDialect(JsonLoginDialect):
    """``user.auth``: hex HMAC of ``key + expiry``, expiry (s) at most 2 minutes ahead."""

    login_field, login_value = "method", "user.auth"

    def _verify(
        self, message: dict[str, Any], path: str, keys: Mapping[str, FakeKey], now: float
    ) -> FakeKey:
        params = message.get("params") or []
        if len(params) != 4 or params[0] != "API":
            raise Refused('params must be ["API", key, signature, expiry]')
        key = find_key(keys, params[1])
        expiry = params[3]
        if not isinstance(expiry, int) or not now < expiry <= now + 120:
            raise Refused("expiry must be within the next 2 minutes")
        check_signature(hmac_hex(key.secret, f"{key.key}{expiry}"), params[2])
        return key

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        return {"error": {"code": 6012, "message": reason}, "id": message.get("id"), "result": None}

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        return {"error": None, "id": message.get("id"), "result": {"status": "success"}}

    def pong(self, text: str, path: str, now: float) -> str | None:
        message = json_request(text, "method", "server.ping")
        if message is None:
            return None
        return json.dumps({"error": None, "id": message.get("id"), "result": "pong"})


DIALECT = PhemexDialect
"""This exchange's dialect (found by ``profiles.dialects()``)."""
