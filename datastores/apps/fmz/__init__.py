"""The FMZ Quant custom-protocol bridge (``datastores fmz``), served from live stores.

The FMZ agent ("docker") POSTs ``{"access_key", "secret_key", "method",
"nonce", "params"}`` to ``/<Name>``; the bridge answers ``{"data": ...}`` or
``{"error": ...}`` from one :class:`ExchangeAdapter` per exchange and key
pair. See ``docs/fmz.md``.
"""

from __future__ import annotations

from .adapter import (
    METHODS,
    AdapterContext,
    APIKeys,
    BridgeError,
    ExchangeAdapter,
    FMZSymbol,
    Instrument,
    NotSupported,
    OrderId,
    OrderRequest,
    PositionSelector,
)
from .server import FMZBridge, serve_fmz

__all__ = [
    "METHODS",
    "APIKeys",
    "AdapterContext",
    "BridgeError",
    "ExchangeAdapter",
    "FMZBridge",
    "FMZSymbol",
    "Instrument",
    "NotSupported",
    "OrderId",
    "OrderRequest",
    "PositionSelector",
    "serve_fmz",
]
