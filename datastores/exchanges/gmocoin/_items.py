"""Item types of the GMO Coin stores: one ``TypedDict`` per store, fields as GMO Coin names them.

Items are the dicts GMO Coin sent (the ``channel`` field included); numbers are
the strings it sent, timestamps ISO-8601 UTC strings with milliseconds. Only the
type checker sees these classes. Fields listed in the documentation for every
message of a channel are required; the others may be missing.

https://api.coin.z.com/docs/en/#ws-ticker , #ws-orderbooks , #ws-trades ,
#execution-events , #order-events , #position-events , #position-summary-events
"""

from __future__ import annotations

from typing import TypedDict

__all__ = [
    "ExecutionItem",
    "OrderBookItem",
    "OrderItem",
    "PositionItem",
    "PositionSummaryItem",
    "TickerItem",
    "TradeItem",
]


class OrderBookItem(TypedDict):
    """One book level: ``symbol``, ``side`` (``"asks"``/``"bids"``), ``price``, ``size``."""

    symbol: str
    side: str
    price: str
    size: str


class TickerItem(TypedDict, total=False):
    """``ticker``: best ``ask``/``bid``, ``last``, ``high``/``low``, ``volume`` (24 h)."""

    channel: str
    symbol: str
    ask: str
    bid: str
    high: str
    last: str
    low: str
    volume: str
    timestamp: str


class TradeItem(TypedDict, total=False):
    """``trades``: one public trade; ``side`` is the taker's (``BUY``/``SELL``)."""

    channel: str
    symbol: str
    price: str
    side: str
    size: str
    timestamp: str


class OrderItem(TypedDict, total=False):
    """``orderEvents`` (and ``/private/v1/activeOrders``): one working order.

    ``orderStatus``: ``WAITING``/``ORDERED`` (working), ``CANCELED``/``EXPIRED``
    (gone); ``msgType``: ``NOR`` new, ``ROR`` changed, ``COR`` cancelled, ``ER``
    execution. REST items name the size ``size``/``executedSize`` and the price
    ``price``; they are stored as GMO Coin sent them.
    """

    channel: str
    orderId: int
    symbol: str
    settleType: str
    executionType: str
    side: str
    orderStatus: str
    cancelType: str
    orderTimestamp: str
    orderPrice: str
    orderSize: str
    orderExecutedSize: str
    losscutPrice: str
    timeInForce: str
    msgType: str


class ExecutionItem(TypedDict, total=False):
    """``executionEvents`` (and ``/private/v1/latestExecutions``): one fill."""

    channel: str
    orderId: int
    executionId: int
    symbol: str
    settleType: str
    executionType: str
    side: str
    executionPrice: str
    executionSize: str
    positionId: int
    orderTimestamp: str
    executionTimestamp: str
    lossGain: str
    fee: str
    orderPrice: str
    orderSize: str
    orderExecutedSize: str
    timeInForce: str
    msgType: str


class PositionItem(TypedDict, total=False):
    """``positionEvents`` (and ``/private/v1/openPositions``): one open position.

    ``msgType``: ``OPR`` opened, ``UPR`` updated, ``ULR`` loss-cut price changed,
    ``CPR`` closed. ``orderdSize`` is GMO Coin's own spelling.
    """

    channel: str
    positionId: int
    symbol: str
    side: str
    size: str
    orderdSize: str
    price: str
    lossGain: str
    leverage: str
    losscutPrice: str
    timestamp: str
    msgType: str


class PositionSummaryItem(TypedDict, total=False):
    """``positionSummaryEvents`` (and ``/private/v1/positionSummary``): one symbol and side.

    ``msgType``: ``INIT`` (the summary on subscription), ``UPDATE``, ``PERIODIC``
    (every 5 s with ``"option": "PERIODIC"``).
    """

    channel: str
    symbol: str
    side: str
    averagePositionRate: str
    positionLossGain: str
    sumOrderQuantity: str
    sumPositionQuantity: str
    timestamp: str
    msgType: str
