"""GMO Coin's stores: the order book and the private stores' update rules.

The collection (``store.py``) routes messages here; every change goes through the
store methods that report to the change feed (``_replace``, ``_insert``,
``_update``, ``_delete``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from ..._orderbook import OrderBookStore
from ..._store import DataStore
from ._items import (
    ExecutionItem,
    OrderBookItem,
    OrderItem,
    PositionItem,
    PositionSummaryItem,
    TickerItem,
    TradeItem,
)

__all__ = [
    "GMOCoinExecutions",
    "GMOCoinOrderBook",
    "GMOCoinOrders",
    "GMOCoinPositionSummary",
    "GMOCoinPositions",
    "GMOCoinTicker",
    "GMOCoinTrades",
    "timestamp_ms",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MILLISECOND = timedelta(milliseconds=1)


def timestamp_ms(text: object) -> int | None:
    """``"2024-01-01T00:00:00.123Z"`` -> milliseconds since the epoch, or ``None``."""
    if text.__class__ is not str:
        return None
    assert isinstance(text, str)
    try:
        # Python 3.10's fromisoformat does not read "Z".
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // _MILLISECOND


def decimal(value: object) -> Decimal | None:
    """A finite decimal from a GMO Coin number string (or number), else ``None``."""
    if value.__class__ not in (str, int, float):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


class GMOCoinOrderBook(OrderBookStore[OrderBookItem]):
    """Books from ``orderbooks``: ``sorted()`` returns ``{"asks": [...], "bids": [...]}``.

    Every frame is a whole book (https://api.coin.z.com/docs/en/#ws-orderbooks ; 30
    levels a side as observed, the documentation gives no depth), so each one
    replaces the symbol's book: O(n log n) for n levels. There is no sequence
    number and no checksum: a lost frame cannot be noticed, and the next one
    repairs it anyway. What can be checked is checked: a frame whose levels cannot
    be read, or whose best bid is not below its best ask, marks the symbol
    unsynced (counted in ``status().errors``) until the next good frame.

    ``last_update_id`` is the frame's ``timestamp`` in milliseconds since the
    epoch; :attr:`timestamp` is the latest frame's ``timestamp`` string (the
    reference library's attribute) and :attr:`timestamps` the latest per symbol.
    """

    _VERIFICATION = (("whole frames",), "whole books; crossed frames refused")

    _SYMBOL = "symbol"
    _SIDE = "side"
    _PRICE = "price"
    _SIZE = "size"
    _ASK = "asks"
    _BID = "bids"

    def _init(self) -> None:
        super()._init()
        #: the ``timestamp`` of the latest frame (any symbol), or ``None``
        self.timestamp: str | None = None
        #: symbol -> the ``timestamp`` of its latest frame
        self.timestamps: dict[str, str] = {}

    def _on_frame(self, symbol: str, asks: Any, bids: Any, timestamp: object) -> bool:
        """Replace ``symbol``'s book with one frame. Returns whether it is synced."""
        ask_levels = _levels(asks)
        bid_levels = _levels(bids)
        if ask_levels is None or bid_levels is None:
            self._fail(symbol, "error", "orderbooks frame with unreadable levels")
            return False
        if not self._replace(symbol, ask_levels, bid_levels, timestamp_ms(timestamp)):
            return False
        if timestamp.__class__ is str:
            assert isinstance(timestamp, str)
            self.timestamp = timestamp
            self.timestamps[symbol] = timestamp
        best_ask, best_bid = self.best(symbol)
        if (
            best_ask is not None
            and best_bid is not None
            and float(best_bid["price"]) >= float(best_ask["price"])
        ):
            # A matching engine never publishes a crossed book: the frame is corrupt.
            self._fail(
                symbol, "error", f"crossed book: bid {best_bid['price']} >= ask {best_ask['price']}"
            )
            return False
        return True


def _levels(side: Any) -> list[list[Any]] | None:
    """``[{"price": p, "size": s}, ...]`` -> ``[[p, s], ...]``; ``None`` if not that shape.

    The values are checked by the book itself (a bad price or size is refused there).
    """
    if side.__class__ is not list:
        return None
    levels = []
    for level in side:
        if level.__class__ is not dict:
            return None
        price = level.get("price")
        size = level.get("size")
        if price.__class__ is not str or size.__class__ is not str:
            return None
        levels.append([price, size])
    return levels


class GMOCoinTicker(DataStore[TickerItem]):
    """``ticker``: the latest ticker per symbol (keyed by ``symbol``)."""

    _KEYS: ClassVar[tuple[str, ...]] = ("symbol",)


class GMOCoinTrades(DataStore[TradeItem]):
    """``trades``: public trades, newest last, at most ``_MAXLEN`` (keyless).

    99999 like every other trade store here (the reference library kept 9999 for
    GMO Coin only).
    """

    _MAXLEN = 99999


class GMOCoinExecutions(DataStore[ExecutionItem]):
    """``executionEvents``: own fills, keyed by ``executionId``."""

    _KEYS: ClassVar[tuple[str, ...]] = ("executionId",)


#: order statuses after which an order is no longer working
_FINISHED = frozenset({"CANCELED", "EXPIRED"})
#: fields an execution event shares with its order
_ORDER_FIELDS = (
    "orderId",
    "symbol",
    "settleType",
    "executionType",
    "side",
    "orderTimestamp",
    "orderPrice",
    "orderSize",
    "orderExecutedSize",
    "timeInForce",
)


class GMOCoinOrders(DataStore[OrderItem]):
    """Working orders, keyed by ``orderId``: ``orderEvents``, fills, ``activeOrders``.

    An order leaves when its ``orderStatus`` is ``CANCELED``/``EXPIRED``, on
    ``msgType`` ``COR``, or when a fill (``orderEvents`` ``ER`` or
    ``executionEvents``) shows it fully executed (compared as decimals: ``"0.01"``
    equals ``"0.010"``). Any other event updates it: a partial fill keeps it (the
    reference library deleted it on every ``msgType`` but ``NOR``/``ROR``).
    """

    _KEYS: ClassVar[tuple[str, ...]] = ("orderId",)

    def _on_order_event(self, item: dict[str, Any]) -> None:
        if (
            item.get("orderStatus") in _FINISHED
            or item.get("msgType") == "COR"
            or _fully_executed(item.get("orderSize"), item.get("orderExecutedSize"))
        ):
            self._delete([item])
        else:
            self._update([item])

    def _on_execution(self, item: Mapping[str, Any]) -> None:
        if _fully_executed(item.get("orderSize"), item.get("orderExecutedSize")):
            self._delete([{"orderId": item["orderId"]}])
        elif self.get({"orderId": item["orderId"]}) is not None:
            self._update(
                [{"orderId": item["orderId"], "orderExecutedSize": item.get("orderExecutedSize")}]
            )
        else:  # an order placed before the stream and the snapshot: what the fill tells
            self._update([{field: item[field] for field in _ORDER_FIELDS if field in item}])

    def _replace_symbol(self, symbol: object, items: Iterable[dict[str, Any]]) -> None:
        """``activeOrders``: the symbol's orders are exactly ``items``."""
        _replace_matching(self, symbol, items)


def _fully_executed(size: object, executed: object) -> bool:
    total = decimal(size)
    done = decimal(executed)
    return total is not None and done is not None and done >= total > 0


def _replace_matching(store: DataStore[Any], symbol: object, items: Iterable[Any]) -> None:
    """Delete ``store``'s items of ``symbol`` (all items when ``None``), then insert ``items``."""
    items = list(items)
    if symbol is None:
        stale = list(store)
    else:
        stale = store.find({"symbol": symbol})
    fresh = {tuple(item.get(key) for key in store._keys) for item in items}
    gone = [item for item in stale if tuple(item.get(key) for key in store._keys) not in fresh]
    if gone:
        store._delete(gone)
    if items:
        store._insert(items)


class GMOCoinPositions(DataStore[PositionItem]):
    """Open positions, keyed by ``positionId``: ``positionEvents`` (``OPR`` inserts,
    ``CPR`` deletes, others update) and ``openPositions``."""

    _KEYS: ClassVar[tuple[str, ...]] = ("positionId",)

    def _on_position_event(self, item: dict[str, Any]) -> None:
        kind = item.get("msgType")
        if kind == "OPR":
            self._insert([item])
        elif kind == "CPR":
            self._delete([item])
        else:
            self._update([item])

    def _replace_symbol(self, symbol: object, items: Iterable[dict[str, Any]]) -> None:
        """``openPositions``: the symbol's positions are exactly ``items``."""
        _replace_matching(self, symbol, items)


class GMOCoinPositionSummary(DataStore[PositionSummaryItem]):
    """Position summary per ``symbol`` and ``side``: ``positionSummaryEvents``
    (updates) and ``positionSummary``."""

    _KEYS: ClassVar[tuple[str, ...]] = ("symbol", "side")

    def _replace_symbol(self, symbol: object, items: Iterable[dict[str, Any]]) -> None:
        """``positionSummary``: the symbol's (or every) summary is exactly ``items``."""
        _replace_matching(self, symbol, items)
