"""Binance order books: diff-depth books kept in sync by the documented procedure, and
top-N partial-depth books.

Spot: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#how-to-manage-a-local-order-book-correctly
Futures: https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/How-to-manage-a-local-order-book-correctly

Items are ``{"s": symbol, "S": "a" | "b", "p": price, "q": quantity}`` with the
price and quantity strings exactly as Binance sent them; ``sorted()`` returns
``{"a": [...], "b": [...]}``, best first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from ..._bookside import apply_levels
from ..._integrity import BinanceFuturesRule, BinanceSpotRule, BookDelta, SequenceRule
from ..._orderbook import OrderBookStore
from ._items import OrderBookItem

__all__ = ["BinanceFuturesOrderBook", "BinancePartialBook", "BinanceSpotOrderBook", "OrderBook"]

logger = logging.getLogger("datastores.exchanges.binance")


class _InitializedView(Mapping[str, bool]):
    """``book.initialized[symbol]``: the reference library's per-symbol flag, read-only.

    Unknown symbols read ``False`` (as with the reference's ``defaultdict``).
    """

    __slots__ = ("_book",)

    def __init__(self, book: OrderBookStore[Any]) -> None:
        self._book = book

    def __getitem__(self, symbol: str) -> bool:
        return self._book.is_synced(symbol)

    def __iter__(self) -> Iterator[str]:
        return iter(self._book.symbols)

    def __len__(self) -> int:
        return len(self._book.symbols)


class OrderBook(OrderBookStore[OrderBookItem]):
    """Common field names of every Binance book store (see the module docstring)."""

    _SYMBOL = "s"
    _SIDE = "S"
    _PRICE = "p"
    _SIZE = "q"
    _ASK = "a"
    _BID = "b"

    @property
    def initialized(self) -> Mapping[str, bool]:
        """``{symbol: synced}``, as the reference library's ``initialized`` (read-only)."""
        return _InitializedView(self)


class _DiffBook(OrderBook):
    """A diff-depth book: REST snapshot + ``depthUpdate`` diffs checked by ``_RULE``.

    Diffs are buffered (bounded by ``_BUFFER_MAX``) while the symbol waits for a
    snapshot and are never applied before it; once applied they are not kept. A
    snapshot older than the buffered diffs is fetched again (the core's
    ``_REFETCH_STALE_SNAPSHOT`` rule), as Binance documents.
    """

    _RULE: ClassVar[SequenceRule]
    _REFETCH_STALE_SNAPSHOT = True
    #: A diff the rule calls stale on a synced book must be one the book applied (a
    #: replay). Any other is a gap: after one diff with an overstated ``u``, every real
    #: diff would otherwise be dropped as stale while the book said synced.
    _STALE_WINDOW = 64
    #: futures chain diffs by ``pu`` (the previous diff's ``u``), spot by ``U == u + 1``
    _CHAINED_BY_PREV: ClassVar[bool] = False

    def _on_diff(
        self,
        symbol: str,
        first: Any,
        last: Any,
        prev: Any,
        asks: Sequence[Any],
        bids: Sequence[Any],
    ) -> None:
        """Apply one ``depthUpdate`` (``U``=first, ``u``=last, ``pu``=prev, ``None`` on
        spot); the hot path."""
        state = self._states.get(symbol)
        if state is not None and state.phase == "synced":
            last_id = state.last_id
            # In sequence: exactly the rule's APPLY verdict, without building a BookDelta.
            if (
                last_id is not None
                and last.__class__ is int
                and (
                    prev == last_id
                    if self._CHAINED_BY_PREV
                    else first == last_id + 1 and last >= first
                )
            ):
                book = self._books.get(symbol)
                if (
                    book is None
                    or self._sink is not None
                    or self._streams
                    or self._depths
                    or self._DEPTH is not None
                ):
                    if not self._apply(symbol, asks, bids):
                        return
                else:
                    # OrderBookStore._apply for a plain book (no observer, watcher or
                    # depth cap), inlined: one call and two lookups less per message.
                    # The count is added once: a failure recounts the book anyway.
                    try:
                        if asks:
                            added = apply_levels(book[0], asks, 1.0)
                        elif asks.__class__ is list or asks == ():
                            added = 0
                        else:
                            raise TypeError(f"asks are {type(asks).__name__}, not levels")
                        if bids:
                            added += apply_levels(book[1], bids, -1.0)
                        elif bids.__class__ is not list and bids != ():
                            raise TypeError(f"bids are {type(bids).__name__}, not levels")
                    except (ValueError, TypeError, IndexError, KeyError, OverflowError) as exc:
                        self._apply_failed(symbol, exc)
                        return
                    self._count += added
                    state.updates += 1
                    state.updated_at = self.clock()
                    if self._waiters:
                        self._notify()
                state.last_id = last
                recent = state.recent_ids
                if recent is not None:  # (inlined _remember_id: the hot path)
                    recent.append(last)
                else:
                    self._remember_id(state, last)
                return
        if self._CHAINED_BY_PREV:
            if first.__class__ is not int or last.__class__ is not int or prev.__class__ is not int:
                raise TypeError(
                    f"depthUpdate ids must be integers, got U={first!r} u={last!r} pu={prev!r}"
                )
        elif first.__class__ is not int or last.__class__ is not int:
            raise TypeError(f"depthUpdate ids must be integers, got U={first!r} u={last!r}")
        self._on_delta(symbol, BookDelta(first, last, prev, asks, bids))

    def _on_depth_snapshot(self, symbol: str, data: Mapping[str, Any]) -> bool:
        """Install a REST depth snapshot (``{"lastUpdateId", "bids", "asks"}``).

        A snapshot older than what a synced book already covers is ignored (it
        would roll the book back). Returns whether the book is synced afterwards.

        Raises:
            ValueError: the snapshot is malformed (nothing is changed).
        """
        try:
            snapshot_id = data["lastUpdateId"]
            asks, bids = data["asks"], data["bids"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{self.name} {symbol}: not a depth snapshot ({exc!r})") from None
        if snapshot_id.__class__ is not int or not isinstance(asks, list):
            raise ValueError(f"{self.name} {symbol}: malformed depth snapshot")
        if not isinstance(bids, list):
            raise ValueError(f"{self.name} {symbol}: malformed depth snapshot")
        state = self._states.get(symbol)
        if (
            state is not None
            and state.phase != "unsynced"
            and state.last_id is not None
            and snapshot_id < state.last_id
        ):
            logger.debug(
                "%s %s: ignored snapshot %d, the book is already at %d",
                self.name,
                symbol,
                snapshot_id,
                state.last_id,
            )
            return True
        return self._on_snapshot(symbol, snapshot_id, asks, bids)

    def _hold_error(self, symbol: str, detail: str) -> None:
        """A depthUpdate for ``symbol`` could not be read: it is lost, so the sequence
        is broken. Mark unsynced (counted as an error) and drop buffered diffs, which
        can no longer be bridged across the hole."""
        self._fail(symbol, "error", detail)
        state = self._states.get(symbol)
        if state is not None:
            state.buffer.clear()


class BinanceSpotOrderBook(_DiffBook):
    """Spot diff-depth book (``<symbol>@depth[@100ms]``).

    Rules (Binance spot): drop ``u <= lastUpdateId``; the first applied diff has
    ``U <= lastUpdateId + 1 <= u``; then each diff has ``U == previous u + 1``.
    Apply per level: O(log n).
    """

    _VERIFICATION = (("sequence",), "REST snapshot, then `U`/`u` ids")

    _RULE = BinanceSpotRule()


class BinanceFuturesOrderBook(_DiffBook):
    """USDⓈ-M / COIN-M diff-depth book (``<symbol>@depth[@100ms|@500ms]``).

    Rules (Binance futures): drop ``u < lastUpdateId``; the first applied diff has
    ``U <= lastUpdateId <= u``; then each diff's ``pu`` equals the previous ``u``.
    Apply per level: O(log n).
    """

    _VERIFICATION = (("sequence",), "REST snapshot, then `U`/`u`/`pu` ids")

    _RULE = BinanceFuturesRule()
    _CHAINED_BY_PREV = True


class BinancePartialBook(OrderBook):
    """Top-N books from partial-depth streams (``<symbol>@depth5|10|20[@100ms]``).

    Each message is a complete top-N snapshot and replaces the symbol's book, so
    no snapshot or sequence check is needed; ``status(symbol).last_update_id`` is
    the message's ``lastUpdateId`` (spot) or ``u`` (futures). Kept apart from the
    diff book: top-N levels applied as diffs would leave levels that fell out of
    the top N in the book forever.
    """

    _VERIFICATION = (("whole frames",), "`@depth5/10/20` top-N snapshots")

    def _on_partial(
        self, symbol: str, update_id: Any, asks: Sequence[Any], bids: Sequence[Any]
    ) -> None:
        if update_id.__class__ is not int:
            raise TypeError(f"partial depth id must be an integer, got {update_id!r}")
        self._replace(symbol, asks, bids, update_id)
