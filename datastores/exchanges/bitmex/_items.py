"""Item types of the BitMEX stores: one ``TypedDict`` per store, fields as BitMEX names them.

Only the type checker sees these: items are the rows BitMEX sent (an ``update``
merged into the stored row). BitMEX numbers are JSON numbers: prices are
floats (or ints), sizes and quantities are ints (contracts, or the instrument's
underlying units); times are ISO-8601 strings (``"2026-01-01T00:00:00.000Z"``).
Fields every row of a table has are required (the table's keys); BitMEX sends
only the changed fields in ``update`` rows, so the rest may be missing.

https://www.bitmex.com/app/wsAPI ; field lists: https://www.bitmex.com/api/explorer/
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = [
    "ExecutionItem",
    "InstrumentItem",
    "MarginItem",
    "OrderBook10Item",
    "OrderBookL2Item",
    "OrderItem",
    "PositionItem",
    "QuoteItem",
    "TradeItem",
    "WalletItem",
]


class _OrderBookL2Required(TypedDict):
    symbol: str
    id: int
    side: str
    size: int
    price: float


class OrderBookL2Item(_OrderBookL2Required, total=False):
    """One ``orderBookL2`` / ``orderBookL2_25`` row: ``side`` is ``"Sell"`` (ask) or
    ``"Buy"`` (bid); ``size`` in contracts; ``id`` is unique per symbol and price.
    ``timestamp``/``transactTime`` when the feed sends them."""

    timestamp: str
    transactTime: str


class _OrderBook10Required(TypedDict):
    symbol: str
    bids: list[list[float]]
    asks: list[list[float]]


class OrderBook10Item(_OrderBook10Required, total=False):
    """One ``orderBook10`` image: the best 10 ``[price, size]`` per side, best first."""

    timestamp: str


class TradeItem(TypedDict, total=False):
    """A ``trade``: taker ``side`` (``"Buy"``/``"Sell"``), ``size``, ``price``, ``trdMatchID``."""

    timestamp: str
    symbol: str
    side: str
    size: int
    price: float
    tickDirection: str
    trdMatchID: str
    grossValue: int
    homeNotional: float
    foreignNotional: float
    trdType: str


class QuoteItem(TypedDict, total=False):
    """A ``quote``: best bid/ask price and size (not in lockstep with ``orderBookL2``)."""

    timestamp: str
    symbol: str
    bidSize: int
    bidPrice: float
    askPrice: float
    askSize: int


class _InstrumentRequired(TypedDict):
    symbol: str


class InstrumentItem(_InstrumentRequired, total=False):
    """An ``instrument`` row (a few of its many fields typed; the rest as sent)."""

    rootSymbol: str
    state: str
    typ: str
    tickSize: float
    lotSize: float
    lastPrice: float
    markPrice: float
    indicativeSettlePrice: float
    fundingRate: float
    openInterest: int
    volume24h: int
    timestamp: str


class _OrderRequired(TypedDict):
    orderID: str


class OrderItem(_OrderRequired, total=False):
    """An ``order`` row: ``ordStatus`` ``"New"``, ``"PartiallyFilled"``... (rows that
    reach ``"Filled"``, ``"Canceled"`` or ``"Rejected"`` leave the store)."""

    clOrdID: str
    account: int
    symbol: str
    side: str
    orderQty: int
    price: float
    ordType: str
    timeInForce: str
    ordStatus: str
    leavesQty: int
    cumQty: int
    avgPx: float
    text: str
    transactTime: str
    timestamp: str


class ExecutionItem(TypedDict, total=False):
    """An ``execution`` (fills and order events; insert-only): ``execType`` ``"New"``,
    ``"Trade"``, ``"Canceled"``...; ``lastQty``/``lastPx`` of a fill."""

    execID: str
    orderID: str
    clOrdID: str
    account: int
    symbol: str
    side: str
    lastQty: int
    lastPx: float
    orderQty: int
    price: float
    execType: str
    ordType: str
    ordStatus: str
    leavesQty: int
    cumQty: int
    avgPx: float
    commission: float
    execComm: int
    transactTime: str
    timestamp: str


class _PositionRequired(TypedDict):
    account: int
    symbol: str


class PositionItem(_PositionRequired, total=False):
    """A ``position`` row: ``currentQty`` (signed contracts), ``avgEntryPrice``..."""

    currency: str
    currentQty: int
    avgEntryPrice: float
    markPrice: float
    liquidationPrice: float
    unrealisedPnl: int
    realisedPnl: int
    leverage: float
    isOpen: bool
    timestamp: str


class _AccountCurrencyRequired(TypedDict):
    account: int
    currency: str


class MarginItem(_AccountCurrencyRequired, total=False):
    """A ``margin`` row per currency (amounts in the currency's smallest unit, e.g. satoshi)."""

    amount: int
    walletBalance: int
    marginBalance: int
    availableMargin: int
    unrealisedPnl: int
    realisedPnl: int
    timestamp: str


class WalletItem(_AccountCurrencyRequired, total=False):
    """A ``wallet`` row per currency (amounts in the currency's smallest unit)."""

    amount: int
    deposited: int
    withdrawn: int
    timestamp: str


#: rows of tables without a dedicated type
AnyRow = dict[str, Any]
