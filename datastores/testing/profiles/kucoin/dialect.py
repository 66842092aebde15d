"""KuCoin: the server side of its WebSocket protocol.

Shared base classes and helpers: :mod:`datastores.testing._ws_dialects`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ..._ws_dialects import Dialect, json_request

__all__ = ["DIALECT", "KucoinDialect"]


class KucoinDialect(Dialect):
    """Token in the URL; ``welcome`` first; ``ping`` -> ``pong`` with the same id."""

    def greeting(self, path: str, query: Mapping[str, str]) -> list[str]:
        return [json.dumps({"id": query.get("connectId", "c1"), "type": "welcome"})]

    def pong(self, text: str, path: str, now: float) -> str | None:
        message = json_request(text, "type", "ping")
        if message is None:
            return None
        return json.dumps({"id": message.get("id"), "type": "pong"})


DIALECT = KucoinDialect
"""This exchange's dialect (found by ``profiles.dialects()``)."""
