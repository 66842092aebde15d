"""BitMEX ``orderBookL2`` / ``orderBookL2_25``: a table of rows, kept as a sorted book.

BitMEX publishes the book as a table (https://www.bitmex.com/app/wsAPI, "Subscriptions"
and the official connectors' delta parser, github.com/BitMEX/api-connectors):

* ``partial``: the whole table for the subscription's filter (one symbol, or all
  symbols for an unfiltered ``orderBookL2``). It REPLACES that symbol's book:
  rows not in it are gone (a re-partial after a reconnect or a resubscription
  must not leave stale rows behind).
* ``insert``: new rows, complete (``symbol``, ``id``, ``side``, ``size``, ``price``).
* ``update``: rows matched by ``(symbol, id, side)``, carrying only the changed
  fields: usually ``size`` and no ``price`` (observed on the 2021 wire); the
  row keeps its price.
* ``delete``: rows matched by ``(symbol, id, side)``.

There is no sequence number and no checksum. What can be checked is the table
itself: an ``update`` or ``delete`` of a row the table does not have, or an
``insert`` of a row it already has (or at a price another row holds), means a
message was lost; the symbol's book goes unsynced (counted as a gap) and the
collection resubscribes for a new ``partial``. A lost ``update`` of a row that
stays is undetectable: ``status().verifiable`` is ``False`` for these books.

Items are the rows (``{"symbol", "id", "side", "size", "price"}`` plus
``timestamp``/``transactTime`` when sent); ``sorted()`` returns
``{"Sell": [...], "Buy": [...]}`` best first. Levels are stored as
``(price, size, id, timestamp, transactTime)``; ``(symbol, id, side)`` finds a
row's price in O(1). No row cap: nothing is ever evicted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from ..._bookside import Level, Side
from ..._orderbook import OrderBookStore
from ..._store import Item
from ._items import OrderBookL2Item

__all__ = ["BadRow", "OrderBook"]

ASK = "Sell"
BID = "Buy"

RowKey = tuple[Any, str]


class BadRow(ValueError):
    """A row that cannot be applied (missing or ill-typed fields)."""


class _Corrupt(Exception):
    """The table does not match a message: a message was lost."""


def _number(value: Any, field: str) -> Any:
    """``value`` if it is a finite JSON number (not a bool), else :class:`BadRow`."""
    kind = value.__class__
    if kind is int or (kind is float and math.isfinite(value)):
        return value
    raise BadRow(f"{field} {value!r} is not a number")


def _row_key(row: Any) -> RowKey:
    if row.__class__ is not dict:
        raise BadRow(f"row is a {type(row).__name__}, not an object")
    ident = row.get("id")
    side = row.get("side")
    if ident is None or ident.__class__ is bool or not isinstance(ident, (int, str)):
        raise BadRow(f"id {ident!r} is not an id")
    if side != ASK and side != BID:
        raise BadRow(f"side {side!r} is neither {ASK!r} nor {BID!r}")
    return ident, side


def _full_level(row: dict[str, Any], ident: Any) -> Level:
    """The stored level of a complete row (``partial``/``insert``)."""
    if "price" not in row or "size" not in row:
        raise BadRow("a complete row needs price and size")
    price = _number(row["price"], "price")
    size = _number(row["size"], "size")
    if size <= 0:
        raise BadRow(f"size {size!r} is not positive")
    return (price, size, ident, row.get("timestamp"), row.get("transactTime"))


class OrderBook(OrderBookStore[OrderBookL2Item]):
    """BitMEX ``orderBookL2`` books (store ``orderBookL2``; ``orderBookL2_25`` feeds it too).

    ``sorted({"symbol": s}, limit=k)`` is O(log n + k); a row insert, update or
    delete is O(log n); a partial of n rows O(n log n). ``get({"symbol", "id",
    "side"})`` finds a row without its price. ``status(symbol).last_update_id``
    counts the messages applied since the symbol's last partial (BitMEX has no
    update ids); :meth:`dropped_unsynced` the messages ignored while waiting
    for one.
    """

    _VERIFICATION = (("none",), "table consistency (`partial`, unknown rows)")

    _SYMBOL = "symbol"
    _SIDE = "side"
    _PRICE = "price"
    _SIZE = "size"
    _ASK = ASK
    _BID = BID
    _LEVEL_FIELDS = ("price", "size", "id", "timestamp", "transactTime")
    _VERIFIABLE: ClassVar[bool] = False

    def __init__(
        self,
        name: str | None = None,
        keys: Iterable[str] | None = None,
        data: Iterable[Item] | None = None,
    ) -> None:
        super().__init__(name, keys or ("symbol", "id", "side"), data)

    def _init(self) -> None:
        super()._init()
        #: symbol -> (id, side) -> the row's price as received
        self._rows: dict[str, dict[RowKey, Any]] = {}
        self._unsynced_drops: dict[str, int] = {}

    # ------------------------------------------------------------------ reading

    def _make_item(self, symbol: str, side: str, level: Level) -> Item:
        item: Item = {
            "symbol": symbol,
            "id": level[2] if len(level) > 2 else None,
            "side": side,
            "size": level[1],
            "price": level[0],
        }
        if len(level) > 3 and level[3] is not None:
            item["timestamp"] = level[3]
        if len(level) > 4 and level[4] is not None:
            item["transactTime"] = level[4]
        return item

    def get(self, item: Mapping[str, Any]) -> OrderBookL2Item | None:
        """The row with ``item``'s ``symbol``, ``id`` and ``side`` (or its ``symbol``,
        ``side`` and ``price``), or ``None``. O(1)."""
        try:
            if "id" in item:
                price = self._rows.get(item["symbol"], {}).get((item["id"], item["side"]))
                if price is None:
                    return None
                item = {"symbol": item["symbol"], "side": item["side"], "price": price}
        except (KeyError, TypeError):
            return None
        return super().get(item)

    def dropped_unsynced(self, symbol: str) -> int:
        """Messages of ``symbol`` ignored because its book waited for a partial."""
        return self._unsynced_drops.get(symbol, 0)

    # ------------------------------------------------------------- the row index

    def _apply(
        self,
        symbol: str,
        asks: Iterable[Level],
        bids: Iterable[Level],
        snapshot: bool = False,
    ) -> bool:
        # Every change of levels passes here (the parser's and a change-feed mirror's),
        # so the (id, side) -> price index follows the levels.
        applied = super()._apply(symbol, asks, bids, snapshot)
        if not applied or self._depths or self._DEPTH is not None:
            self._reindex(symbol)
            return applied
        rows = self._rows.get(symbol)
        if rows is None:
            rows = self._rows[symbol] = {}
        for side, levels in ((ASK, asks), (BID, bids)):
            for level in levels:
                if len(level) < 3:
                    continue
                if float(level[1]) == 0.0:
                    rows.pop((level[2], side), None)
                else:
                    rows[level[2], side] = level[0]
        return applied

    def _reindex(self, symbol: str) -> None:
        book = self._books.get(symbol)
        if book is None:
            self._rows.pop(symbol, None)
            return
        rows: dict[RowKey, Any] = {}
        for side_name, side in ((ASK, book[0]), (BID, book[1])):
            for level in side.levels.values():
                if len(level) > 2:
                    rows[level[2], side_name] = level[0]
        self._rows[symbol] = rows

    def _clear_symbol(self, symbol: str, *, report: bool = True) -> None:
        super()._clear_symbol(symbol, report=report)
        self._rows.pop(symbol, None)

    def _set_item(self, item: Item, merge: bool) -> None:
        # The generic DataStore API (rare): keep the index right afterwards.
        super()._set_item(item, merge)
        symbol = item.get("symbol")
        if isinstance(symbol, str):
            self._reindex(symbol)

    def _pop_level(self, item: Mapping[str, Any], source: Item | None) -> Item | None:
        if "price" not in item and "id" in item:
            found = self.get(item)
            if found is None:
                return None
            item = found
        removed = super()._pop_level(item, source)
        if removed is not None:
            self._reindex(removed["symbol"])
        return removed

    # ----------------------------------------------------------------- parsing

    def _on_partial(self, symbol: str, rows: list[Any]) -> bool:
        """Replace ``symbol``'s book with a partial's rows. Returns ``False`` (the book
        unsynced, counted as an error) when a row is malformed or repeated."""
        asks: list[Level] = []
        bids: list[Level] = []
        seen: set[RowKey] = set()
        prices: set[tuple[str, float]] = set()
        try:
            for row in rows:
                key = _row_key(row)
                level = _full_level(row, key[0])
                price = (key[1], float(level[0]))
                if key in seen or price in prices:
                    raise BadRow(f"row {key} repeated")
                seen.add(key)
                prices.add(price)
                (asks if key[1] == ASK else bids).append(level)
        except BadRow as exc:
            self._fail(symbol, "error", f"partial: {exc}")
            return False
        return self._replace(symbol, asks, bids, 0)

    def _on_rows(self, symbol: str, action: str, rows: list[Any]) -> bool:
        """Apply one ``insert``/``update``/``delete`` message's rows of ``symbol``.

        Returns ``False`` when the message was malformed (the book then goes
        unsynced, counted as an error); a message that does not match the table
        (unknown row, row already present) makes the book unsynced as a gap.
        Ignored (and counted) while the book waits for a partial. A new symbol
        beyond ``max_symbols`` is refused (counted in ``symbols_refused``).
        """
        state = self._states.get(symbol)
        if state is None:
            if self._refuse_new(symbol):  # a new symbol beyond max_symbols: counted
                return True
            state = self._state(symbol)
        if state.phase == "unsynced":
            self._unsynced_drops[symbol] = self._unsynced_drops.get(symbol, 0) + 1
            self._request_resync(symbol)
            return True
        book = self._books.get(symbol) or (Side(), Side())
        index = self._rows.get(symbol, {})
        changed: dict[RowKey, Level | None] = {}
        asks: list[Level] = []
        bids: list[Level] = []
        try:
            for row in rows:
                key = _row_key(row)
                ident, side_name = key
                side = book[0] if side_name == ASK else book[1]
                if key in changed:
                    current = changed[key]
                else:
                    price = index.get(key)
                    current = (
                        None if price is None else side.levels.get(self._key(side_name, price))
                    )
                out = asks if side_name == ASK else bids
                if action == "insert":
                    if current is not None:
                        raise _Corrupt(f"insert of row {key} already in the table")
                    level = _full_level(row, ident)
                    holder = side.levels.get(self._key(side_name, level[0]))
                    if holder is not None and len(holder) > 2:
                        holder_key = (holder[2], side_name)
                        if changed.get(holder_key, holder) is not None and holder_key != key:
                            raise _Corrupt(f"insert of row {key} at the price of row {holder_key}")
                    out.append(level)
                    changed[key] = level
                elif action == "update":
                    if current is None:
                        raise _Corrupt(f"update of row {key} not in the table")
                    price = _number(row["price"], "price") if "price" in row else current[0]
                    size = _number(row["size"], "size") if "size" in row else current[1]
                    if size < 0:
                        raise BadRow(f"size {size!r} is negative")
                    level = (
                        price,
                        size,
                        ident,
                        row.get("timestamp", current[3] if len(current) > 3 else None),
                        row.get("transactTime", current[4] if len(current) > 4 else None),
                    )
                    if float(price) != float(current[0]):
                        out.append((current[0], 0, ident))  # the row moved: leave the old price
                    out.append(level)
                    changed[key] = level if size else None
                else:  # delete
                    if current is None:
                        raise _Corrupt(f"delete of row {key} not in the table")
                    out.append((current[0], 0, ident))
                    changed[key] = None
        except BadRow as exc:
            self._fail(symbol, "error", f"{action}: {exc}")
            return False
        except _Corrupt as exc:
            self._fail(symbol, "gap", f"{exc}: the table is corrupt (a message was lost)")
            return True
        except (TypeError, ValueError) as exc:
            self._fail(symbol, "error", f"{action}: {type(exc).__name__}: {exc}")
            return False
        if self._apply(symbol, asks, bids):
            state.last_id = (state.last_id or 0) + 1
        return True

    # ------------------------------------------------------------- invariants

    def _check(self) -> None:
        """The book's invariants (see :class:`OrderBookStore`), and the row index:
        exactly one entry per stored row, pointing at its price."""
        super()._check()
        for symbol, (asks, bids) in self._books.items():
            expected: dict[RowKey, Any] = {}
            for side_name, side in ((ASK, asks), (BID, bids)):
                for level in side.levels.values():
                    if len(level) > 2:
                        expected[level[2], side_name] = level[0]
            assert self._rows.get(symbol, {}) == expected, f"{symbol}: row index mismatch"
        for symbol in self._rows:
            assert symbol in self._books or not self._rows[symbol], f"{symbol}: stale row index"
