"""The Phemex order book: snapshots replace, incrementals apply by price, and each
periodic snapshot is compared with the book before it replaces it.

https://phemex-docs.github.io/#subscribe-orderbook ,
#subscribe-orderbook-with-depth , #orderbook-message :

* a ``snapshot`` comes after subscribing and then about every 60 s; it replaces
  the symbol's book;
* ``incremental`` levels carry absolute sizes by price, a size of 0 deletes;
* ``depth`` (30 by default, 0 for the full book) is the subscribed depth: the docs
  ask clients to truncate the book to it themselves;
* ``sequence`` is one counter shared by every channel of the connection: it only
  increases, so lost messages cannot be detected
  (:class:`~datastores._integrity.MonotonicRule`). The periodic snapshot is the
  only check: when it differs from the book, the book had drifted; that is
  counted (``status().checksum_failures``, :meth:`PhemexOrderBook.snapshot_mismatches`),
  logged and reported to the change feed as an ``unsynced`` event, then the
  snapshot heals the book.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ..._integrity import BookDelta, MonotonicRule
from ..._orderbook import OrderBookStore
from ._items import OrderBookItem

__all__ = ["PhemexOrderBook"]

logger = logging.getLogger("datastores.exchanges.phemex")


def _level_map(levels: Any, depth: int | None, best_low: bool) -> dict[float, float]:
    """``{price: size}`` of the best ``depth`` non-zero levels. Raises on junk."""
    sized = {float(level[0]): float(level[1]) for level in levels}
    prices = sorted((p for p, q in sized.items() if q != 0.0), reverse=not best_low)
    if depth is not None:
        prices = prices[:depth]
    return {p: sized[p] for p in prices}


class PhemexOrderBook(OrderBookStore[OrderBookItem]):
    """Books of ``book`` (COIN-M, spot) and ``orderbook_p`` (USDⓈ-M) messages.

    ``sorted()`` returns ``{"asks": [...], "bids": [...]}`` of ``{symbol, side,
    priceEp, qty}`` (as pybotters). Apply per level: O(log n); a snapshot O(n log n)
    (its comparison with the book included).

    ``status(symbol).synced`` says a snapshot was applied since the last reconnect or
    malformed message; it cannot say that no incremental was lost on the way (Phemex
    has no contiguous sequence). ``checksum_failures`` counts the snapshots that
    found the book different.
    """

    _VERIFICATION = (("periodic snapshot",), "periodic snapshots compared with the book")

    _SYMBOL = "symbol"
    _SIDE = "side"
    _PRICE = "priceEp"
    _SIZE = "qty"
    _ASK = "asks"
    _BID = "bids"
    _RULE = MonotonicRule()

    def _init(self) -> None:
        super()._init()
        self._mismatches: dict[str, int] = {}
        #: ``timestamp`` (ns) of the last book message (pybotters' attribute)
        self.timestamp: int | None = None

    def snapshot_mismatches(self, symbol: str) -> int:
        """Periodic snapshots of ``symbol`` that differed from the book (each one
        healed it). O(1)."""
        return self._mismatches.get(symbol, 0)

    def _set_subscribed_depth(self, symbol: str, depth: object) -> None:
        """Truncate to the ``depth`` the message says was subscribed (0: full book)."""
        if depth.__class__ is not int:
            return
        cap = depth if isinstance(depth, int) and depth > 0 else None
        if self._depths.get(symbol) != cap:
            self.set_depth(symbol, cap)

    def _on_message(
        self,
        symbol: str,
        snapshot: bool,
        sequence: int,
        depth: object,
        asks: Any,
        bids: Any,
    ) -> bool:
        """Apply one book message; returns whether a snapshot was installed."""
        self._set_subscribed_depth(symbol, depth)
        if not snapshot:
            # Unsynced: dropped (the next snapshot replaces everything anyway).
            self._on_delta(symbol, BookDelta(sequence, sequence, None, asks, bids), buffer=False)
            return False
        state = self._states.get(symbol)
        if state is not None and state.phase == "synced" and symbol in self._books:
            self._compare(symbol, asks, bids)
        return self._replace(symbol, asks, bids, sequence)

    def _compare(self, symbol: str, asks: Any, bids: Any) -> None:
        """Count a periodic snapshot that differs from the synced book it replaces."""
        depth = self._depths.get(symbol, self._DEPTH)
        try:
            theirs = (_level_map(asks, depth, True), _level_map(bids, depth, False))
        except (TypeError, ValueError, IndexError, KeyError):
            return  # malformed: _replace refuses it and counts it
        mine_asks, mine_bids = self.levels(symbol, depth)
        mine = (_level_map(mine_asks, None, True), _level_map(mine_bids, None, False))
        if mine == theirs:
            return
        differing = _differences(mine[0], theirs[0]) + _differences(mine[1], theirs[1])
        state = self._state(symbol)
        state.checksum_failures += 1
        self._mismatches[symbol] = self._mismatches.get(symbol, 0) + 1
        state.last_error = f"checksum: periodic snapshot differs at {differing} levels"
        state.phase = "unsynced"  # until the snapshot below is installed
        logger.warning(
            "%s %s: the periodic snapshot differs from the book at %d levels (messages "
            "were lost); replaced by it",
            self.name,
            symbol,
            differing,
        )
        if self._sink is not None:
            self._report(symbol, "unsynced", "checksum")


def _differences(mine: dict[float, float], theirs: dict[float, float]) -> int:
    prices: Sequence[float] = list({*mine, *theirs})
    return sum(1 for p in prices if mine.get(p) != theirs.get(p))
