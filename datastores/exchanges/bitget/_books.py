"""Bitget order books (v2 classic and legacy v1), verified by checksum and ``seq``.

Both API versions push a ``books`` channel (one full ``snapshot``, then
``update`` deltas with absolute sizes, size ``"0"`` deleting a level) and
``books1``/``books5``/``books15`` channels (a full top-N snapshot on every
push). Each data entry carries ``checksum``: the signed CRC32 of the best 25
levels interleaved ``bid1px:bid1sz:ask1px:ask1sz:...`` built from the price
and size strings exactly as received (``"0.5000"``, never ``"0.5"``); when one
side is shorter the other side's remaining levels follow.
https://www.bitget.com/api-doc/spot/websocket/public/Depth-Channel
https://www.bitget.com/api-doc/contract/websocket/public/Order-Book-Channel
https://bitgetlimited.github.io/apidoc/en/mix/#checksum

v2 entries also carry ``seq``. The v2 classic docs promise only that "the seq of
update incremental messages is incrementing except during symbol maintenance":
no ``pseq``, no +1 step (pushes are aggregated, so ids are skipped). The
strongest rule that text justifies is therefore *strictly increasing*: an
update whose ``seq`` is not above the last applied one breaks the sequence (a
reset or a replay), and missing updates are caught by the checksum. v1 has no
``seq`` at all; its checksum is the only guard.

Complexity: one level change O(log n); a checksum O(25) per update; a snapshot
O(n log n).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, cast

from ..._orderbook import BookStatus, OrderBookStore
from ..._store import Item, ItemT
from ._items import V1OrderBookItem, V2BookItem

__all__ = ["BitgetBook", "BitgetV2Book", "checksum_value", "seq_value"]


def checksum_value(value: object) -> int | None:
    """The exchange's checksum as an int, ``None`` when absent (``0`` counts as absent).

    Raises:
        ValueError: the field is present but is not an integer.
    """
    if value is None or value == 0 or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"checksum {value!r} is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value)
    raise ValueError(f"checksum {value!r} is not an integer")


def seq_value(value: object) -> int | None:
    """``seq`` as an int, ``None`` when absent.

    Raises:
        ValueError: the field is present but is not an integer.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"seq {value!r} is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value)
    raise ValueError(f"seq {value!r} is not an integer")


class _CheckedBook(OrderBookStore[ItemT]):
    """Shared snapshot/update logic for both Bitget book shapes."""

    _ASK = "asks"
    _BID = "bids"
    _SIDE = "side"

    def _init(self) -> None:
        super()._init()
        #: ``ts`` of the last book entry handled (the exchange's value, ms), or ``None``.
        self.timestamp: Any = None

    def _unsynced(self, key: str) -> bool:
        """Whether ``key``'s book is known and waits for a snapshot. O(1)."""
        state = self._states.get(key)
        return state is not None and state.phase == "unsynced"

    def _count_retry(self, key: str) -> None:
        """Count a repeated resubscription (no snapshot came) in ``status().resyncs``."""
        self._state(key).resyncs += 1

    def _ws_snapshot(
        self,
        key: str,
        asks: Iterable[Sequence[Any]],
        bids: Iterable[Sequence[Any]],
        seq: int | None,
        checksum: int | None,
        depth: int | None,
    ) -> bool:
        """Replace ``key``'s book with a pushed snapshot (capped to ``depth``) and verify it.

        Marks the book synced (which also ends a pending resync). Returns whether
        the snapshot was well formed and its checksum, if any, matched.
        """
        if depth is None:
            self._depths.pop(key, None)
        else:
            self._depths[key] = depth
        if not self._replace(key, asks, bids, seq):
            return False
        return self._verify_checksum(key, checksum)

    def _ws_update(
        self,
        key: str,
        asks: Iterable[Sequence[Any]],
        bids: Iterable[Sequence[Any]],
        seq: int | None,
        checksum: int | None,
    ) -> bool:
        """Apply one pushed delta, or drop it while the book waits for a snapshot.

        ``seq`` (when present on both sides) must increase; otherwise the book is
        marked unsynced, the gap counted and a resync requested. After applying,
        the checksum (when present) must match. Returns whether it was applied
        and verified.
        """
        state = self._state(key)
        if state.phase == "unsynced":
            # Deltas cannot repair a book without its snapshot: drop them until the
            # resubscription delivers one (no-op if a resync is already pending).
            self._request_resync(key)
            return False
        last = state.last_id
        if seq is not None and last is not None and seq <= last:
            self._fail(key, "gap", f"seq {seq} does not increase after {last}")
            return False
        if not self._apply(key, asks, bids):
            return False
        if seq is not None:
            state.last_id = seq
        return self._verify_checksum(key, checksum)


class BitgetBook(_CheckedBook[V1OrderBookItem]):
    """Legacy v1 ``orderbook`` store: items ``{instId, side, px, sz}``, key instId/side/px.

    ``sorted({"instId": ...})`` returns ``{"asks": [...], "bids": [...]}`` best
    first. ``status(instId)`` reports integrity. One book per ``instId``: to
    follow the same instId in two instTypes, use one collection per instType.
    """

    _VERIFICATION = (("checksum",), "CRC32 of the top 25 levels")

    _SYMBOL = "instId"
    _PRICE = "px"
    _SIZE = "sz"


class BitgetV2Book(_CheckedBook[V2BookItem]):
    """v2 ``book`` store: items ``{instType, instId, side, price, amount}``.

    Keys: instType, instId, side, price (as documented for the reference API).
    The same instId exists in several instTypes (``BTCUSDT`` is both SPOT and
    USDT-FUTURES), so each book is held under the key ``"<instType>:<instId>"``
    (``"SPOT:BTCUSDT"``). Every method that takes a symbol accepts that key, or
    an instId plus ``inst_type=``, or a bare instId when only one instType has
    it (otherwise ``ValueError`` asks for ``inst_type``)::

        store.book.sorted({"instType": "SPOT", "instId": "BTCUSDT"}, limit=5)
        store.book.status("BTCUSDT", inst_type="SPOT")   # or status("SPOT:BTCUSDT")

    ``sorted()``/``find()`` with instType and instId (or an unambiguous instId)
    touch only that book: O(log n + limit).
    """

    _VERIFICATION = (("checksum",), "CRC32 of the top 25 levels; `seq` must increase")

    _SYMBOL = "instId"
    _PRICE = "price"
    _SIZE = "amount"
    _V2_KEYS: ClassVar[tuple[str, ...]] = ("instType", "instId", "side", "price")

    def __init__(
        self,
        name: str | None = None,
        keys: Iterable[str] | None = None,
        data: Iterable[Item] | None = None,
    ) -> None:
        super().__init__(name, keys or self._V2_KEYS, data)

    def _init(self) -> None:
        super()._init()
        # book key -> (instType, instId); instId -> book keys having it
        self._ids: dict[str, tuple[str, str]] = {}
        self._keys_by_inst_id: dict[str, list[str]] = {}

    # ------------------------------------------------------------------ keys

    @staticmethod
    def key_text(inst_type: str, inst_id: str) -> str:
        """The key of the book of ``inst_id`` in ``inst_type``, nothing recorded. O(1)."""
        return f"{inst_type}:{inst_id}"

    def book_key(self, inst_type: str, inst_id: str) -> str:
        """The key of the book of ``inst_id`` in ``inst_type`` (``"SPOT:BTCUSDT"``),
        its names recorded for :meth:`resolve` and the items. O(1)."""
        key = f"{inst_type}:{inst_id}"
        if key not in self._ids:
            self._ids[key] = (inst_type, inst_id)
            self._keys_by_inst_id.setdefault(inst_id, []).append(key)
        return key

    def resolve(self, symbol: str, inst_type: str | None = None) -> str:
        """The book key for ``symbol`` (a book key, or an instId with optional ``inst_type``).

        Raises:
            ValueError: ``symbol`` is an instId present in several instTypes and
                ``inst_type`` was not given.
        """
        if inst_type is not None:
            return f"{inst_type}:{symbol}"
        if symbol in self._ids:
            return symbol
        keys = self._keys_by_inst_id.get(symbol)
        if not keys:
            return symbol
        if len(keys) > 1:
            types = sorted(self._ids[k][0] for k in keys)
            raise ValueError(f"{symbol!r} has books in several instTypes {types}; pass inst_type=")
        return keys[0]

    def _item_key(self, item: Mapping[str, Any]) -> str:
        return self.book_key(item["instType"], item["instId"])

    def _query_symbols(self, query: Mapping[str, Any]) -> list[str] | None:
        """Book keys a query can touch, or ``None`` when it must look at every book."""
        inst_id = query.get("instId")
        if inst_id is None:
            return None
        inst_type = query.get("instType")
        try:
            if inst_type is not None:
                key = f"{inst_type}:{inst_id}"
                return [key] if key in self._books else []
            return [k for k in self._keys_by_inst_id.get(inst_id, ()) if k in self._books]
        except TypeError:  # an unhashable query value matches nothing
            return []

    # --------------------------------------------------------------- reading

    def get(self, item: Mapping[str, Any]) -> V2BookItem | None:
        """The level with ``item``'s instType, instId, side and price, or ``None``. O(1)."""
        try:
            key = f"{item['instType']}:{item['instId']}"
            book = self._books.get(key)
            if book is None:
                return None
            side = item["side"]
            target = book[0] if side == "asks" else book[1] if side == "bids" else None
            if target is None:
                return None
            level = target.levels.get(self._key(side, item["price"]))
        except (KeyError, TypeError, ValueError):
            return None
        return None if level is None else cast("V2BookItem", self._make_item(key, side, level))

    def sorted(
        self, query: Mapping[str, Any] | None = None, limit: int | None = None
    ) -> dict[str, list[V2BookItem]]:
        """``{"asks": [best first...], "bids": [best first...]}``.

        A query of instType+instId (or an instId held by one instType only) is
        O(log n + limit). Other queries filter, then sort; levels of several
        books are merged by price, as the reference library does.
        """
        if query and set(query) <= {"instType", "instId"}:
            keys = self._query_symbols(query)
            if keys is not None and len(keys) <= 1:
                if not keys:
                    return {"asks": [], "bids": []}
                key = keys[0]
                asks, bids = self._books[key]
                return {
                    "asks": self._items(key, "asks", asks.best_levels(limit)),
                    "bids": self._items(key, "bids", bids.best_levels(limit)),
                }
        return self._sorted_by_price(self.find(query), limit)

    def best(
        self, symbol: str, inst_type: str | None = None
    ) -> tuple[V2BookItem | None, V2BookItem | None]:
        """``(best ask, best bid)`` of one book (see the class doc for ``symbol``). O(1)."""
        return super().best(self.resolve(symbol, inst_type))

    def is_synced(self, symbol: str, inst_type: str | None = None) -> bool:
        """Whether one book is currently trustworthy. O(1)."""
        return super().is_synced(self.resolve(symbol, inst_type))

    def status(self, symbol: str, inst_type: str | None = None) -> BookStatus:
        """Integrity of one book (:class:`~datastores.BookStatus`, ``symbol`` = book key)."""
        return super().status(self.resolve(symbol, inst_type))

    def checksum(self, symbol: str, depth: int = 25, inst_type: str | None = None) -> int:
        """The local checksum of one book's best ``depth`` levels."""
        return super().checksum(self.resolve(symbol, inst_type), depth)

    def set_depth(self, symbol: str, depth: int | None, inst_type: str | None = None) -> None:
        """Cap one book to ``depth`` levels per side (``None``: no cap)."""
        super().set_depth(self.resolve(symbol, inst_type), depth)

    # -------------------------------------------------------------- mutation

    def _make_item(self, symbol: str, side: str, level: Sequence[Any]) -> Item:
        inst_type, inst_id = self._ids[symbol]
        return {
            "instType": inst_type,
            "instId": inst_id,
            "side": side,
            "price": level[0],
            "amount": level[1],
        }

    def _split(self, item: Mapping[str, Any]) -> tuple[str, str, float]:
        side = item["side"]
        if side != "asks" and side != "bids":
            raise ValueError(f"unknown side {side!r}")
        if not isinstance(item["instType"], str) or not isinstance(item["instId"], str):
            raise TypeError("instType and instId must be strings")
        return self._item_key(item), side, self._key(side, item["price"])

    def _find_and_delete(self, query: Mapping[str, Any] | None = None) -> list[Item]:
        if not query:
            return super()._find_and_delete(query)
        items = cast("list[Item]", self.find(query))
        for item in items:
            self._pop_level(item, source=None)
        self._notify()
        return items

    # ------------------------------------------------------------- invariants

    def _check(self) -> None:
        """Assert the invariants (see :meth:`OrderBookStore._check`) and that every
        book key names its instType and instId."""
        super()._check()
        for key in self._books:
            inst_type, inst_id = self._ids[key]
            assert key == f"{inst_type}:{inst_id}", f"{key}: key/ids mismatch"
            assert inst_id in self._keys_by_inst_id, f"{key}: instId not indexed"
            assert key in self._keys_by_inst_id[inst_id], f"{key}: key not indexed"
