"""Bitget: the server side of its WebSocket protocol.

Shared base classes and helpers: :mod:`datastores.testing._ws_dialects`.
"""

from __future__ import annotations

from ..._ws_dialects import OkStyleDialect

__all__ = ["DIALECT", "BitgetDialect"]


class BitgetDialect(OkStyleDialect):
    """Bitget ``login``: its verify path and error code; the server hangs up on a refusal."""

    verify_path = "/user/verify"
    error_code = "30005"
    close_on_failure = True


DIALECT = BitgetDialect
"""This exchange's dialect (found by ``profiles.dialects()``)."""
