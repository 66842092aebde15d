"""OKX order-book stores: one sorted book per instrument, verified by seqId and checksum.

Items keep the documented shape ``{"instId", "side", "px", "sz", "liqSz", "ordSz"}``
with ``side`` in ``"asks"``/``"bids"`` and every value the string OKX sent
(the checksum is computed over those exact strings).

https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ..._integrity import BookDelta, OKXSeqRule, Verdict
from ..._orderbook import OrderBookStore
from ..._store import Item
from ._items import BookItem

__all__ = [
    "BOOK_DEPTHS",
    "BOOK_RANKS",
    "REST_SNAPSHOT_DEPTHS",
    "SNAPSHOT_ONLY_CHANNELS",
    "OKXBookRule",
    "OKXBooks",
]

#: Depth each book channel publishes (levels per side); the local book is capped to it.
BOOK_DEPTHS: dict[str, int] = {
    "books-l2-tbt": 400,
    "books": 400,
    "books-elp": 400,
    "books50-l2-tbt": 50,
    "books5": 5,
    "bbo-tbt": 1,
}

#: Which flavour feeds ``OKXDataStore.books`` when several are subscribed for one
#: instrument: the deepest (and fastest) wins. ``books-elp`` carries only ELP
#: orders, a different book, so it is used only when nothing else is subscribed.
BOOK_RANKS: dict[str, int] = {
    "books-l2-tbt": 60,
    "books": 50,
    "books50-l2-tbt": 40,
    "books5": 30,
    "bbo-tbt": 20,
    "books-elp": 10,
}

#: Channels whose every push is a whole book (no deltas): each push replaces.
SNAPSHOT_ONLY_CHANNELS = frozenset({"books5", "bbo-tbt"})

#: Incremental channels that can be bootstrapped from ``GET /api/v5/market/books``
#: (``sz`` to request). OKX documents this procedure for its incremental channels
#: now that the initial WS snapshot is being removed (changelog, "Delist initial
#: snapshot and checksum field in order book channels", https://www.okx.com/docs-v5/log_en).
#: ``books-elp`` is left out: which ``source`` value selects ELP orders is not documented.
REST_SNAPSHOT_DEPTHS: dict[str, int] = {
    "books": 400,
    "books-l2-tbt": 400,
    "books50-l2-tbt": 50,
}


class OKXBookRule(OKXSeqRule):
    """OKX's rule with two refinements for bridging a REST snapshot:

    * ``prevSeqId == snapshot seqId`` is the direct successor, applied even when
      its ``seqId`` is lower (a sequence reset after maintenance);
    * ``prevSeqId > snapshot seqId`` means the snapshot is older than the stream:
      the docs say fetch another one (``GAP`` here; the book's
      ``_REFETCH_STALE_SNAPSHOT`` makes it a refetch, not a counted gap).
    """

    def bridge(self, snapshot_id: int, delta: BookDelta) -> Verdict:
        prev = delta.prev_id
        if prev is not None:
            if prev == snapshot_id:
                return Verdict.APPLY
            if prev > snapshot_id:
                return Verdict.GAP
        return super().bridge(snapshot_id, delta)


class OKXBooks(OrderBookStore[BookItem]):
    """OKX order books, keyed by ``instId``/``side``/``px``; ``side`` is ``asks`` or ``bids``.

    ``sorted({"instId": ...}, limit=k)`` is O(log n + k); one level change is
    O(log n). Integrity per instrument: ``status(instId)`` (synced, last seqId,
    gaps, checksum failures, resyncs...).

    Attributes:
        ts: ``instId -> ts`` (the book's generation time in ms, as sent) of the
            last message applied for each instrument. (The reference library
            kept one value for all instruments.)
        received_checksum: ``instId -> checksum`` last received from OKX (0 once
            OKX stops sending real checksums). ``checksum(instId)`` computes the
            local one.
    """

    _VERIFICATION = (("sequence", "checksum"), "`seqId`/`prevSeqId` and CRC32 checksum")

    _SYMBOL = "instId"
    _SIDE = "side"
    _PRICE = "px"
    _SIZE = "sz"
    _ASK = "asks"
    _BID = "bids"
    _LEVEL_FIELDS = ("px", "sz", "liqSz", "ordSz")
    _RULE: ClassVar[OKXSeqRule] = OKXBookRule()
    # An update that does not bridge a REST snapshot (prevSeqId above its seqId):
    # the snapshot is older than the stream; fetch another (not a gap).
    _REFETCH_STALE_SNAPSHOT = True
    # After maintenance the seqId goes back: an update below the last seqId is stale
    # only if the book applied it (one of the last 64 seqIds), else a missed reset.
    _STALE_WINDOW = 64

    def _init(self) -> None:
        super()._init()
        self.ts: dict[str, Any] = {}
        self.received_checksum: dict[str, int] = {}

    def _make_item(self, symbol: str, side: str, level: Sequence[Any]) -> Item:
        # Built on every read: a literal dict beats the generic zip for the usual
        # 4-element level.
        if len(level) == 4:
            return {
                "instId": symbol,
                "side": side,
                "px": level[0],
                "sz": level[1],
                "liqSz": level[2],
                "ordSz": level[3],
            }
        return super()._make_item(symbol, side, level)

    # ---------------------------------------------------- helpers for the collection

    def _phase(self, symbol: str) -> str:
        """``"unsynced"``, ``"bridging"`` or ``"synced"`` (no state yet: unsynced)."""
        state = self._states.get(symbol)
        return state.phase if state is not None else "unsynced"

    def _first_buffered(self, symbol: str) -> BookDelta | None:
        state = self._states.get(symbol)
        if state is None or not state.buffer:
            return None
        return state.buffer[0]

    def _clear_buffer(self, symbol: str) -> None:
        state = self._states.get(symbol)
        if state is not None:
            state.buffer.clear()

    def _rerequest_resync(self, symbol: str, reason: str) -> None:
        """Ask for another recovery although one was already requested (retry after a
        timeout); counted in ``resyncs``."""
        state = self._state(symbol)
        if state.phase == "unsynced":
            state.resync_requested = False
            state.last_error = reason
            self._request_resync(symbol)

    def _forget(self, symbol: str) -> None:
        """Drop ``symbol``'s levels (delete changes for watchers, an empty snapshot
        for the change feed), state and cap."""
        # The cap goes first: the feed's "cleared" change then tells a mirror no cap.
        self._depths.pop(symbol, None)
        self._clear_symbol(symbol)
        self._states.pop(symbol, None)
        self.ts.pop(symbol, None)
        self.received_checksum.pop(symbol, None)

    def _take(self, other: OKXBooks, symbol: str) -> None:
        """Move ``symbol``'s book, integrity state and depth cap from ``other`` to this
        store, keeping its sync (no snapshot needed). Both go through the store
        methods that report: watchers of ``other`` see deletes, watchers of this
        store inserts; the change feed sees ``other`` cleared and this store given
        the levels as a snapshot (a mirror ends up equal). O(n log n) in the levels.
        """
        self._forget(symbol)
        had_book = symbol in other._books
        asks, bids = other.levels(symbol)
        state = other._states.pop(symbol, None)
        depth = other._depths.get(symbol)
        ts = other.ts.get(symbol, _MISSING)
        checksum = other.received_checksum.get(symbol)
        other._forget(symbol)
        if depth is not None:
            self.set_depth(symbol, depth)
        if had_book:
            self._apply(symbol, asks, bids, snapshot=True)
        # The moved state replaces the one _apply() made (its counters, phase and
        # last seqId are the book's own).
        if state is not None:
            self._states[symbol] = state
        else:
            self._states.pop(symbol, None)
        if ts is not _MISSING:
            self.ts[symbol] = ts
        if checksum is not None:
            self.received_checksum[symbol] = checksum
        self._notify()


_MISSING: Any = object()
