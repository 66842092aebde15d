"""Sequence rules and checksums, with hand-built updates and documented examples."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datastores._integrity import (
    BinanceFuturesRule,
    BinanceSpotRule,
    BookDelta,
    KuCoinSpotRule,
    OKXSeqRule,
    StrictIncrementRule,
    Verdict,
    checksum_string,
    crc32_interleaved,
    signed_crc32,
)

A, S, G = Verdict.APPLY, Verdict.STALE, Verdict.GAP


def d(first: int, last: int, prev: int | None = None) -> BookDelta:
    return BookDelta(first, last, prev, [], [])


# Binance spot, with the documented example ids: snapshot lastUpdateId 1027024 and the
# diff {"U":1027025,"u":1027027} from
# https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#diff-depth-stream
@pytest.mark.parametrize(
    ("snapshot", "delta", "verdict"),
    [
        (1027024, d(1027025, 1027027), A),
        (1027024, d(1027020, 1027024), S),  # u <= lastUpdateId
        (1027024, d(1027020, 1027030), A),  # U <= L+1 <= u
        (1027024, d(1027026, 1027030), G),  # L+1 < U: the snapshot is too old
    ],
)
def test_binance_spot_bridge(snapshot: int, delta: BookDelta, verdict: Verdict) -> None:
    assert BinanceSpotRule().bridge(snapshot, delta) is verdict


@pytest.mark.parametrize(
    ("last", "delta", "verdict"),
    [(100, d(101, 105), A), (100, d(90, 100), S), (100, d(102, 105), G), (100, d(99, 105), G)],
)
def test_binance_spot_follow(last: int, delta: BookDelta, verdict: Verdict) -> None:
    assert BinanceSpotRule().follow(last, delta) is verdict


# Binance futures example ids (U 5000, u 5003, pu 4999) from exchanges.md / the futures
# "How to manage a local order book correctly" page.
@pytest.mark.parametrize(
    ("snapshot", "delta", "verdict"),
    [
        (5001, d(5000, 5003, 4999), A),  # U <= L <= u
        (5003, d(5000, 5003, 4999), A),
        (5004, d(5000, 5003, 4999), S),  # u < L
        (4998, d(5000, 5003, 4999), G),
    ],
)
def test_binance_futures_bridge(snapshot: int, delta: BookDelta, verdict: Verdict) -> None:
    assert BinanceFuturesRule().bridge(snapshot, delta) is verdict


@pytest.mark.parametrize(
    ("last", "delta", "verdict"),
    [
        (5003, d(5004, 5010, 5003), A),
        (5003, d(5004, 5010, 5002), G),
        (5003, d(4990, 5001, 4989), S),
    ],
)
def test_binance_futures_follow(last: int, delta: BookDelta, verdict: Verdict) -> None:
    assert BinanceFuturesRule().follow(last, delta) is verdict


def test_okx_follow_normal_keepalive_reset_and_gap() -> None:
    rule = OKXSeqRule()
    assert rule.follow(1000, d(1004, 1004, 1000)) is A  # normal
    assert rule.follow(1004, d(1004, 1004, 1004)) is A  # empty keep-alive: seqId == prevSeqId
    assert rule.follow(1004, d(3, 3, 1004)) is A  # reset after maintenance: seqId < prevSeqId
    assert rule.follow(1004, d(1010, 1010, 1006)) is G
    assert rule.follow(1004, d(1002, 1002, 1000)) is S


def test_okx_bridge_rest_snapshot() -> None:
    rule = OKXSeqRule()
    assert rule.bridge(1000, d(999, 999, 990)) is S
    assert rule.bridge(1000, d(1003, 1003, 998)) is A  # prevSeqId <= snapshot < seqId
    assert rule.bridge(1000, d(1003, 1003, 1001)) is G


def test_strict_and_kucoin_rules() -> None:
    assert StrictIncrementRule().follow(7, d(8, 8)) is A
    assert StrictIncrementRule().follow(7, d(9, 9)) is G
    assert StrictIncrementRule().follow(7, d(7, 7)) is S
    assert KuCoinSpotRule().follow(100, d(95, 110)) is A
    assert KuCoinSpotRule().follow(100, d(102, 110)) is G
    assert KuCoinSpotRule().follow(100, d(90, 100)) is S


def test_signed_crc32_matches_the_standard_check_value() -> None:
    # CRC-32 of "123456789" is 0xCBF43926, i.e. -873187034 as a signed 32-bit int.
    assert signed_crc32("123456789") == 0xCBF43926 - (1 << 32)
    assert signed_crc32("") == 0


def test_checksum_string_interleaves_and_appends_the_longer_side() -> None:
    bids = [["3366.1", "7"], ["3366", "6"], ["3365", "1"]]
    asks = [["3366.8", "9"]]
    assert checksum_string(bids, asks) == "3366.1:7:3366.8:9:3366:6:3365:1"
    assert crc32_interleaved(bids, asks) == signed_crc32("3366.1:7:3366.8:9:3366:6:3365:1")


@given(
    st.lists(st.tuples(st.decimals("0.1", "1000", places=2).map(str), st.just("1")), max_size=40),
    st.lists(st.tuples(st.decimals("0.1", "1000", places=2).map(str), st.just("2")), max_size=40),
)
def test_checksum_uses_at_most_25_levels_per_side(
    bids: list[tuple[str, str]], asks: list[tuple[str, str]]
) -> None:
    text = checksum_string(bids, asks)
    parts = text.split(":") if text else []
    assert len(parts) == 2 * (min(len(bids), 25) + min(len(asks), 25))


# ------------------------------------- the stale-snapshot rule in the core state machine


def _sequenced_book(refetch_stale: bool) -> object:
    from typing import ClassVar

    from datastores._integrity import BinanceSpotRule, SequenceRule
    from datastores._orderbook import OrderBookStore

    class Book(OrderBookStore):
        _RULE: ClassVar[SequenceRule | None] = BinanceSpotRule()
        _REFETCH_STALE_SNAPSHOT = refetch_stale

    return Book("book")


def test_a_snapshot_older_than_the_buffered_stream_is_fetched_again_not_a_gap() -> None:
    book: Any = _sequenced_book(refetch_stale=True)
    asked: list[str] = []
    book.resync_hook = asked.append
    book._on_delta("X", BookDelta(120, 150, None, [], [["1.0", "1"]]))
    assert asked == ["X"]  # the first delta asks for a snapshot
    # The snapshot (50) is older than the buffered stream (120..150): fetch again.
    assert not book._on_snapshot("X", 50, [], [["1.0", "5"]])
    status = book.status("X")
    assert (status.synced, status.gaps, status.resyncs, status.buffered) == (False, 0, 2, 1)
    assert status.last_error is not None
    assert status.last_error.startswith("stale snapshot")
    assert asked == ["X", "X"]
    # The next snapshot bridges the kept delta.
    assert book._on_snapshot("X", 130, [], [["1.0", "5"]])
    status = book.status("X")
    assert (status.synced, status.gaps, status.last_update_id) == (True, 0, 150)
    assert book.levels("X")[1] == [["1.0", "1"]]
    book._check()


def test_without_the_rule_a_snapshot_the_stream_does_not_bridge_is_a_gap() -> None:
    book: Any = _sequenced_book(refetch_stale=False)
    book.resync_hook = lambda symbol: None
    book._on_delta("X", BookDelta(120, 150, None, [], [["1.0", "1"]]))
    assert not book._on_snapshot("X", 50, [], [["1.0", "5"]])
    assert book.status("X").gaps == 1


def _windowed_book(window: int) -> Any:
    from typing import ClassVar

    from datastores._integrity import SequenceRule
    from datastores._orderbook import OrderBookStore

    class Book(OrderBookStore):
        _RULE: ClassVar[SequenceRule | None] = OKXSeqRule()
        _STALE_WINDOW = window

    return Book("book")


def test_with_a_stale_window_only_an_applied_update_is_stale_the_rest_a_gap() -> None:
    book: Any = _windowed_book(2)
    asked: list[str] = []
    book.resync_hook = asked.append
    book._replace("X", [], [["1.0", "1"]], 100)
    assert book._on_delta("X", BookDelta(101, 101, 100, [], [["1.0", "2"]]))
    assert book._on_delta("X", BookDelta(104, 104, 101, [], [["1.0", "3"]]))
    # a replay of an update within the window: stale, dropped
    assert not book._on_delta("X", BookDelta(101, 101, 100, [], [["1.0", "9"]]))
    assert (book.status("X").stale, book.status("X").synced) == (1, True)
    # the snapshot's id left the window (2): below the last id yet not recent: a gap
    assert not book._on_delta("X", BookDelta(100, 100, 99, [], [["1.0", "9"]]))
    status = book.status("X")
    assert (status.synced, status.gaps, status.stale) == (False, 1, 1)
    assert status.last_error is not None
    assert "never applied" in status.last_error
    assert asked == ["X"]


def test_without_a_stale_window_an_update_below_the_last_id_is_stale() -> None:
    book: Any = _windowed_book(0)
    book._replace("X", [], [["1.0", "1"]], 100)
    assert book._on_delta("X", BookDelta(101, 101, 100, [], [["1.0", "2"]]))
    assert not book._on_delta("X", BookDelta(6, 6, 5, [], [["1.0", "9"]]))
    status = book.status("X")
    assert (status.synced, status.gaps, status.stale) == (True, 0, 1)
