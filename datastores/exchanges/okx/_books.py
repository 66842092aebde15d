"""OKX order-book stores: one sorted book per instrument, verified by seqId and checksum.

Items keep the documented shape ``{"instId", "side", "px", "sz", "liqSz", "ordSz"}``
with ``side`` in ``"asks"``/``"bids"`` and every value the string OKX sent
(the checksum is computed over those exact strings).

https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from ..._integrity import BookDelta, OKXSeqRule, Verdict
from ..._orderbook import OrderBookStore
from ..._store import Item

__all__ = [
    "BOOK_DEPTHS",
    "BOOK_RANKS",
    "REST_SNAPSHOT_DEPTHS",
    "SNAPSHOT_ONLY_CHANNELS",
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


class OKXBooks(OrderBookStore):
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

    _SYMBOL = "instId"
    _SIDE = "side"
    _PRICE = "px"
    _SIZE = "sz"
    _ASK = "asks"
    _BID = "bids"
    _LEVEL_FIELDS = ("px", "sz", "liqSz", "ordSz")
    _RULE: ClassVar[OKXSeqRule] = OKXSeqRule()

    def _init(self) -> None:
        super()._init()
        self.ts: dict[str, Any] = {}
        self.received_checksum: dict[str, int] = {}
        #: instId -> seqIds of the snapshot and updates last applied: an update the book
        #: "already covers" (stale) must be one of them
        self._applied: dict[str, deque[int]] = {}

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

    def _on_delta(self, symbol: str, delta: BookDelta, *, buffer: bool = True) -> bool:
        """Apply one update by the OKX rule, with two refinements while bridging a REST
        snapshot (phase ``bridging``):

        * ``prevSeqId == snapshot seqId`` is the direct successor and is applied even
          when its ``seqId`` is lower (a sequence reset after maintenance);
        * ``prevSeqId > snapshot seqId`` means the snapshot is older than the stream:
          the docs say fetch another one, so this is a resync, not a counted gap.
        """
        state = self._states.get(symbol)
        if (
            state is not None
            and state.phase == "bridging"
            and state.last_id is not None
            and delta.prev_id is not None
        ):
            if delta.prev_id == state.last_id:
                state.phase = "synced"
            elif delta.prev_id > state.last_id:
                state.phase = "unsynced"
                state.resync_requested = False
                state.last_error = (
                    f"snapshot seqId {state.last_id} is older than the stream "
                    f"(prevSeqId {delta.prev_id}); fetching another snapshot"
                )
                self._hold(symbol, state, delta, buffer)
                return False
        if (
            state is not None
            and state.phase == "synced"
            and state.last_id is not None
            and delta.prev_id != state.last_id
            and self._RULE.follow(state.last_id, delta) is Verdict.STALE
            and delta.last_id not in self._applied.get(symbol, ())
        ):
            # Below the last seqId, yet not an update this book applied: the sequence
            # went back (maintenance) without its first update (seqId < prevSeqId)
            # reaching us. Dropped as stale, every later update would be too, forever.
            self._fail(
                symbol,
                "gap",
                f"{self._RULE.name}: last id {state.last_id}, update {delta.last_id} "
                f"prev {delta.prev_id} was never applied (a sequence reset was missed?)",
            )
            self._hold(symbol, state, delta, buffer)
            return False
        if super()._on_delta(symbol, delta, buffer=buffer):
            self._remember(symbol, delta.last_id)
            return True
        return False

    def _replace(
        self,
        symbol: str,
        asks: Iterable[Sequence[Any]],
        bids: Iterable[Sequence[Any]],
        update_id: int | None = None,
    ) -> bool:
        if not super()._replace(symbol, asks, bids, update_id):
            return False
        if update_id is not None:
            self._remember(symbol, update_id)
        return True

    def _remember(self, symbol: str, seq: int) -> None:
        applied = self._applied.get(symbol)
        if applied is None:
            applied = self._applied[symbol] = deque(maxlen=64)
        applied.append(seq)

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
        """Drop ``symbol``'s levels (delete changes for watchers), state and cap."""
        self._clear_symbol(symbol)
        self._states.pop(symbol, None)
        self._depths.pop(symbol, None)
        self.ts.pop(symbol, None)
        self.received_checksum.pop(symbol, None)
        self._applied.pop(symbol, None)

    def _take(self, other: OKXBooks, symbol: str) -> None:
        """Move ``symbol``'s book, integrity state and depth cap from ``other`` to this
        store, keeping its sync (no snapshot needed). Watchers of ``other`` see
        deletes, watchers of this store see inserts. O(n) in the book's levels.
        """
        self._forget(symbol)
        book = other._books.pop(symbol, None)
        state = other._states.pop(symbol, None)
        depth = other._depths.pop(symbol, None)
        if symbol in other.ts:
            self.ts[symbol] = other.ts.pop(symbol)
        if symbol in other.received_checksum:
            self.received_checksum[symbol] = other.received_checksum.pop(symbol)
        if symbol in other._applied:
            self._applied[symbol] = other._applied.pop(symbol)
        if book is not None:
            moved = len(book[0]) + len(book[1])
            other._count -= moved
            self._count += moved
            self._books[symbol] = book
            if other._streams or self._streams:
                for side_name, side in ((self._ASK, book[0]), (self._BID, book[1])):
                    for item in self._items(symbol, side_name, side.best_levels(None)):
                        if other._streams:
                            other._emit("delete", None, item)
                        if self._streams:
                            self._emit("insert", None, item)
        if state is not None:
            self._states[symbol] = state
        if depth is not None:
            self._depths[symbol] = depth
        other._notify()
        self._notify()
