"""bitFlyer's order book: periodic snapshots replace it, diffs by price in between.

The protocol (https://bf-lightning-api.readme.io/docs/realtime-board-snapshot and
https://bf-lightning-api.readme.io/docs/realtime-board):

* ``lightning_board_snapshot_{product_code}`` is the whole book (at most about 300
  levels per side, observed; unconfirmed in the docs), sent again every few seconds
  for as long as it is subscribed;
* ``lightning_board_{product_code}`` sends changed levels with absolute sizes, 0
  deleting; both carry ``mid_price``, neither an id, a time or a checksum.

So a gap cannot be seen in the stream, and diffs are known to miss some deletions.
What the book can check, and does after every diff: the book is not crossed and its
mid price equals the diff's ``mid_price`` (in 1,922 wire probes the two always
agreed on a book fed every diff since a snapshot). A failure marks the product
unsynced until the next snapshot, which replaces the book and heals the missed
deletions; deep stale levels that leave the top untouched stay until then.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..._bookside import Level
from ..._orderbook import OrderBookStore
from ._items import BoardItem

__all__ = ["Board", "parse_levels"]

#: relative tolerance of the mid-price check (bitFlyer sends the mid as a JSON number)
MID_TOLERANCE = 1e-9


def parse_levels(levels: Any) -> list[Level]:
    """bitFlyer's ``[{"price": p, "size": s}, ...]`` as ``(price, size)`` levels.

    Raises ``ValueError`` when ``levels`` is not a list of such objects with numeric
    (not boolean) price and size. A ``price`` of 0 is an itayose execution, not a
    level (https://bf-lightning-api.readme.io/docs/realtime-board): left out. O(n).
    """
    if levels.__class__ is not list:
        raise ValueError(f"levels are {type(levels).__name__}, not a list")
    out: list[Level] = []
    for level in levels:
        if level.__class__ is not dict:
            raise ValueError(f"level {level!r:.60} is not an object")
        price, size = level.get("price"), level.get("size")
        if price.__class__ not in (int, float) or size.__class__ not in (int, float):
            raise ValueError(f"level {level!r:.80} has no numeric price and size")
        if not price:
            continue
        out.append((price, size))
    return out


class Board(OrderBookStore[BoardItem]):
    """Books of ``lightning_board_snapshot_{pc}`` and ``lightning_board_{pc}``.

    ``sorted()`` returns ``{"asks": [...], "bids": [...]}`` best first; items are
    ``{"product_code", "side", "price", "size"}`` with bitFlyer's numbers. ``mid_price``
    maps each product to the last ``mid_price`` received. Set or delete a level
    O(log n); the consistency check after a diff is O(1).

    ``status(pc).last_update_id`` is not an exchange id (bitFlyer sends none): it
    counts the snapshots installed for the product on the current connection.
    """

    _VERIFICATION = (
        ("periodic snapshot",),
        "board snapshots compared; crossed book and `mid_price` checks",
    )

    _SYMBOL = "product_code"
    _SIDE = "side"
    _PRICE = "price"
    _SIZE = "size"
    _ASK = "asks"
    _BID = "bids"
    _RULE = None

    def _init(self) -> None:
        super()._init()
        #: product_code -> the last ``mid_price`` received (pybotters' attribute)
        self.mid_price: dict[str, float] = {}

    def _install_snapshot(
        self, product_code: str, asks: Iterable[Level], bids: Iterable[Level], number: int
    ) -> bool:
        """Replace the book with a snapshot (the ``number``-th on this connection)."""
        return self._replace(product_code, asks, bids, number)

    def _apply_diff(
        self, product_code: str, asks: list[Level], bids: list[Level], mid: Any
    ) -> bool:
        """Apply one diff, then check the book against it. Returns whether it was applied."""
        if not self._apply(product_code, asks, bids):
            return False
        if self.is_synced(product_code):
            self._check_consistency(product_code, mid)
        return True

    def _check_consistency(self, product_code: str, mid: Any) -> None:
        """Unsynced (until the next snapshot) if the book is crossed or its mid price
        is not the diff's ``mid_price``: a diff was missed or lost a deletion."""
        book = self._books.get(product_code)
        if book is None:
            return
        asks, bids = book
        ask_key, bid_key = asks.first_key(), bids.first_key()
        if ask_key is None or bid_key is None:
            return  # a one-sided book has no mid to compare
        best_ask = float(asks.levels[ask_key][0])
        best_bid = float(bids.levels[bid_key][0])
        if best_bid >= best_ask:
            self._fail(
                product_code,
                "gap",
                f"crossed book: best bid {best_bid!r} >= best ask {best_ask!r} "
                "(a missed deletion); waiting for the next snapshot",
            )
            return
        if mid.__class__ not in (int, float):
            return
        local = (best_bid + best_ask) / 2
        if abs(local - mid) > MID_TOLERANCE * max(1.0, abs(mid)):
            self._fail(
                product_code,
                "checksum",
                f"mid_price {mid!r} but the book's mid is {local!r} (a missed update); "
                "waiting for the next snapshot",
            )
