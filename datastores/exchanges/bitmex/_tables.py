"""BitMEX tables other than ``orderBookL2``: one store per table, same table semantics.

Every BitMEX subscription starts with a ``partial`` (the table's current rows for
the subscription's ``filter``), then ``insert``/``update``/``delete`` rows
(https://www.bitmex.com/app/wsAPI). A ``partial`` replaces the rows its filter
covers (all rows without a filter), so a re-partial after a reconnect leaves no
stale rows; ``update`` merges the changed fields into the stored row.

Keyed tables (instrument, order, position, margin, wallet, liquidation,
orderBook10) hold current state and have no row cap; logs (trade, quote,
execution, funding, insurance, the bins) keep the newest 99,999 rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._store import DataStore, Item, ItemT
from ._items import (
    ExecutionItem,
    InstrumentItem,
    MarginItem,
    OrderBook10Item,
    OrderItem,
    PositionItem,
    QuoteItem,
    TradeItem,
    WalletItem,
)

__all__ = [
    "Bins",
    "Execution",
    "Funding",
    "Instrument",
    "Insurance",
    "Liquidation",
    "Log",
    "Margin",
    "Order",
    "OrderBook10",
    "Position",
    "Quote",
    "Table",
    "Trade",
    "Wallet",
]

#: states in which an order leaves the ``order`` store
CLOSED_ORDER_STATES = frozenset({"Filled", "Canceled", "Rejected"})
#: a cap no live table reaches: current-state tables are never truncated
_NO_CAP = 2**62


class Table(DataStore[ItemT]):
    """A BitMEX table: ``partial`` replaces the filtered rows, then row changes.

    Keyed by the class's ``_KEYS`` (the ``keys`` BitMEX sends in the partial).
    ``_apply_action`` is O(rows) for insert/update/delete; a partial with a
    filter scans the store once (O(n)).
    """

    _MAXLEN = _NO_CAP

    def _apply_action(self, action: str, rows: list[Item], scope: Mapping[str, Any] | None) -> bool:
        """Apply one message's rows; ``False`` for an unknown action. ``scope`` is
        the partial's ``filter`` (``{"symbol": ...}``, ``{"account": ...}``)."""
        if action == "partial":
            if scope:
                self._find_and_delete(dict(scope))
            else:
                self._clear()
            self._insert(rows)
        elif action == "insert":
            self._insert(rows)
        elif action == "update":
            self._update(rows)
        elif action == "delete":
            self._delete(rows)
        else:
            return False
        return True


class Log(Table[ItemT]):
    """A BitMEX insert-only table, kept as a log of the newest 99,999 rows."""

    _MAXLEN = 99999


class Trade(Log[TradeItem]):
    """``trade``: every trade, newest last."""


class Quote(Log[QuoteItem]):
    """``quote``: best bid/ask changes, newest last."""


class Execution(Log[ExecutionItem]):
    """``execution``: the account's fills and order events, newest last."""


class Funding(Log[dict[str, Any]]):
    """``funding``: funding rates as published, newest last."""


class Insurance(Log[dict[str, Any]]):
    """``insurance``: insurance fund balances, newest last."""


class Bins(Log[dict[str, Any]]):
    """``tradeBin*`` / ``quoteBin*``: OHLCV or quote bins, newest last."""


class Instrument(Table[InstrumentItem]):
    """``instrument``: one row per symbol, updated in place."""

    _KEYS = ("symbol",)


class Liquidation(Table[dict[str, Any]]):
    """``liquidation``: liquidation orders in progress, by ``orderID``."""

    _KEYS = ("orderID",)


class OrderBook10(Table[OrderBook10Item]):
    """``orderBook10``: the best 10 levels per side of each symbol, one row per
    symbol, replaced whole by every message (each is a full image)."""

    _KEYS = ("symbol",)

    def _apply_action(self, action: str, rows: list[Item], scope: Mapping[str, Any] | None) -> bool:
        if action not in ("partial", "update", "insert"):
            return False
        # A full image every time: replace, never merge, so no level of an older
        # image survives.
        self._insert(rows)
        return True


class Order(Table[OrderItem]):
    """``order``: the account's live orders, by ``orderID``. A row whose
    ``ordStatus`` becomes ``Filled``, ``Canceled`` or ``Rejected`` leaves the
    store (O(rows of the message), not a scan of the store)."""

    _KEYS = ("orderID",)

    def _apply_action(self, action: str, rows: list[Item], scope: Mapping[str, Any] | None) -> bool:
        if not super()._apply_action(action, rows, scope):
            return False
        if action != "delete":
            closed = []
            for row in rows:
                stored = self.get(row)
                if stored is not None and stored.get("ordStatus") in CLOSED_ORDER_STATES:
                    closed.append(row)
            if closed:
                self._delete(closed)
        return True


class Position(Table[PositionItem]):
    """``position``: one row per account and symbol."""

    _KEYS = ("account", "symbol")


class Margin(Table[MarginItem]):
    """``margin``: one row per account and currency."""

    _KEYS = ("account", "currency")


class Wallet(Table[WalletItem]):
    """``wallet``: one row per account and currency."""

    _KEYS = ("account", "currency")
