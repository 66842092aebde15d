"""Coincheck's order book: two channels, one store.

Items are ``{"pair", "side": "asks" | "bids", "rate", "amount"}`` with the strings
the exchange sent; ``sorted()`` returns ``{"asks": [...], "bids": [...]}``, best first.

* ``[pair]-limit-range-orderbook`` (undocumented; the reference library has used it
  since 2026-04) with ``GET /api/order_books?pair=..&version=1.0``: payloads carry a
  ``sequence_number`` and ``upper``/``lower`` rows ``{rate, ask_amount, bid_amount}``.
  The book starts from the REST snapshot; diffs before it are buffered and those it
  already covers dropped; after it every diff must carry the previous number plus one
  (:class:`~datastores._integrity.StrictIncrementRule`): anything else is a gap, the
  book goes unsynced and a new snapshot is fetched. ``status().verifiable`` is true.
  That the number grows by exactly one per message and pair is an assumption (the
  channel has no public documentation): see docs/exchanges/coincheck.md.
* ``[pair]-orderbook`` (documented, https://coincheck.com/documents/exchange/api#websocket-order-book):
  ``{"asks": [[rate, amount]...], "bids": [...], "last_update_at"}`` diffs with
  absolute amounts ("0" deletes) and no sequence or checksum. The book is seeded
  from ``GET /api/order_books?pair=..`` (at most 200 levels a side) and every later
  diff applied; diffs before the seed are dropped (counted in ``status().stale``).
  A lost diff cannot be noticed: ``status(pair).verifiable`` is false for these pairs
  and ``synced`` means only "seeded and nothing malformed since".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

from ..._bookstate import BookStatus
from ..._integrity import BookDelta, StrictIncrementRule
from ..._orderbook import OrderBookStore
from ._items import OrderBookItem

__all__ = ["CoincheckOrderBook", "parse_sequence", "rows_to_levels"]

logger = logging.getLogger("datastores.exchanges.coincheck")

Mode = Literal["sequenced", "legacy"]


def parse_sequence(value: Any) -> int:
    """``sequence_number`` as an int (it may come as a number or a string of digits).

    Raises:
        ValueError: neither.
    """
    if value.__class__ is int:
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ValueError(f"sequence_number {value!r} is not an integer")


def rows_to_levels(
    rows: Any, *, snapshot: bool = False
) -> tuple[list[tuple[Any, Any]], list[tuple[Any, Any]]]:
    """``upper``/``lower`` rows (``{rate, ask_amount, bid_amount}``, or a three-element
    list in that order) as ``(asks, bids)`` levels ``(rate, amount)``.

    A row without one of the amounts leaves that side alone. In a ``snapshot`` zero
    amounts are left out (there is nothing to delete). O(n).

    Raises:
        ValueError, TypeError: a row that cannot be read (the message is lost).
    """
    if rows.__class__ is not list:
        raise TypeError(f"rows are {type(rows).__name__}, not a list")
    asks: list[tuple[Any, Any]] = []
    bids: list[tuple[Any, Any]] = []
    for row in rows:
        if row.__class__ is dict:
            rate = row.get("rate")
            ask, bid = row.get("ask_amount"), row.get("bid_amount")
        elif row.__class__ is list and len(row) == 3:
            rate, ask, bid = row
        else:
            raise ValueError(f"order-book row {row!r:.80} is not {{rate, ask_amount, bid_amount}}")
        if rate.__class__ is not str and rate.__class__ not in (int, float):
            raise ValueError(f"order-book row rate {rate!r:.40}")
        for amount, side in ((ask, asks), (bid, bids)):
            if amount is None:
                continue
            if amount.__class__ is not str and amount.__class__ not in (int, float):
                raise ValueError(f"order-book row amount {amount!r:.40}")
            if snapshot and float(amount) == 0.0:
                continue
            side.append((rate, amount))
    return asks, bids


class _InitializedView(Mapping[str, bool]):
    """``orderbook.initialized[pair]``: the reference library's per-pair flag, read-only."""

    __slots__ = ("_book",)

    def __init__(self, book: CoincheckOrderBook) -> None:
        self._book = book

    def __getitem__(self, pair: str) -> bool:
        return self._book.is_synced(pair)

    def __iter__(self) -> Iterator[str]:
        return iter(self._book.symbols)

    def __len__(self) -> int:
        return len(self._book.symbols)


class CoincheckOrderBook(OrderBookStore[OrderBookItem]):
    """Order books of both channels, keyed by ``pair``, ``side``, ``rate`` (see the
    module docstring for the rules). Apply per level: O(log n)."""

    _VERIFICATION = (
        ("sequence",),
        "REST version + sequence-numbered channel (the legacy channel: none)",
    )

    _SYMBOL = "pair"
    _SIDE = "side"
    _PRICE = "rate"
    _SIZE = "amount"
    _ASK = "asks"
    _BID = "bids"
    #: ``sequence_number``: the previous one plus one (an assumption: undocumented)
    _RULE = StrictIncrementRule()
    #: a snapshot older than the buffered diffs is fetched again, not a gap
    _REFETCH_STALE_SNAPSHOT = True
    #: a number below the last that the book never applied is a reset, not a replay
    _STALE_WINDOW = 64

    def _init(self) -> None:
        super()._init()
        #: which channel feeds each pair (the sequenced one wins when both do); a
        #: pair enters it with its first message (:meth:`_admit`) and never leaves,
        #: so it bounds ``_last_update_at`` too
        self._modes: dict[str, Mode] = {}
        self._last_update_at: dict[str, Any] = {}
        self._latest_update_at: Any = None

    # ------------------------------------------------------------ reading

    @property
    def initialized(self) -> Mapping[str, bool]:
        """``{pair: synced}``, as the reference library's ``initialized`` (read-only)."""
        return _InitializedView(self)

    @property
    def last_update_at(self) -> Any:
        """``last_update_at`` of the latest message, whatever its pair (the
        reference library's attribute); per pair: :meth:`last_update_at_of`."""
        return self._latest_update_at

    def last_update_at_of(self, pair: str) -> Any:
        """``last_update_at`` (epoch seconds, a string) of ``pair``'s latest message."""
        return self._last_update_at.get(pair)

    def mode(self, pair: str) -> Mode | None:
        """``"sequenced"``, ``"legacy"`` or ``None`` (no message for ``pair`` yet)."""
        return self._modes.get(pair)

    def status(self, symbol: str) -> BookStatus:
        """Integrity of ``symbol``'s book; ``verifiable`` is false for a pair fed by
        the legacy ``[pair]-orderbook`` channel (no sequence: a lost diff is unseen)."""
        status = super().status(symbol)
        if self._modes.get(symbol) == "legacy":
            return replace(status, verifiable=False)
        return status

    def _admit(self, pair: str) -> bool:
        """Whether a message of ``pair`` may be handled: a known pair, or a new one
        while fewer than ``max_symbols`` pairs are known. A refused one is counted
        (``symbols_refused``) and nothing is kept for it. O(1)."""
        return pair in self._modes or not self._refuse_new(pair, self._modes)

    # ------------------------------------------------------------ sequenced

    def _note_time(self, pair: str, data: Mapping[str, Any]) -> None:
        at = data.get("last_update_at")
        if at is not None:
            self._last_update_at[pair] = at
            self._latest_update_at = at

    def _use(self, pair: str, mode: Mode) -> None:
        previous = self._modes.get(pair)
        if previous == mode:
            return
        self._modes[pair] = mode
        if previous is not None:
            # The other channel's state says nothing about this one's sequence.
            self._invalidate(pair, f"the pair is now fed by the {mode} channel")

    def _on_sequenced(self, pair: str, data: Mapping[str, Any]) -> None:
        """One ``limit-range-orderbook`` diff. A diff that cannot be read is lost:
        the book goes unsynced (counted as an error) and resyncs.

        Raises:
            ValueError: unreadable (already recorded on the book).

        A new pair beyond ``max_symbols`` is refused (:meth:`_admit`).
        """
        if not self._admit(pair):
            return
        self._use(pair, "sequenced")
        try:
            sequence = parse_sequence(data.get("sequence_number"))
            upper, lower = data.get("upper", []), data.get("lower", [])
            asks, bids = rows_to_levels(upper)
            more_asks, more_bids = rows_to_levels(lower)
        except (ValueError, TypeError) as exc:
            self._fail(pair, "error", f"unreadable limit-range-orderbook diff ({exc})")
            raise ValueError(str(exc)) from None
        self._note_time(pair, data)
        asks += more_asks
        bids += more_bids
        self._on_delta(pair, BookDelta(sequence, sequence, None, asks, bids))

    def _on_sequenced_snapshot(self, pair: str, data: Any) -> bool:
        """Install a ``GET /api/order_books?version=1.0`` answer and replay the
        buffered diffs after it. A snapshot older than what a synced book covers is
        ignored. Returns whether the book is synced afterwards.

        Raises:
            ValueError: malformed (nothing changed).
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"{self.name} {pair}: not an order-book snapshot")
        try:
            sequence = parse_sequence(data.get("sequence_number"))
            asks, bids = rows_to_levels(data.get("upper", []), snapshot=True)
            more_asks, more_bids = rows_to_levels(data.get("lower", []), snapshot=True)
            for rate, amount in (*asks, *bids, *more_asks, *more_bids):
                float(rate), float(amount)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{self.name} {pair}: malformed snapshot ({exc})") from None
        if not self._admit(pair):
            return False
        self._use(pair, "sequenced")
        state = self._states.get(pair)
        if (
            state is not None
            and state.phase != "unsynced"
            and state.last_id is not None
            and sequence < state.last_id
        ):
            logger.debug(
                "%s %s: ignored snapshot %d, older than the book", self.name, pair, sequence
            )
            return True
        return self._on_snapshot(pair, sequence, asks + more_asks, bids + more_bids)

    # ------------------------------------------------------------ legacy

    def _on_legacy(self, pair: str, data: Mapping[str, Any]) -> bool:
        """One ``[pair]-orderbook`` diff, applied if the pair was seeded. Returns
        ``False`` when the pair is fed by the sequenced channel (not applied). A new
        pair beyond ``max_symbols`` is refused (:meth:`_admit`)."""
        if not self._admit(pair):
            return True
        mode = self._modes.get(pair)
        if mode == "sequenced":
            return False
        if mode is None:
            self._modes[pair] = "legacy"
        self._note_time(pair, data)
        state = self._states.get(pair)
        if state is None or state.phase == "unsynced":
            # Without a sequence a diff cannot be placed against a later seed: dropped.
            self._state(pair).stale += 1
            self._request_resync(pair)
            return True
        asks: Sequence[Any] = data.get("asks", [])
        bids: Sequence[Any] = data.get("bids", [])
        self._apply(pair, asks, bids)
        return True

    def _on_legacy_snapshot(self, pair: str, data: Any) -> bool:
        """Seed ``pair`` from a ``GET /api/order_books`` answer (replaces its book).
        Ignored for a pair fed by the sequenced channel. Returns whether synced.

        Raises:
            ValueError: malformed (nothing changed).
        """
        asks = data.get("asks") if isinstance(data, Mapping) else None
        bids = data.get("bids") if isinstance(data, Mapping) else None
        if not isinstance(asks, list) or not isinstance(bids, list):
            raise ValueError(f"{self.name} {pair}: not an order-book snapshot")
        if not self._admit(pair):
            return False
        if self._modes.get(pair) == "sequenced":
            logger.info(
                "%s %s: a legacy snapshot for a pair on the sequenced channel is ignored",
                self.name,
                pair,
            )
            return self.is_synced(pair)
        self._modes[pair] = "legacy"
        return self._replace(pair, asks, bids, None)
