"""OKJ: the server side of its WebSocket protocol.

Shared base classes and helpers: :mod:`datastores.testing._ws_dialects`.
"""

from __future__ import annotations

import zlib
from typing import Any

from ..._ws_dialects import OkStyleDialect, Refused

__all__ = ["DIALECT", "OkjDialect"]


class OkjDialect(OkStyleDialect):
    """OKEx v3 ``login`` args list; base64 HMAC of ``ts + "GET/users/self/verify"``.

    Server frames are raw-deflate compressed binary.
    """

    def _login_args(self, message: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
        args = message.get("args") or []
        if len(args) != 4:
            raise Refused("args must be [key, passphrase, timestamp, sign]")
        return args[0], args[1], args[2], args[3]

    def _seconds(self, timestamp: Any) -> float:
        try:
            return float(timestamp)
        except (TypeError, ValueError):
            raise Refused("timestamp must be epoch seconds") from None

    def _refusal(self, message: dict[str, Any], path: str, reason: str) -> Any:
        return {"event": "error", "message": reason, "errorCode": 30013}

    def _welcome(self, message: dict[str, Any], path: str, now: float) -> Any:
        return {"event": "login", "success": True}

    def encode(self, text: str) -> bytes:
        compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return compressor.compress(text.encode()) + compressor.flush()


DIALECT = OkjDialect
"""This exchange's dialect (found by ``profiles.dialects()``)."""
