"""Sorted order-book stores with per-symbol integrity state.

:class:`OrderBookStore` keeps, per symbol and side, the exchange's level
sequences (``[price, size, ...]``, strings exactly as received: checksums need
them; the native side keeps a plain pair as a compact equal ``Level``) ordered
best first (see :mod:`datastores._bookside`). Item dicts in the exchange's field
names are built when read.

Complexity: set or delete a level O(log n); ``get`` O(1); ``sorted(query on the
symbol, limit=k)`` O(log n + k); a whole-book snapshot O(n log n).

Integrity: every symbol has a state (:class:`BookStatus`). A sequence gap, a
checksum mismatch or a malformed update marks the symbol unsynced, is counted
and logged once per episode, and calls the resync hook the exchange collection
installed (refetch a REST snapshot, or resubscribe). Nothing is silent. The
state machine lives in :mod:`datastores._bookstate`.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

from ._bookitems import check_book, pop_level, set_item, split_item
from ._bookside import Level, Side, apply_levels, check_level, checksum_text
from ._bookstate import BookIntegrity, BookStatus, FailureKind, _SymbolState, not_a_symbol
from ._booksync import wait_synced
from ._integrity import crc32_interleaved
from ._store import DataStore, Item, ItemT
from ._stream import StoreChange

if TYPE_CHECKING:
    from ._changefeed import FeedSink

__all__ = ["BookStatus", "FailureKind", "OrderBookStore"]


class OrderBookStore(BookIntegrity, DataStore[ItemT]):
    """An order-book store: sorted per symbol and side, with integrity state.

    Generic in its level item type like :class:`~datastores.DataStore`
    (``class OrderBook(OrderBookStore[OrderBookItem])``): ``sorted()``,
    ``find()``, ``get()`` and ``best()`` return that ``TypedDict``.

    Subclasses name the exchange's fields:

    * ``_SYMBOL``, ``_SIDE``, ``_PRICE``, ``_SIZE``: item field names;
    * ``_ASK``, ``_BID``: the side values (also the keys of ``sorted()``);
    * ``_LEVEL_FIELDS``: names for the elements of a ``[price, size, ...]`` level;
    * ``_RULE``: a :class:`~datastores._integrity.SequenceRule`, if the exchange has one;
    * ``_DEPTH``: a depth cap for books the exchange publishes only to N levels
      (``None``: never truncated);
    * ``_VERIFIABLE``: ``False`` when the protocol has neither a sequence nor a
      checksum (``status().verifiable``);
    * ``_VERIFICATION``: ``(kinds, how)``, declared by each exchange's book class
      itself: what verifies it (``"sequence"``, ``"checksum"``, ``"periodic
      snapshot"``, ``"whole frames"`` or ``"none"``) and how, in a few words, for
      the capability matrix (:mod:`datastores.apps.capabilities`);
    * ``_query_symbols()``: which books a query selects, when a book is named by
      more than the ``_SYMBOL`` field.
    """

    _SYMBOL: ClassVar[str] = "s"
    _SIDE: ClassVar[str] = "S"
    _PRICE: ClassVar[str] = "p"
    _SIZE: ClassVar[str] = "q"
    _ASK: ClassVar[str] = "a"
    _BID: ClassVar[str] = "b"
    _LEVEL_FIELDS: ClassVar[tuple[str, ...]] = ()
    _DEPTH: ClassVar[int | None] = None
    #: whether the protocol can prove the book complete (``status().verifiable``)
    _VERIFIABLE: ClassVar[bool] = True
    #: what verifies this book and how (see above); each book class declares its own
    _VERIFICATION: ClassVar[tuple[tuple[str, ...], str] | None] = None
    _MAXLEN = 2**62  # books are never truncated by _MAXLEN

    def _init(self) -> None:
        self._books: dict[str, tuple[Side, Side]] = {}
        self._states: dict[str, _SymbolState] = {}
        self._count = 0
        self._depths: dict[str, int] = {}
        self._level_fields: tuple[str, ...] = self._LEVEL_FIELDS or (self._PRICE, self._SIZE)
        #: (symbol, side, price, size) field names when an item is just those four (no
        #: _LEVEL_FIELDS, _make_item not overridden), else None; instance attributes
        #: because reading class attributes through self is slow on the read path
        self._item_fields: tuple[str, str, str, str] | None = (
            (self._SYMBOL, self._SIDE, self._PRICE, self._SIZE)
            if not self._LEVEL_FIELDS and type(self)._make_item is OrderBookStore._make_item
            else None
        )
        self._side_names = (self._ASK, self._BID)
        #: called with a symbol when its book needs a new snapshot / resubscription
        self.resync_hook: Callable[[str], object] | None = None
        self.clock: Callable[[], float] = time.time
        #: the collection's change-feed sink while it has observers (see _changefeed)
        self._sink: FeedSink | None = None

    def __init__(
        self,
        name: str | None = None,
        keys: Iterable[str] | None = None,
        data: Iterable[Item] | None = None,
    ) -> None:
        super().__init__(name, keys or (self._SYMBOL, self._SIDE, self._PRICE), None)
        if data is not None:
            self._insert(data)

    # ------------------------------------------------------------------ reading

    def _make_item(self, symbol: str, side: str, level: Level) -> Item:
        """The item dict for one stored level, in the exchange's field names.

        Override to add per-symbol fields (e.g. an instrument type).
        """
        if len(level) == 2 and not self._LEVEL_FIELDS:
            return {
                self._SYMBOL: symbol,
                self._SIDE: side,
                self._PRICE: level[0],
                self._SIZE: level[1],
            }
        item: Item = {self._SYMBOL: symbol, self._SIDE: side}
        for name, value in zip(self._level_fields, level, strict=False):
            item[name] = value
        return item

    def _items(self, symbol: str, side: str, levels: Iterable[Level]) -> list[Any]:
        fields = self._item_fields
        if fields is not None:  # _make_item without a call per level (the top-N read path)
            s, sd, p, q = fields
            return [{s: symbol, sd: side, p: level[0], q: level[1]} for level in levels]
        make = self._make_item
        return [make(symbol, side, level) for level in levels]

    def __len__(self) -> int:
        return self._count

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} items={self._count} keys={self._keys}>"

    def __iter__(self) -> Iterator[ItemT]:
        return self._iter_items()

    def _iter_items(self) -> Iterator[Any]:
        items: list[Any] = []
        for symbol, (asks, bids) in list(self._books.items()):
            items.extend(self._items(symbol, self._ASK, asks.best_levels(None)))
            items.extend(self._items(symbol, self._BID, bids.best_levels(None)))
        return iter(items)

    def __reversed__(self) -> Iterator[ItemT]:
        return iter(list(self.__iter__())[::-1])

    @property
    def symbols(self) -> list[str]:
        """Symbols with a book or integrity state."""
        return list(dict.fromkeys([*self._books, *self._states]))

    def _key(self, side: Any, price: Any) -> float:
        value = float(price)
        if value != value:
            raise ValueError(f"price {price!r} is not a number")
        return value if side == self._ASK else -value

    def _query_symbols(self, query: Mapping[str, Any]) -> Sequence[str] | None:
        """The symbols whose books ``query`` can match (only books that exist), or
        ``None`` when the query names no book and every book must be looked at.

        :meth:`find` selects books with it. The default reads the ``_SYMBOL``
        field; a store that keys its books by several item fields (Bitget v2:
        instType and instId) overrides it.
        """
        if self._SYMBOL not in query:
            return None
        symbol = query[self._SYMBOL]
        return (symbol,) if symbol in self._books else ()

    def get(self, item: Mapping[str, Any]) -> ItemT | None:
        """The level with ``item``'s symbol, side and price, or ``None``. O(1)."""
        try:
            symbol = item[self._SYMBOL]
            book = self._books.get(symbol)
            if book is None:
                return None
            side = item[self._SIDE]
            target = book[0] if side == self._ASK else book[1] if side == self._BID else None
            if target is None:
                return None
            level = target.levels.get(self._key(side, item[self._PRICE]))
        except (KeyError, TypeError, ValueError, OverflowError):  # 10**400 is no price
            return None
        if level is None:
            return None
        return cast("ItemT", self._make_item(symbol, side, level))

    def find(self, query: Mapping[str, Any] | None = None) -> list[ItemT]:
        """Levels matching ``query``, best first per side. A query on the symbol
        touches only that symbol's book."""
        return self._find_items(query)

    def _find_items(self, query: Mapping[str, Any] | None) -> list[Any]:
        if not query:
            return list(self.__iter__())
        symbols = self._query_symbols(query)
        if symbols is None:
            symbols = list(self._books)
        side_filter = query.get(self._SIDE)
        missing = object()
        result = []
        for symbol in symbols:
            asks, bids = self._books[symbol]
            for side_name, side in ((self._ASK, asks), (self._BID, bids)):
                if side_filter is not None and side_filter != side_name:
                    continue
                for item in self._items(symbol, side_name, side.best_levels(None)):
                    for k, v in query.items():
                        if item.get(k, missing) != v:
                            break
                    else:
                        result.append(item)
        return result

    def sorted(
        self, query: Mapping[str, Any] | None = None, limit: int | None = None
    ) -> dict[str, list[ItemT]]:
        """``{ask_side: [best first...], bid_side: [best first...]}``.

        With a query on the symbol only, O(log n + limit). Other query fields
        filter levels before ``limit`` applies. Without a symbol, levels of every
        symbol are merged by price (as the reference library does).
        """
        symbol_field = self._SYMBOL
        if query and len(query) == 1 and symbol_field in query:
            symbol = query[symbol_field]
            ask, bid = self._side_names
            book = self._books.get(symbol)
            if book is None:
                return {ask: [], bid: []}
            fields = self._item_fields
            if fields is not None:  # plain items: built by the side (in C when native)
                return {
                    ask: book[0].best_items(limit, fields, symbol, ask),
                    bid: book[1].best_items(limit, fields, symbol, bid),
                }
            return {
                ask: self._items(symbol, ask, book[0].best_levels(limit)),
                bid: self._items(symbol, bid, book[1].best_levels(limit)),
            }
        return self._sorted_by_price(self.find(query), limit)

    def _sorted_by_price(self, items: list[Any], limit: int | None) -> dict[str, list[Any]]:
        """``items`` split by side and sorted best first by price (levels of several
        books interleave), each side cut to ``limit``. O(m log m) for m items."""
        price = self._PRICE
        asks = sorted(
            (i for i in items if i[self._SIDE] == self._ASK), key=lambda i: float(i[price])
        )
        bids = sorted(
            (i for i in items if i[self._SIDE] == self._BID),
            key=lambda i: float(i[price]),
            reverse=True,
        )
        if limit is not None:
            asks, bids = asks[:limit], bids[:limit]
        return {self._ASK: asks, self._BID: bids}

    def levels(self, symbol: str, limit: int | None = None) -> tuple[list[Level], list[Level]]:
        """``(asks, bids)`` as the stored ``[price, size, ...]`` sequences, best first,
        without building dicts. O(log n + limit). Do not mutate them.

        Each is a sequence equal to the exchange's level, its strings exactly as
        received: the exchange's own list or tuple, except that the native book
        side keeps a plain ``[price, size]`` pair of ASCII strings as a compact
        ``Level`` (an immutable sequence of the two strings that compares equal to
        the list; ``list(level)`` gives the list, e.g. for a JSON encoder)."""
        book = self._books.get(symbol)
        if book is None:
            return [], []
        return book[0].best_levels(limit), book[1].best_levels(limit)

    def best(self, symbol: str) -> tuple[ItemT | None, ItemT | None]:
        """``(best ask, best bid)`` items of ``symbol`` (``None`` for an empty side). O(1)."""
        book = self._books.get(symbol)
        if book is None:
            return None, None
        asks, bids = book
        ask_key, bid_key = asks.first_key(), bids.first_key()
        ask = None if ask_key is None else self._make_item(symbol, self._ASK, asks.levels[ask_key])
        bid = None if bid_key is None else self._make_item(symbol, self._BID, bids.levels[bid_key])
        return cast("ItemT | None", ask), cast("ItemT | None", bid)

    def is_synced(self, symbol: str) -> bool:
        """Whether ``symbol``'s book is currently trustworthy (``status(symbol).synced``). O(1)."""
        state = self._states.get(symbol)
        return state is not None and state.phase != "unsynced"

    async def wait_synced(
        self, symbol: str, timeout: float | None = None, *, min_update_id: int | None = None
    ) -> BookStatus:
        """Return ``status(symbol)`` once ``symbol``'s book is synced (at once if it is).

        ``min_update_id``: also wait until the book has applied that update id
        (``status().last_update_id >= min_update_id``), e.g. the id a fake
        exchange's book is at (``fake.book(symbol).last_update_id``): the store has
        then caught up with everything published before.

        Raises:
            TimeoutError: not there within ``timeout`` seconds (``None``: no limit);
                the message names the symbol and its status at that moment.
        """
        return await wait_synced(self, symbol, timeout, min_update_id)

    def status(self, symbol: str) -> BookStatus:
        """Integrity of ``symbol``'s book, frozen at the time of the call."""
        state = self._states.get(symbol) or _SymbolState()
        book = self._books.get(symbol)
        return BookStatus(
            symbol=symbol,
            synced=state.phase != "unsynced",
            last_update_id=state.last_id,
            updates=state.updates,
            gaps=state.gaps,
            checksum_failures=state.checksum_failures,
            errors=state.errors,
            resyncs=state.resyncs,
            stale=state.stale,
            buffered=state.buffered(),
            last_error=state.last_error,
            asks=len(book[0]) if book else 0,
            bids=len(book[1]) if book else 0,
            updated_at=state.updated_at,
            verifiable=self._VERIFIABLE,
        )

    def checksum(self, symbol: str, depth: int = 25) -> int:
        """The OKX/Bitget-style CRC32 of ``symbol``'s top ``depth`` levels. O(depth)."""
        asks, bids = self.levels(symbol, depth)
        if checksum_text is not None:
            # the text from the levels' bytes: no str per value from a native Level
            text = checksum_text(bids, asks, depth)
            if text is not None:
                value = zlib.crc32(text)
                return value - (1 << 32) if value >= (1 << 31) else value
        return crc32_interleaved(bids, asks, depth)

    def set_depth(self, symbol: str, depth: int | None) -> None:
        """Cap ``symbol``'s book to ``depth`` levels per side (``None``: no cap)."""
        if depth is None:
            self._depths.pop(symbol, None)
        else:
            if depth < 1:
                raise ValueError("depth must be at least 1")
            depths = self._depths
            if (
                len(depths) >= self.max_symbols
                and symbol not in depths
                and symbol not in self._states
            ):
                self._count_refused(symbol)  # junk subscriptions: bounded like books
                return
            self._depths[symbol] = depth
            if self._sink is not None and symbol in self._books:
                self._sink.book(self, symbol, (), (), False)  # the new cap trims
            self._trim(symbol)

    # ------------------------------------------------------ level mutation (hot path)

    def _book(self, symbol: str) -> tuple[Side, Side]:
        book = self._books.get(symbol)
        if book is None:
            if symbol.__class__ is not str and not_a_symbol(symbol):
                raise TypeError(f"symbol {symbol!r} is not a str")
            book = self._books[symbol] = (Side(), Side())
        return book

    def _apply_watched(self, symbol: str, side_name: str, levels: Iterable[Level]) -> None:
        """Apply levels one by one, emitting a change for each (someone watches)."""
        if not levels and levels.__class__ is not list and levels != ():
            raise TypeError(f"{side_name} levels are {type(levels).__name__}, not levels")
        book = self._book(symbol)
        target = book[0] if side_name == self._ASK else book[1]
        sign = 1.0 if side_name == self._ASK else -1.0
        for level in levels:
            price, size = check_level(level)
            key = price * sign
            if size == 0.0:
                removed = target.discard(key)
                if removed is not None:
                    self._count -= 1
                    self._emit("delete", None, self._make_item(symbol, side_name, removed))
            else:
                existed = not target.set(key, level)
                if not existed:
                    self._count += 1
                self._emit(
                    "update" if existed else "insert",
                    None,
                    self._make_item(symbol, side_name, level),
                )

    def _apply(
        self,
        symbol: str,
        asks: Iterable[Level],
        bids: Iterable[Level],
        snapshot: bool = False,
    ) -> bool:
        """Apply one update's ``[price, size, ...]`` levels (absolute sizes; 0 deletes)
        to ``symbol``; trim to the depth cap; wake waiters.

        The level sequences are stored as given (not copied). A malformed level,
        or a side that is not a list or tuple (``None`` is not "no changes"), marks
        the symbol unsynced (counted, logged, resync requested) and returns
        ``False``; the exception never escapes. What a level must be:
        :func:`~datastores._bookside.check_level`. The levels before the bad one
        may have been applied: the book is unsynced then, and only a snapshot
        (:meth:`_replace`, which clears the book first) makes it synced again, so
        no part of a refused message is ever read as synced.

        A ``symbol`` that is not a ``str``, or a new one beyond ``max_symbols``, is
        refused before anything is created for it (counted in ``dropped``),
        returning ``False``. With change
        observers, the level lists are reported first (``snapshot``: they replace
        the whole book).
        """
        book = self._books.get(symbol)
        if book is None and self._refuse_new(symbol):  # a new symbol: not a str, or too many
            return False
        try:
            feed = self._sink
            if feed is not None:
                asks, bids = feed.book(self, symbol, asks, bids, snapshot)
            if self._streams:
                self._apply_watched(symbol, self._ASK, asks)
                self._apply_watched(symbol, self._BID, bids)
            else:
                if book is None:
                    book = self._books[symbol] = (Side(), Side())
                if asks:
                    self._count += apply_levels(book[0], asks, 1.0)
                elif asks.__class__ is not list and asks != ():
                    raise TypeError(f"asks are {type(asks).__name__}, not levels")
                if bids:
                    self._count += apply_levels(book[1], bids, -1.0)
                elif bids.__class__ is not list and bids != ():
                    raise TypeError(f"bids are {type(bids).__name__}, not levels")
        except (ValueError, TypeError, IndexError, KeyError, OverflowError) as exc:
            return self._apply_failed(symbol, exc)
        if self._depths or self._DEPTH is not None:
            self._trim(symbol)
        state = self._states.get(symbol)
        if state is None:
            state = self._state(symbol)
        state.updates += 1
        state.updated_at = self.clock()
        if self._waiters:
            self._notify()
        return True

    def _apply_failed(self, symbol: str, exc: Exception) -> bool:
        """A level of ``symbol``'s update was malformed (``exc``): count, mark unsynced,
        resync. Also the failure path of exchanges' inlined in-sequence applies."""
        self._recount()
        if self._depths or self._DEPTH is not None:
            self._trim(symbol)  # the levels applied before the bad one may overflow the cap
        self._fail(symbol, "error", f"malformed level ({type(exc).__name__}: {exc})")
        self._notify()
        return False

    def _recount(self) -> None:
        """Recompute the level count after an update failed part-way (rare)."""
        self._count = sum(len(a) + len(b) for a, b in self._books.values())

    def _trim(self, symbol: str) -> None:
        depth = self._depths.get(symbol, self._DEPTH)
        book = self._books.get(symbol)
        if depth is None or book is None:
            return
        for side_name, side in ((self._ASK, book[0]), (self._BID, book[1])):
            while len(side.levels) > depth:
                removed = side.pop_worst()
                self._count -= 1
                if self._streams:
                    self._emit("delete", None, self._make_item(symbol, side_name, removed))

    def _clear_symbol(self, symbol: str, *, report: bool = True) -> None:
        """Remove every level of ``symbol`` (delete changes for watchers; an empty
        snapshot for change observers unless ``report`` is false)."""
        book = self._books.pop(symbol, None)
        if book is None:
            return
        if report and self._sink is not None:
            self._sink.book(self, symbol, (), (), True)
        for side_name, side in ((self._ASK, book[0]), (self._BID, book[1])):
            self._count -= len(side.levels)
            if self._streams:
                for item in self._items(symbol, side_name, side.best_levels(None)):
                    self._emit("delete", None, item)
        self._notify()

    def _replace(
        self,
        symbol: str,
        asks: Iterable[Level],
        bids: Iterable[Level],
        update_id: int | None = None,
    ) -> bool:
        """Replace ``symbol``'s whole book with a snapshot and mark it synced.

        ``update_id`` becomes ``last_update_id``. Returns ``False`` (and records
        a failure) if the snapshot is malformed.
        """
        self._clear_symbol(symbol, report=False)  # the snapshot reports both
        if not self._apply(symbol, asks, bids, snapshot=True):
            return False
        state = self._state(symbol)
        state.last_id = update_id
        state.phase = "synced"
        state.resync_requested = False
        if update_id is not None and self._STALE_WINDOW:
            self._remember_id(state, update_id)
        if self._sink is not None:
            self._sink.event(self, symbol, "synced", None, None)
        return True

    # ------------------------------------------- generic DataStore mutation API

    def _split(self, item: Mapping[str, Any]) -> tuple[str, str, float]:
        return split_item(self, item)

    def _to_level(self, item: Mapping[str, Any]) -> Level:
        return tuple(item.get(name) for name in self._level_fields)

    def _set_item(self, item: Item, merge: bool) -> None:
        set_item(self, item, merge)

    def _insert(self, data: Iterable[Item]) -> None:
        for item in data:
            self._set_item(item, merge=False)
        self._notify()

    def _update(self, data: Iterable[Item]) -> None:
        for item in data:
            self._set_item(item, merge=True)
        self._notify()

    def _delete(self, data: Iterable[Item]) -> None:
        for item in data:
            self._pop_level(item, source=item)
        self._notify()

    def _pop_level(self, item: Mapping[str, Any], source: Item | None) -> Item | None:
        return pop_level(self, item, source)

    def _emit_level(self, operation: Any, source: Item | None, item: Item) -> None:
        """A level changed through the generic DataStore API: watchers and change
        observers both get the item (rare; the level-list path is ``_apply``)."""
        if self._streams:
            self._emit(operation, source, item)
        if self._sink is not None:
            self._sink._push(StoreChange(self, operation, source, item))

    def _pop(self, item: Mapping[str, Any]) -> Item | None:
        removed = self._pop_level(item, source=None)
        if removed is not None:
            self._notify()
        return removed

    def _remove(self, pks: Iterable[Any]) -> list[Item]:
        raise NotImplementedError("order-book stores remove levels by item, not by key")

    def _clear(self) -> None:
        for symbol in list(self._books):
            self._clear_symbol(symbol)
        self._notify()

    def _find_and_delete(self, query: Mapping[str, Any] | None = None) -> list[Item]:
        if not query:
            every: list[Item] = list(self._iter_items())
            self._clear()
            return every
        items: list[Item] = self._find_items(query)
        if set(query) == {self._SYMBOL}:
            self._clear_symbol(query[self._SYMBOL])
            return items
        for item in items:
            self._pop_level(item, source=None)
        self._notify()
        return items

    # ------------------------------------------------------------- invariants

    def _check(self) -> None:
        """Assert the invariants; tests call this after mutations.

        Each side's ordered keys are unique, sorted best first and equal to its
        level dict's keys; every key matches its level's price and side; every
        level passes ``check_level`` with a size above zero (so no NaN, infinity,
        bool or out-of-range value is stored); every symbol is a ``str``; the depth
        cap holds; ``len()`` equals the number of levels.
        """
        check_book(self)
