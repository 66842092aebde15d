"""Coincheck's stores other than the book: public trades, open orders, executions.

Docs: https://coincheck.com/documents/exchange/api#websocket-trades ,
https://coincheck.com/documents/exchange/api#websocket-order-events ,
https://coincheck.com/documents/exchange/api#websocket-execution-events ,
https://coincheck.com/documents/exchange/api#order-new ,
https://coincheck.com/documents/exchange/api#order-opens
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ..._store import DataStore
from ._items import ExecutionItem, OrderItem, TradeItem

__all__ = ["Execution", "Order", "Trades", "trade_item"]

logger = logging.getLogger("datastores.exchanges.coincheck")

#: names of a trade array's elements, in order
_TRADE_FIELDS = ("timestamp", "id", "pair", "rate", "amount", "side", "taker_id", "maker_id")

#: ``order_event`` values after which the order no longer works
_ENDED = frozenset({"FILL", "EXPIRY", "CANCEL"})


def trade_item(row: Any) -> dict[str, Any] | None:
    """One element of a ``[pair]-trades`` message as an item, ``None`` if unreadable.

    ``[timestamp, id, pair, rate, amount, taker_side, taker_id, maker_id, itayose_id]``;
    the ninth element is optional (older messages have eight).
    """
    if row.__class__ is not list or len(row) < 8 or row[2].__class__ is not str:
        return None
    item = dict(zip(_TRADE_FIELDS, row, strict=False))
    if len(row) > 8:
        item["itayose_id"] = row[8]
    return item


class Trades(DataStore[TradeItem]):
    """``[pair]-trades``: public trades, keyless, newest last (at most ``_MAXLEN``)."""

    _MAXLEN = 99999


def _minus(left: Any, right: Any) -> str | None:
    """``left - right`` as a decimal string; ``None`` when either is not a number."""
    try:
        return format(Decimal(str(left)) - Decimal(str(right)), "f")
    except (InvalidOperation, ValueError):
        return None


class Order(DataStore[OrderItem]):
    """Open orders, keyed by ``id`` and ``pair``.

    Coincheck pushes no event for a new order: insert it from the
    ``POST /api/exchange/orders`` answer with :meth:`feed_response`, or load every open
    order with ``initialize(client.get(".../api/exchange/orders/opens"))``.
    ``order-events``: ``TRIGGERED`` updates; ``PARTIALLY_FILL`` lowers
    ``pending_amount`` by ``latest_executed_amount`` (and ``pending_market_buy_amount``
    by ``latest_executed_market_buy_amount``) then updates; ``FILL``, ``EXPIRY`` and
    ``CANCEL`` delete. An event for an order the store does not hold (placed by another
    process) inserts it without the pending amounts, which it cannot know. No row cap.
    """

    _KEYS = ("id", "pair")
    _MAXLEN = 2**62

    def feed_response(self, data: Any) -> None:
        """Insert the order a ``POST /api/exchange/orders`` answer describes, with
        ``pending_amount`` = ``amount`` and ``pending_market_buy_amount`` =
        ``market_buy_amount``. An answer with ``success: false`` (or not an order) is
        logged and ignored."""
        if not isinstance(data, Mapping) or data.get("success") is False or "id" not in data:
            logger.warning("Coincheck order.feed_response(): not a new order: %.300s", data)
            return
        item = dict(data)  # ``success`` stays, as in pybotters' item
        item["pending_amount"] = data.get("amount")
        item["pending_market_buy_amount"] = data.get("market_buy_amount")
        self._insert([item])

    def _replace_orders(self, orders: Iterable[Any]) -> None:
        """Every open order (a ``GET /api/exchange/orders/opens`` answer's ``orders``)."""
        self._clear()
        self._insert([order for order in orders if isinstance(order, dict)])

    def _on_event(self, event: dict[str, Any]) -> bool:
        """Apply one ``order-events`` message; ``False`` for an unknown ``order_event``
        (stored all the same, as an update)."""
        kind = event.get("order_event")
        if kind in _ENDED:
            self._delete([event])
            return True
        item = dict(event)
        held = self.get(event)
        if held is not None and kind == "PARTIALLY_FILL":
            for pending, latest in (
                ("pending_amount", "latest_executed_amount"),
                ("pending_market_buy_amount", "latest_executed_market_buy_amount"),
            ):
                before, filled = held.get(pending), event.get(latest)
                if before is not None and filled is not None:
                    item[pending] = _minus(before, filled)
        if held is None:
            self._insert([item])
        else:
            self._update([item])
        return kind in ("TRIGGERED", "PARTIALLY_FILL")


class Execution(DataStore[ExecutionItem]):
    """``execution-events``: the account's fills, keyless, newest last."""

    _MAXLEN = 99999
