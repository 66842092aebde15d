"""datastores: real-time in-memory views of crypto exchanges for asyncio trading bots.

Public API (see docs/): :class:`Client`, :class:`WebSocketApp`, :class:`DataStore`,
:class:`DataStoreCollection`, order-book stores with integrity state, one
``*DataStore`` collection per exchange, and the exception tree.
"""

from __future__ import annotations

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
from .apps.record import Recorder, ReplayStats, read_recording, replay
from .exchanges.binance.store import (
    BinanceCOINMDataStore,
    BinanceSpotDataStore,
    BinanceUSDSMDataStore,
)
from .exchanges.bitget.store import BitgetV2DataStore
from .exchanges.bitget.store_v1 import BitgetDataStore
from .exchanges.bybit.store import BybitDataStore
from .exchanges.okx.store import OKXDataStore

__version__ = "0.1.0"

__all__ = [
    "Auth",
    "AuthenticationError",
    "Backoff",
    "BinanceCOINMDataStore",
    "BinanceSpotDataStore",
    "BinanceUSDSMDataStore",
    "BitgetDataStore",
    "BitgetV2DataStore",
    "BookChange",
    "BookStatus",
    "BybitDataStore",
    "ChangeBatch",
    "ChecksumMismatch",
    "Client",
    "ConfigurationError",
    "ConnectionLostError",
    "ConnectionState",
    "Credentials",
    "DataStore",
    "DataStoreCollection",
    "DatastoresError",
    "ExchangeAPIError",
    "FetchResult",
    "HandshakeError",
    "IntegrityEvent",
    "LocalSource",
    "MissingDependencyError",
    "NotJSONContent",
    "OKXDataStore",
    "OrderBookStore",
    "RateLimitError",
    "Recorder",
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
    "read_recording",
    "replay",
]
