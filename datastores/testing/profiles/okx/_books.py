"""OKX order-book payloads for the fake OKX venues: depth windows, seqIds, checksums.

Rules (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel):

* a level is ``[px, sz, "0", numOrders]``; size ``"0"`` deletes it;
* ``books``/``books-l2-tbt`` publish the best 400 levels per side,
  ``books50-l2-tbt`` the best 50: a snapshot (``action: snapshot``,
  ``prevSeqId: -1``) then updates whose ``prevSeqId`` is the previous
  message's ``seqId``;
* ``checksum`` is the signed CRC32 of the best 25 levels interleaved
  ``bidPx:bidSz:askPx:askSz:...`` (the longer side's extra levels follow),
  over the strings exactly as sent. OKX announced in 2026 that the field
  returns 0 and that the WS snapshot goes away (https://www.okx.com/docs-v5/log_en);
  :class:`BookWindow` emulates both behaviours.

Computed here with :mod:`zlib`, independently of the store's own code.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

from ...market import MarketGenerator, MarketUpdate

__all__ = [
    "BookWindow",
    "book_message",
    "level",
    "market_checksum",
    "okx_checksum",
    "top_levels",
]

#: levels per side in the checksum string
CHECKSUM_DEPTH = 25


def level(price: str, size: str) -> list[str]:
    """One OKX level ``[px, sz, "0", numOrders]``; a deletion is ``[px, "0", "0", "0"]``.

    The order count is a deterministic function of the size, so a REST
    snapshot and a WebSocket update agree on it.
    """
    if not size.strip("0."):
        return [price, "0", "0", "0"]
    digits = size.replace(".", "").lstrip("0") or "0"
    return [price, size, "0", str(1 + int(digits[-6:]) % 9)]


def top_levels(market: MarketGenerator, depth: int) -> tuple[list[list[str]], list[list[str]]]:
    """``(asks, bids)`` best first, at most ``depth`` each, as OKX levels. O(depth)."""
    asks = [level(p, s) for p, s in market.levels("ask", depth)]
    bids = [level(p, s) for p, s in market.levels("bid", depth)]
    return asks, bids


def _signed(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def okx_checksum(asks: Sequence[Sequence[str]], bids: Sequence[Sequence[str]]) -> int:
    """The OKX book checksum of best-first ``asks``/``bids`` (signed 32-bit)."""
    parts: list[str] = []
    for index in range(CHECKSUM_DEPTH):
        if index < len(bids):
            parts.append(f"{bids[index][0]}:{bids[index][1]}")
        if index < len(asks):
            parts.append(f"{asks[index][0]}:{asks[index][1]}")
    return _signed(zlib.crc32(":".join(parts).encode()))


def market_checksum(market: MarketGenerator) -> int:
    """The checksum of ``market``'s current book."""
    asks, bids = top_levels(market, CHECKSUM_DEPTH)
    return okx_checksum(asks, bids)


class BookWindow:
    """What OKX shows of one instrument's book at one depth (400 or 50 levels).

    The fake's book is deeper than the channel. An update carries every level
    change inside the old or the new window, and the levels that *enter* the
    window because better ones left (a client trimming to the depth must learn
    them). Levels pushed out of the window by better ones get no message (OKX
    does not document whether it deletes them; a client must keep only the
    channel's depth either way). ``seq`` is the ``seqId`` of the last message of
    this window (the next update's ``prevSeqId``).
    """

    __slots__ = ("asks", "bids", "depth", "seq")

    def __init__(self, market: MarketGenerator, depth: int, seq: int) -> None:
        self.depth = depth
        self.asks = dict(market.levels("ask", depth))
        self.bids = dict(market.levels("bid", depth))
        self.seq = seq

    def advance(
        self, market: MarketGenerator, update: MarketUpdate
    ) -> tuple[list[list[str]], list[list[str]]]:
        """Apply ``update`` (already applied to ``market``); the ``(asks, bids)`` to send.

        O(depth) per call.
        """
        out: list[list[list[str]]] = []
        for side, changes, old in (
            ("ask", update.asks, self.asks),
            ("bid", update.bids, self.bids),
        ):
            new = dict(market.levels(side, self.depth))  # type: ignore[arg-type]
            changed = dict(changes)
            sent = [level(p, s) for p, s in changes if p in old or p in new]
            sent += [level(p, s) for p, s in new.items() if p not in old and p not in changed]
            out.append(sent)
            if side == "ask":
                self.asks = new
            else:
                self.bids = new
        return out[0], out[1]


def book_message(
    channel: str,
    inst: str,
    action: str,
    asks: list[list[str]],
    bids: list[list[str]],
    *,
    ts: int,
    checksum: int,
    prev: int,
    seq: int,
) -> dict[str, Any]:
    """One ``books``-family push."""
    return {
        "arg": {"channel": channel, "instId": inst},
        "action": action,
        "data": [
            {
                "asks": asks,
                "bids": bids,
                "ts": str(ts),
                "checksum": checksum,
                "prevSeqId": prev,
                "seqId": seq,
            }
        ],
    }
