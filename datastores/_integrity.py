"""Reusable order-book integrity rules: sequence continuity and checksums.

A :class:`SequenceRule` judges each book update against the last applied one
(``follow``) and, for books bootstrapped from a REST snapshot, the first update
after that snapshot (``bridge``). Each returns a :class:`Verdict`:

* ``APPLY``: in sequence, apply it;
* ``STALE``: already covered by what was applied, drop it silently (counted);
* ``GAP``: something is missing: the book is no longer trustworthy.

Checksums: :func:`crc32_interleaved` implements the OKX/Bitget rule.
"""

from __future__ import annotations

import enum
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "BinanceFuturesRule",
    "BinanceSpotRule",
    "BookDelta",
    "KuCoinSpotRule",
    "MonotonicRule",
    "OKXSeqRule",
    "SequenceRule",
    "StrictIncrementRule",
    "Verdict",
    "checksum_string",
    "crc32_interleaved",
    "signed_crc32",
]


class Verdict(enum.Enum):
    """What to do with one book update."""

    APPLY = "apply"
    STALE = "stale"
    GAP = "gap"


@dataclass(slots=True)
class BookDelta:
    """One incremental book update, reduced to what sequence rules need.

    Attributes:
        first_id: first update id covered (Binance ``U``, KuCoin ``sequenceStart``;
            equal to ``last_id`` when the exchange has a single id).
        last_id: last update id covered (Binance ``u``, OKX ``seqId``).
        prev_id: the id the exchange says came before (Binance futures ``pu``,
            OKX ``prevSeqId``); ``None`` when the exchange has none.
        asks, bids: ``[price, size, ...]`` levels with absolute sizes.
        checksum: the exchange's checksum for the book after this update, if any.
        raw: the original message data (kept for recording/debugging).
    """

    first_id: int
    last_id: int
    prev_id: int | None
    asks: Sequence[Sequence[Any]]
    bids: Sequence[Sequence[Any]]
    checksum: int | None = None
    raw: Any = None


class SequenceRule(Protocol):
    """A continuity rule. ``name`` appears in logs and ``status().last_error``."""

    name: str

    def bridge(self, snapshot_id: int, delta: BookDelta) -> Verdict:
        """Judge the first update after a REST snapshot whose id is ``snapshot_id``."""
        ...

    def follow(self, last_id: int, delta: BookDelta) -> Verdict:
        """Judge an update after one whose last id was ``last_id``."""
        ...


class StrictIncrementRule:
    """Each update id is exactly the previous one plus one (Bybit ``orderbook.full``
    ``u``, KuCoin futures ``sequence``). Lower or equal ids are stale."""

    name = "strict +1"

    def bridge(self, snapshot_id: int, delta: BookDelta) -> Verdict:
        return self.follow(snapshot_id, delta)

    def follow(self, last_id: int, delta: BookDelta) -> Verdict:
        if delta.last_id <= last_id:
            return Verdict.STALE
        if delta.first_id == last_id + 1:
            return Verdict.APPLY
        return Verdict.GAP


class BinanceSpotRule(StrictIncrementRule):
    """Binance Spot diff depth.

    Drop ``u <= lastUpdateId``; the first applied event must satisfy
    ``U <= lastUpdateId + 1 <= u``; then ``U == previous u + 1`` (``u < last``
    is stale, ``U > last + 1`` is a gap).
    https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#how-to-manage-a-local-order-book-correctly
    """

    name = "binance-spot U/u"

    def bridge(self, snapshot_id: int, delta: BookDelta) -> Verdict:
        if delta.last_id <= snapshot_id:
            return Verdict.STALE
        if delta.first_id <= snapshot_id + 1 <= delta.last_id:
            return Verdict.APPLY
        return Verdict.GAP

    # follow() is StrictIncrementRule's: U == last u + 1. U > last + 1 skips updates;
    # U <= last < u overlaps, which the doc never produces on a healthy stream: a gap too.


class BinanceFuturesRule:
    """Binance USDⓈ-M / COIN-M diff depth.

    Drop ``u < lastUpdateId``; the first applied event must satisfy
    ``U <= lastUpdateId <= u``; then each event's ``pu`` must equal the previous ``u``.
    https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/How-to-manage-a-local-order-book-correctly
    """

    name = "binance-futures pu/u"

    def bridge(self, snapshot_id: int, delta: BookDelta) -> Verdict:
        if delta.last_id < snapshot_id:
            return Verdict.STALE
        if delta.first_id <= snapshot_id <= delta.last_id:
            return Verdict.APPLY
        return Verdict.GAP

    def follow(self, last_id: int, delta: BookDelta) -> Verdict:
        if delta.prev_id == last_id:
            return Verdict.APPLY
        if delta.last_id <= last_id:
            return Verdict.STALE
        return Verdict.GAP


class OKXSeqRule:
    """OKX ``seqId``/``prevSeqId``.

    Each update's ``prevSeqId`` equals the previous ``seqId``. An empty update
    with ``seqId == prevSeqId`` is a keep-alive; after maintenance ``seqId`` may
    be lower than ``prevSeqId`` and sequencing continues from it. Bridging a
    REST snapshot: drop ``seqId <= snapshot seqId``; the first applied update
    must satisfy ``prevSeqId <= snapshot seqId < seqId``.
    https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
    """

    name = "okx prevSeqId/seqId"

    def bridge(self, snapshot_id: int, delta: BookDelta) -> Verdict:
        if delta.last_id <= snapshot_id:
            return Verdict.STALE
        prev = delta.prev_id if delta.prev_id is not None else delta.last_id
        if prev <= snapshot_id < delta.last_id:
            return Verdict.APPLY
        return Verdict.GAP

    def follow(self, last_id: int, delta: BookDelta) -> Verdict:
        if delta.prev_id == last_id:
            return Verdict.APPLY
        if delta.prev_id is not None and delta.prev_id < last_id and delta.last_id <= last_id:
            # An update we already applied (e.g. replayed after a snapshot).
            return Verdict.STALE
        return Verdict.GAP


class KuCoinSpotRule:
    """KuCoin spot level2: ``sequenceStart <= previous sequenceEnd + 1`` and
    ``sequenceEnd > previous sequenceEnd``; the snapshot's ``sequence`` acts as the
    previous end."""

    name = "kucoin sequenceStart/End"

    def bridge(self, snapshot_id: int, delta: BookDelta) -> Verdict:
        return self.follow(snapshot_id, delta)

    def follow(self, last_id: int, delta: BookDelta) -> Verdict:
        if delta.last_id <= last_id:
            return Verdict.STALE
        if delta.first_id <= last_id + 1:
            return Verdict.APPLY
        return Verdict.GAP


class MonotonicRule:
    """Ids only increase, with no contiguity to check (Phemex ``sequence``: one
    counter shared by every channel of a connection). A higher id applies, an id
    at or below the last one is stale (a duplicate, or older than the snapshot).
    Such a rule can never see a gap: the exchange's periodic snapshots are the
    only check (see ``datastores/exchanges/phemex/_book.py``)."""

    name = "monotonic"

    def bridge(self, snapshot_id: int, delta: BookDelta) -> Verdict:
        return self.follow(snapshot_id, delta)

    def follow(self, last_id: int, delta: BookDelta) -> Verdict:
        return Verdict.APPLY if delta.last_id > last_id else Verdict.STALE


def signed_crc32(text: str) -> int:
    """CRC32 of ``text`` (UTF-8) as a signed 32-bit integer."""
    value = zlib.crc32(text.encode())
    return value - (1 << 32) if value >= (1 << 31) else value


def checksum_string(
    bids: Sequence[Sequence[Any]], asks: Sequence[Sequence[Any]], depth: int = 25
) -> str:
    """``bid1px:bid1sz:ask1px:ask1sz:...`` over the best ``depth`` levels of each side.

    Levels are ``(price, size)`` strings exactly as the exchange sent them, best
    first. When one side is shorter, the other side's remaining levels follow.
    """
    parts: list[str] = []
    for i in range(depth):
        if i < len(bids):
            parts.append(f"{bids[i][0]}:{bids[i][1]}")
        if i < len(asks):
            parts.append(f"{asks[i][0]}:{asks[i][1]}")
    return ":".join(parts)


def crc32_interleaved(
    bids: Sequence[Sequence[Any]], asks: Sequence[Sequence[Any]], depth: int = 25
) -> int:
    """The OKX / Bitget book checksum (signed CRC32 of :func:`checksum_string`)."""
    return signed_crc32(checksum_string(bids, asks, depth))
