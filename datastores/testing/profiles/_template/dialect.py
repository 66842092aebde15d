"""The example exchange: the server side of its WebSocket protocol.

TODO(<x>): your exchange's greeting, login check and application pings, from its docs.
Shared base classes and helpers: :mod:`datastores.testing._ws_dialects`.
"""

from __future__ import annotations

import json

from ..._ws_dialects import Dialect, json_request

__all__ = ["DIALECT", "ExampleDialect"]


class ExampleDialect(Dialect):
    """No greeting, no login; ``{"op": "ping"}`` -> ``{"op": "pong"}``."""

    def pong(self, text: str, path: str, now: float) -> str | None:
        if json_request(text, "op", "ping") is None:
            return None
        return json.dumps({"op": "pong"})


DIALECT = ExampleDialect
"""This exchange's dialect (what ``profiles.dialects()`` finds in a real exchange's folder)."""
