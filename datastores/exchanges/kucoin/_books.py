"""KuCoin order books: full level-2 books kept in sync, and top-5/top-50 books.

Items are ``{"symbol", "side": "asks" | "bids", "price", "size"}`` with the values
KuCoin sent; ``sorted()`` returns ``{"asks": [...], "bids": [...]}``, best first.

One full book store serves three feeds (a symbol is fed by one of them):

* classic spot ``/market/level2:{symbol}`` (https://www.kucoin.com/docs-new/3470068w0):
  rows ``[price, size, sequence]``; a REST snapshot with ``sequence`` is bridged
  and updates are chained by ``sequenceStart <= last + 1 < sequenceEnd + 1``
  (:class:`~datastores._integrity.KuCoinSpotRule`); a row whose own sequence is
  not above the book's is already in it and is skipped; a row with price ``"0"``
  only advances the sequence;
* classic futures ``/contractMarket/level2:{symbol}`` (.../3470082w0): one change
  ``"price,side,size"`` per message, ``sequence == last + 1`` (the same rule with
  ``sequenceStart == sequenceEnd``);
* UTA ``obu`` with depth ``increment@10ms`` (.../3470221w0): a snapshot on
  subscription (``O == C``), then deltas with ``O <= last + 1`` and ``C > last``
  (the same rule again), 500 levels per side at most.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from ..._bookside import Level
from ..._integrity import BookDelta, KuCoinSpotRule
from ..._orderbook import OrderBookStore
from ..._store import Item
from ._items import DepthItem, OrderBookItem

__all__ = ["KuCoinDepthBook", "KuCoinOrderBook", "parse_sequence"]

logger = logging.getLogger("datastores.exchanges.kucoin")


def parse_sequence(value: Any) -> int:
    """A KuCoin sequence: an integer, or a string of digits (REST spot snapshots).

    Raises:
        TypeError / ValueError: anything else (``bool`` included).
    """
    if value.__class__ is int:
        return int(value)
    if value.__class__ is str and value.isdigit():
        return int(value)
    raise TypeError(f"sequence must be an integer, got {value!r}")


def _fresh_rows(rows: Any, last: int | None) -> Any:
    """``rows`` without those the book already holds or that only advance the sequence.

    A row ``[price, size, sequence]`` whose sequence is at most ``last`` is older than
    the book (KuCoin: "the per-level sequence ... drop entries <= snapshot sequence");
    a row with price 0 changes nothing. Rows of two fields (futures, UTA) carry no
    sequence and are kept. Anything that is not a list of rows is returned as is, for
    the store to refuse. O(n).
    """
    if rows.__class__ is not list and rows.__class__ is not tuple:
        return rows
    kept = []
    for row in rows:
        if float(row[0]) == 0.0:
            continue
        if last is not None and len(row) > 2 and parse_sequence(row[2]) <= last:
            continue
        kept.append(row)
    return kept


def _as_text(levels: list[Any]) -> list[Any]:
    """Levels whose numbers (futures REST) are written as the stream writes them
    (``30000.5`` -> ``"30000.5"``); string levels are kept as they are. O(n)."""
    out = []
    for level in levels:
        if isinstance(level, list | tuple) and any(v.__class__ is not str for v in level):
            level = [v if v.__class__ is str or v.__class__ is bool else str(v) for v in level]
        out.append(level)
    return out


class KuCoinOrderBook(OrderBookStore[OrderBookItem]):
    """Full level-2 books (see the module docstring), verified by their sequence.

    Updates that arrive before a REST snapshot are buffered (at most
    ``_BUFFER_MAX``); a snapshot older than the buffered stream is fetched again
    (``_REFETCH_STALE_SNAPSHOT``), as KuCoin's calibration procedure says. Apply
    per level: O(log n).
    """

    _VERIFICATION = (
        ("sequence",),
        "REST snapshot + `sequenceStart`/`sequenceEnd`, futures `sequence`",
    )

    _SYMBOL = "symbol"
    _SIDE = "side"
    _PRICE = "price"
    _SIZE = "size"
    _ASK = "asks"
    _BID = "bids"
    _RULE = KuCoinSpotRule()
    _REFETCH_STALE_SNAPSHOT = True

    def _apply(
        self,
        symbol: str,
        asks: Iterable[Level],
        bids: Iterable[Level],
        snapshot: bool = False,
    ) -> bool:
        # The per-row sequence filter: only update rows (a snapshot is taken whole).
        if not snapshot:
            state = self._states.get(symbol)
            last = state.last_id if state is not None else None
            try:
                asks = _fresh_rows(asks, last)
                bids = _fresh_rows(bids, last)
            except (TypeError, ValueError, IndexError) as exc:
                self._fail(symbol, "error", f"malformed level ({type(exc).__name__}: {exc})")
                self._notify()
                return False
        return super()._apply(symbol, asks, bids, snapshot)

    def _on_increment(
        self, symbol: str, start: Any, end: Any, asks: Any, bids: Any, *, buffer: bool = True
    ) -> bool:
        """One spot ``trade.l2update`` (``sequenceStart``, ``sequenceEnd``) or UTA delta
        (``O``, ``C``). ``buffer``: keep it while unsynced (REST-snapshot feeds).
        Returns whether it was applied.

        Raises:
            TypeError / ValueError: unreadable sequence numbers (the caller records it).
        """
        first, last = parse_sequence(start), parse_sequence(end)
        if first > last:
            # Seen in captures (an edited sample): not a range. If it starts beyond
            # the book it is a gap; otherwise it changes nothing we can trust.
            state = self._states.get(symbol)
            if state is not None and state.phase != "unsynced" and state.last_id is not None:
                if first > state.last_id + 1:
                    self._fail(symbol, "gap", f"sequenceStart {first} > sequenceEnd {last}")
                else:
                    state.stale += 1
                return False
        return self._on_delta(symbol, BookDelta(first, last, None, asks, bids), buffer=buffer)

    def _on_change(self, symbol: str, sequence: Any, change: Any) -> bool:
        """One futures ``level2`` message: ``change`` is ``"price,side,size"``.

        Raises:
            TypeError / ValueError: unreadable sequence or change (the caller records it).
        """
        seq = parse_sequence(sequence)
        if change.__class__ is not str:
            raise TypeError(f"change must be 'price,side,size', got {change!r}")
        price, side, size = change.split(",")
        row = [price, size]
        if side == "sell":
            asks, bids = [row], []
        elif side == "buy":
            asks, bids = [], [row]
        else:
            raise ValueError(f"unknown side {side!r} in change {change!r}")
        state = self._states.get(symbol)
        if state is not None and state.phase == "synced" and state.last_id == seq - 1:
            # In sequence: the rule's APPLY verdict without building a BookDelta.
            if self._apply(symbol, asks, bids):
                state.last_id = seq
                return True
            return False
        return self._on_delta(symbol, BookDelta(seq, seq, None, asks, bids))

    def _on_rest_snapshot(self, symbol: str, data: Mapping[str, Any]) -> bool:
        """Install a REST snapshot (``{"sequence", "asks", "bids"}``) and replay the
        buffered updates. A snapshot older than a synced book is ignored (it would
        roll the book back). Returns whether the book is synced afterwards.

        Raises:
            ValueError: the snapshot is malformed (nothing is changed).
        """
        try:
            sequence = parse_sequence(data["sequence"])
            asks, bids = data["asks"], data["bids"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{self.name} {symbol}: not a level-2 snapshot ({exc!r})") from None
        if not isinstance(asks, list) or not isinstance(bids, list):
            raise ValueError(f"{self.name} {symbol}: malformed level-2 snapshot")
        # The futures snapshot sends numbers, its stream strings: one spelling per book.
        asks, bids = _as_text(asks), _as_text(bids)
        state = self._states.get(symbol)
        if (
            state is not None
            and state.phase != "unsynced"
            and state.last_id is not None
            and sequence < state.last_id
        ):
            logger.debug(
                "%s %s: ignored snapshot %d, the book is at %d",
                self.name,
                symbol,
                sequence,
                state.last_id,
            )
            return True
        return self._on_snapshot(symbol, sequence, asks, bids)

    def _hold_error(self, symbol: str, detail: str) -> None:
        """An update for ``symbol`` could not be read: it is lost, so the sequence is
        broken. Unsynced (counted as an error); buffered updates can no longer be
        bridged across the hole and are dropped."""
        self._fail(symbol, "error", detail)
        state = self._states.get(symbol)
        if state is not None:
            state.buffer.clear()


class KuCoinDepthBook(OrderBookStore[DepthItem]):
    """Top-N books (``level2Depth5``/``level2Depth50``, UTA ``obu`` depth 1/5/50).

    Every message is the whole top N and replaces the symbol's book: nothing to
    verify beyond that. ``status(symbol).last_update_id`` is the futures
    ``sequence`` when the message has one. Items carry the frame's ``timestamp``.
    """

    _VERIFICATION = (("whole frames",), "`level2Depth5`/`50` top-N snapshots")

    _SYMBOL = "symbol"
    _SIDE = "side"
    _PRICE = "price"
    _SIZE = "size"
    _ASK = "asks"
    _BID = "bids"

    def _init(self) -> None:
        super()._init()
        self._timestamps: dict[str, Any] = {}

    def _make_item(self, symbol: str, side: str, level: Level) -> Item:
        return {
            "symbol": symbol,
            "side": side,
            "price": level[0],
            "size": level[1],
            "timestamp": self._timestamps.get(symbol),
        }

    def _on_depth(
        self,
        symbol: str,
        asks: Any,
        bids: Any,
        timestamp: Any,
        sequence: Any = None,
    ) -> bool:
        """Replace ``symbol``'s book with one top-N frame. Returns whether it was
        readable (a malformed frame is recorded on the book). A new symbol beyond
        ``max_symbols`` is refused (counted in ``symbols_refused``, nothing kept)."""
        if symbol not in self._timestamps and self._refuse_new(symbol):
            return True  # not unreadable: refused, and counted as such
        self._timestamps[symbol] = timestamp
        update_id = sequence if sequence.__class__ is int else None
        return self._replace(symbol, asks, bids, update_id)
