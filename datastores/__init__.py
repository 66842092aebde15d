"""datastores: real-time in-memory views of crypto exchanges for asyncio trading bots.

Public API (see docs/): :class:`Client`, :class:`WebSocketApp`, :class:`DataStore`,
:class:`DataStoreCollection`, order-book stores with integrity state, one
``*DataStore`` collection per exchange, and the exception tree.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from . import _registry
from ._changefeed import (
    BookChange,
    ChangeBatch,
    IntegrityEvent,
    LocalSource,
    RestSource,
    WsSource,
    apply_batch,
)
from ._client import Client, FetchResult, NotJSONContent, RequestContext
from ._collection import DataStoreCollection
from ._credentials import Credentials
from ._errors import (
    AuthenticationError,
    ChecksumMismatch,
    ConfigurationError,
    ConnectionLostError,
    DatastoresError,
    ExchangeAPIError,
    HandshakeError,
    MissingDependencyError,
    RateLimitError,
    SequenceGapError,
    StoreDesyncError,
    StoreStreamOverflow,
    TransportError,
    WebSocketAuthError,
)
from ._orderbook import BookStatus, OrderBookStore
from ._queue import WebSocketQueue
from ._request import Auth
from ._store import DataStore, StoreChange, StoreStream
from ._ws import Backoff, ConnectionState, WebSocketApp, WebSocketStatistics, WsConnection

#: pybotters' name for the ``ws`` handlers get (``app.current_ws``), for type hints
#: written against it: ``def handler(msg: Any, ws: ClientWebSocketResponse)``.
ClientWebSocketResponse = WsConnection

if _typing.TYPE_CHECKING:  # what the lazy names below resolve to, for mypy and IDEs
    from .apps.fmz.server import FMZBridge, serve_fmz
    from .apps.record import Recorder, ReplayStats, read_recording, replay
    from .apps.relay import Mirror, Relay
    from .exchanges.binance.store import (
        BinanceCOINMDataStore,
        BinanceSpotDataStore,
        BinanceUSDSMDataStore,
    )
    from .exchanges.bitbank.private import bitbankPrivateDataStore
    from .exchanges.bitbank.store import bitbankDataStore
    from .exchanges.bitflyer.store import bitFlyerDataStore
    from .exchanges.bitget.store import BitgetV2DataStore
    from .exchanges.bitget.store_v1 import BitgetDataStore
    from .exchanges.bitmex.store import BitMEXDataStore
    from .exchanges.bybit.store import BybitDataStore
    from .exchanges.coincheck.store import CoincheckDataStore, CoincheckPrivateDataStore
    from .exchanges.gmocoin.store import GMOCoinDataStore
    from .exchanges.hyperliquid.store import HyperliquidDataStore
    from .exchanges.kucoin.store import KuCoinDataStore
    from .exchanges.okx.store import OKXDataStore
    from .exchanges.phemex.store import PhemexDataStore

__version__ = "0.1.0"

# The exchanges plug into the core's host registry; the first lookup discovers them.
_registry.add_provider_package(f"{__name__}.exchanges")

# Exchange collections load on first access (``datastores.OKXDataStore`` or
# ``from datastores import OKXDataStore``), so ``import datastores`` costs the core
# only. One line per exported class: name -> the module that defines it.
_LAZY: dict[str, str] = {
    "BinanceCOINMDataStore": ".exchanges.binance.store",
    "BinanceSpotDataStore": ".exchanges.binance.store",
    "BinanceUSDSMDataStore": ".exchanges.binance.store",
    "BitgetDataStore": ".exchanges.bitget.store_v1",
    "BitgetV2DataStore": ".exchanges.bitget.store",
    "BitMEXDataStore": ".exchanges.bitmex.store",
    "bitbankDataStore": ".exchanges.bitbank.store",
    "bitbankPrivateDataStore": ".exchanges.bitbank.private",
    "BybitDataStore": ".exchanges.bybit.store",
    "CoincheckDataStore": ".exchanges.coincheck.store",
    "CoincheckPrivateDataStore": ".exchanges.coincheck.store",
    "HyperliquidDataStore": ".exchanges.hyperliquid.store",
    "GMOCoinDataStore": ".exchanges.gmocoin.store",
    "KuCoinDataStore": ".exchanges.kucoin.store",
    "OKXDataStore": ".exchanges.okx.store",
    "bitFlyerDataStore": ".exchanges.bitflyer.store",
    "PhemexDataStore": ".exchanges.phemex.store",
    # applications, outside the core
    "Recorder": ".apps.record",
    "ReplayStats": ".apps.record",
    "read_recording": ".apps.record",
    "replay": ".apps.record",
    "FMZBridge": ".apps.fmz.server",
    "serve_fmz": ".apps.fmz.server",
    "Relay": ".apps.relay",
    "Mirror": ".apps.relay",
}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups are plain module attributes
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "Auth",
    "AuthenticationError",
    "Backoff",
    "BinanceCOINMDataStore",
    "BinanceSpotDataStore",
    "BinanceUSDSMDataStore",
    "BitMEXDataStore",
    "BitgetDataStore",
    "BitgetV2DataStore",
    "BookChange",
    "BookStatus",
    "BybitDataStore",
    "ChangeBatch",
    "ChecksumMismatch",
    "Client",
    "ClientWebSocketResponse",
    "CoincheckDataStore",
    "CoincheckPrivateDataStore",
    "ConfigurationError",
    "ConnectionLostError",
    "ConnectionState",
    "Credentials",
    "DataStore",
    "DataStoreCollection",
    "DatastoresError",
    "ExchangeAPIError",
    "FMZBridge",
    "FetchResult",
    "GMOCoinDataStore",
    "HandshakeError",
    "HyperliquidDataStore",
    "IntegrityEvent",
    "KuCoinDataStore",
    "LocalSource",
    "Mirror",
    "MissingDependencyError",
    "NotJSONContent",
    "OKXDataStore",
    "OrderBookStore",
    "PhemexDataStore",
    "RateLimitError",
    "Recorder",
    "Relay",
    "ReplayStats",
    "RequestContext",
    "RestSource",
    "SequenceGapError",
    "StoreChange",
    "StoreDesyncError",
    "StoreStream",
    "StoreStreamOverflow",
    "TransportError",
    "WebSocketApp",
    "WebSocketAuthError",
    "WebSocketQueue",
    "WebSocketStatistics",
    "WsConnection",
    "WsSource",
    "__version__",
    "apply_batch",
    "bitFlyerDataStore",
    "bitbankDataStore",
    "bitbankPrivateDataStore",
    "read_recording",
    "replay",
    "serve_fmz",
]
