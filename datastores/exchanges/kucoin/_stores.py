"""KuCoin stores other than order books: market data and the private account view.

Store names, keys and item shapes follow the reference library (pybotters §4.13), so
code that reads ``store.ticker.get({"symbol": "BTC-USDT"})`` ports by changing the
import. Stores never mutate an incoming message: items are new dicts.

Docs: https://www.kucoin.com/docs-new/ (classic WebSocket public and private channels).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..._store import DataStore, Item
from ._items import BalanceItem, ExecutionItem, KlineItem, OrderItem, PositionItem, SymbolItem

__all__ = [
    "Balance",
    "Execution",
    "Kline",
    "Log",
    "OrderEvents",
    "Orders",
    "Positions",
    "SymbolRecord",
    "TransactionStats",
]

logger = logging.getLogger("datastores.exchanges.kucoin")

#: order event types after which an order no longer works (``type`` field; spot V2
#: and futures ``tradeOrders``, stop orders ``advancedOrders``).
CLOSED_ORDER_TYPES = frozenset({"filled", "canceled", "cancel", "triggered"})
#: types that (re)state a working order
OPEN_ORDER_TYPES = frozenset({"new", "open", "received", "match", "update"})


class SymbolRecord(DataStore[SymbolItem]):
    """One record per ``symbol`` (``ticker``, ``symbolsnapshot``, ``indexprice``,
    ``markprice``): each message merges into it."""

    _KEYS = ("symbol",)


class TransactionStats(DataStore[SymbolItem]):
    """``/contractMarket/snapshot``: one record per ``symbol`` and ``subject``."""

    _KEYS = ("symbol", "subject")


class Log(DataStore[dict[str, Any]]):
    """A keyless log, newest last (``instrument``, ``announcements``, event logs)."""


class Execution(DataStore[ExecutionItem]):
    """Public trades keyed by ``tradeId``, newest last (at most ``_MAXLEN``)."""

    _KEYS = ("tradeId",)
    _MAXLEN = 99999


class Kline(DataStore[KlineItem]):
    """Closed candles keyed by ``symbol``, ``interval``, ``timestamp`` (seconds).

    A WebSocket candle is in progress until one with a later start arrives; it is
    then stored. :meth:`latest` returns the one in progress. REST candles
    (``/api/v1/market/candles``, newest first) are stored oldest first.
    """

    _KEYS = ("symbol", "interval", "timestamp")
    _MAXLEN = 99999

    def _init(self) -> None:
        self._latest: dict[tuple[str, str], KlineItem] = {}

    def latest(self, symbol: str, interval: str) -> KlineItem | None:
        """The in-progress candle of ``symbol`` and ``interval`` (``"1min"``...), if any."""
        return self._latest.get((symbol, interval))

    @staticmethod
    def _candle(symbol: str, interval: str, row: Any) -> KlineItem:
        # KuCoin's order: start, open, close, high, low, volume, turnover.
        start, open_, close, high, low, volume, turnover = row[:7]
        return {
            "symbol": symbol,
            "interval": interval,
            "timestamp": int(start),
            "open": open_,
            "close": close,
            "high": high,
            "low": low,
            "volume": volume,
            "turnover": turnover,
        }

    def _on_candle(self, symbol: str, interval: str, row: Any) -> None:
        """One ``/market/candles`` update (``candles`` list).

        Raises:
            TypeError / ValueError: not a candle.
        """
        candle = self._candle(symbol, interval, row)
        key = (symbol, interval)
        previous = self._latest.get(key)
        if previous is not None and previous["timestamp"] < candle["timestamp"]:
            self._insert([dict(previous)])
        self._latest[key] = candle

    def _onresponse(self, symbol: str, interval: str, rows: Any) -> None:
        if not isinstance(rows, list):
            raise ValueError(f"candles response is {type(rows).__name__}, not a list")
        self._insert([dict(self._candle(symbol, interval, row)) for row in reversed(rows)])


class OrderEvents(DataStore[OrderItem]):
    """The latest order event per ``orderId`` (every type)."""

    _KEYS = ("orderId",)


class Orders(DataStore[OrderItem]):
    """Working orders keyed by ``orderId``.

    ``new``/``open`` add or update an order; ``match`` merges the fill
    (``filledSize``, ``remainSize``...) so the remaining size is current; ``update``
    merges; ``filled``, ``canceled`` and a triggered stop order remove it, as does
    any event whose ``status`` is ``done``. Returns ``False`` for an event type it
    does not know (the collection counts it); never raises on one.
    """

    _KEYS = ("orderId",)

    def _on_event(self, data: Mapping[str, Any]) -> bool:
        kind = data.get("type")
        item: Item = dict(data)
        if kind in CLOSED_ORDER_TYPES or data.get("status") == "done":
            self._delete([item])
            return True
        if kind in OPEN_ORDER_TYPES:
            self._update([item])
            return True
        return False

    def _onresponse(self, rows: Any) -> None:
        """REST ``/api/v1/orders`` (``{"items": [...]}`` or a list): active orders,
        ``id`` renamed ``orderId``."""
        if isinstance(rows, Mapping):
            rows = rows.get("items")
        if not isinstance(rows, list):
            raise ValueError("orders response has no list of orders")
        items = []
        for row in rows:
            if isinstance(row, Mapping) and row.get("isActive", True):
                item = dict(row)
                item.setdefault("orderId", item.get("id"))
                items.append(item)
        self._insert(items)


class Balance(DataStore[BalanceItem]):
    """Spot balances keyed by ``accountId`` (``/account/balance``; REST
    ``/api/v1/accounts`` rows mapped to the same fields)."""

    _KEYS = ("accountId",)

    def _onresponse(self, rows: Any) -> None:
        if not isinstance(rows, list):
            raise ValueError("accounts response is not a list")
        self._update(
            [
                {
                    "accountId": row.get("id"),
                    "currency": row.get("currency"),
                    "type": row.get("type"),
                    "total": row.get("balance"),
                    "available": row.get("available"),
                    "hold": row.get("holds"),
                }
                for row in rows
                if isinstance(row, Mapping)
            ]
        )


class Positions(DataStore[PositionItem]):
    """Futures positions keyed by ``symbol`` (one-way mode).

    ``position.change`` merges the position and derives ``side`` from the sign of
    ``currentQty``; a position that is closed (``isOpen`` false or quantity 0) is
    removed; ``markPriceChange`` and ``position.settlement`` merge into a known
    position only. No ``assert``: anything unreadable is refused by returning
    ``False`` (the collection counts it).
    """

    _KEYS = ("symbol",)

    @staticmethod
    def _side(quantity: Any) -> str | None:
        try:
            value = float(quantity)
        except (TypeError, ValueError):
            return None
        return "BUY" if value > 0 else "SELL" if value < 0 else None

    def _on_position(self, subject: Any, data: Mapping[str, Any]) -> bool:
        symbol = data.get("symbol")
        if not isinstance(symbol, str):
            return False
        item: Item = dict(data)
        known = self.get({"symbol": symbol}) is not None
        if subject == "position.change" and data.get("changeReason") != "markPriceChange":
            quantity = data.get("currentQty")
            side = self._side(quantity)
            if data.get("isOpen") is False or (quantity is not None and side is None):
                self._delete([item])
                return True
            if side is not None:
                item["side"] = side
            self._update([item])
            return True
        if subject in ("position.change", "position.settlement"):
            if known:
                self._update([item])
            return True
        return False

    def _onresponse(self, rows: Any) -> None:
        """REST ``/api/v1/positions``: the open positions."""
        if isinstance(rows, Mapping):
            rows = [rows]
        if not isinstance(rows, list):
            raise ValueError("positions response is not a list")
        items = []
        for row in rows:
            if isinstance(row, Mapping) and row.get("isOpen", True):
                item = dict(row)
                side = self._side(item.get("currentQty"))
                if side is not None:
                    item["side"] = side
                items.append(item)
        self._insert(items)
