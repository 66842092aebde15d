"""Hyperliquid: the server side of its WebSocket protocol.

Shared base classes and helpers: :mod:`datastores.testing._ws_dialects`.
"""

from __future__ import annotations

import json

from ..._ws_dialects import Dialect, json_request

__all__ = ["DIALECT", "HyperliquidDialect"]


class HyperliquidDialect(Dialect):
    """No login; ``{"method":"ping"}`` -> ``{"channel":"pong"}``."""

    def pong(self, text: str, path: str, now: float) -> str | None:
        return (
            None
            if json_request(text, "method", "ping") is None
            else json.dumps({"channel": "pong"})
        )


DIALECT = HyperliquidDialect
"""This exchange's dialect (found by ``profiles.dialects()``)."""
