"""Bybit: the server side of its WebSocket protocol.

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

__all__ = ["DIALECT", "BybitDialect"]


class BybitDialect(JsonLoginDialect):
    """``op: auth``: hex HMAC of ``"GET/realtime" + expires``, expires (ms) in the future."""

    login_field, login_value = "op", "auth"

    def _verify(
        self, message: dict[str, Any], path: str, keys: Mapping[str, FakeKey], now: float
    ) -> FakeKey:
        args = message.get("args") or []
        if len(args) != 3:
            raise Refused("args must be [api_key, expires, signature]")
        key = find_key(keys, args[0])
        expires = args[1]
        if not isinstance(expires, int) or expires <= now * 1000:
            raise Refused("expires must be a future time in ms")
        check_signature(hmac_hex(key.secret, f"GET/realtime{expires}"), args[2])
        return key

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        if "trade" in path.split("/"):
            reply: dict[str, Any] = {"retCode": 10004, "retMsg": reason, "op": "auth"}
        else:
            reply = {"success": False, "ret_msg": reason, "op": "auth", "conn_id": "c1"}
        return self._echo_req_id(message, reply)

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        if "trade" in path.split("/"):
            reply: dict[str, Any] = {"retCode": 0, "retMsg": "OK", "op": "auth", "connId": "c1"}
        else:
            reply = {"success": True, "ret_msg": "", "op": "auth", "conn_id": "c1"}
        return self._echo_req_id(message, reply)

    @staticmethod
    def _echo_req_id(message: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
        if message.get("req_id") is not None:
            reply["req_id"] = message["req_id"]
        return reply

    def pong(self, text: str, path: str, now: float) -> str | None:
        if json_request(text, "op", "ping") is None:
            return None
        if "public" in path.split("/"):
            return json.dumps({"success": True, "ret_msg": "pong", "conn_id": "c1", "op": "ping"})
        return json.dumps({"op": "pong", "args": [str(int(now * 1000))], "conn_id": "c1"})


DIALECT = BybitDialect
"""This exchange's dialect (found by ``profiles.dialects()``)."""
