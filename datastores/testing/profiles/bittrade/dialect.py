"""BitTrade: the server side of its WebSocket protocol.

Shared base classes and helpers: :mod:`datastores.testing._ws_dialects`.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from ..._verify import FakeKey
from ..._ws_dialects import (
    JsonLoginDialect,
    Refused,
    check_signature,
    check_window,
    find_key,
    hmac_b64,
)

__all__ = ["DIALECT", "BittradeDialect"]


class BittradeDialect(JsonLoginDialect):
    """Huobi v2 ``auth``: base64 HMAC of ``GET\\n<host>\\n/ws/v2\\n<sorted query>``.

    Market frames (``/ws``) are gzip-compressed.
    """

    login_field, login_value = "ch", "auth"
    host = "api-cloud.bittrade.co.jp"

    def _verify(
        self, message: dict[str, Any], path: str, keys: Mapping[str, FakeKey], now: float
    ) -> FakeKey:
        params = dict(message.get("params") or {})
        if params.pop("authType", None) != "api":
            raise Refused("authType must be api")
        given = params.pop("signature", None)
        key = find_key(keys, params.get("accessKey"))
        try:
            moment = datetime.strptime(str(params.get("timestamp")), "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            raise Refused("timestamp must be YYYY-MM-DDThh:mm:ss (UTC)") from None
        check_window(moment.replace(tzinfo=timezone.utc).timestamp(), now, past=300, future=5)
        query = "&".join(
            f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in sorted(params.items())
        )
        check_signature(hmac_b64(key.secret, f"GET\n{self.host}\n{path}\n{query}"), given)
        return key

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        return {"action": "req", "code": 2002, "ch": "auth", "message": reason}

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        return {"action": "req", "code": 200, "ch": "auth"}

    def encode(self, text: str) -> str | bytes:
        if self.state.get("gzip"):
            return gzip.compress(text.encode())
        return text


DIALECT = BittradeDialect
"""This exchange's dialect (found by ``profiles.dialects()``)."""
