"""OKX: the server side of its WebSocket protocol.

Shared base classes and helpers: :mod:`datastores.testing._ws_dialects`.
"""

from __future__ import annotations

from ..._ws_dialects import OkStyleDialect

__all__ = ["DIALECT", "OkxDialect"]


class OkxDialect(OkStyleDialect):
    """OKX ``login``: the shared rule with OKX's verify path and error code."""


DIALECT = OkxDialect
"""This exchange's dialect (found by ``profiles.dialects()``)."""
