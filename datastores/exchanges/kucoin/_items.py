"""Item types of the KuCoin stores: one ``TypedDict`` per store.

Fields keep KuCoin's own names and value types (prices and sizes stay the strings,
or for some futures channels the numbers, KuCoin sent). Store names, keys and the
fields the reference library added (``symbol`` from the topic, ``interval``...)
follow pybotters §4.13.
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = [
    "BalanceItem",
    "DepthItem",
    "ExecutionItem",
    "KlineItem",
    "OrderBookItem",
    "OrderItem",
    "PositionItem",
    "SymbolItem",
]


class OrderBookItem(TypedDict):
    """One level of a full level-2 book: ``side`` is ``"asks"`` or ``"bids"``."""

    symbol: str
    side: str
    price: Any
    size: Any


class DepthItem(OrderBookItem, total=False):
    """One level of a top-5/top-50 book; ``timestamp`` of the frame it came in (ms)."""

    timestamp: Any


class SymbolItem(TypedDict, total=False):
    """A per-symbol record (``ticker``, ``symbolsnapshot``, ``indexprice``,
    ``markprice``, ``transactionstats``): KuCoin's fields plus ``symbol``."""

    symbol: str
    subject: str
    price: str
    bestBid: str
    bestAsk: str
    sequence: Any
    time: int
    value: Any


class KlineItem(TypedDict):
    """One candle of ``/market/candles:{symbol}_{interval}`` or REST
    ``/api/v1/market/candles``: ``timestamp`` is the start in seconds."""

    symbol: str
    interval: str
    timestamp: int
    open: str
    close: str
    high: str
    low: str
    volume: str
    turnover: str


class ExecutionItem(TypedDict, total=False):
    """One public trade (``/market/match``, ``/contractMarket/execution``)."""

    tradeId: str
    symbol: str
    side: str
    price: Any
    size: Any
    time: Any
    ts: Any


class OrderItem(TypedDict, total=False):
    """One order event or open order (spot ``tradeOrdersV2``, futures ``tradeOrders``;
    REST ``/api/v1/orders`` rows are renamed ``id`` -> ``orderId``)."""

    orderId: str
    symbol: str
    type: str
    status: str
    side: str
    orderType: str
    price: str
    size: str
    filledSize: str
    remainSize: str
    matchSize: str
    matchPrice: str
    clientOid: str
    ts: int


class BalanceItem(TypedDict, total=False):
    """One spot account balance (``/account/balance``, REST ``/api/v1/accounts``)."""

    accountId: str
    currency: str
    total: str
    available: str
    hold: str
    availableChange: str
    holdChange: str
    relationEvent: str
    time: str


class PositionItem(TypedDict, total=False):
    """One futures position (``/contract/position``, REST ``/api/v1/positions``);
    ``side`` (``"BUY"``/``"SELL"``) is derived from the sign of ``currentQty``."""

    symbol: str
    side: str
    currentQty: Any
    isOpen: bool
    avgEntryPrice: Any
    markPrice: Any
    changeReason: str
