"""bitbank: the server side of its WebSocket protocol.

Shared base classes and helpers: :mod:`datastores.testing._ws_dialects`.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..._ws_dialects import Dialect

__all__ = ["DIALECT", "BitbankDialect"]


class BitbankDialect(Dialect):
    """Socket.IO over Engine.IO v3 (client pings) or v4 (server pings, client sends ``40``)."""

    def greeting(self, path: str, query: Mapping[str, str]) -> list[str]:
        open_packet = '0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":60000}'
        if query.get("EIO") == "3":
            return [open_packet, "40"]
        return [open_packet]

    def pong(self, text: str, path: str, now: float) -> str | None:
        if text == "2":
            return "3"
        if text == "40":
            return '40{"sid":"n1"}'
        return None


DIALECT = BitbankDialect
"""This exchange's dialect (found by ``profiles.dialects()``)."""
