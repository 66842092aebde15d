"""Binance order books: the documented sync procedure, gaps, stale data, reconnects,
partial depth, malformed input, and random streams checked against the exchange's
true book. No network: the resync hook is observed, not run."""

from __future__ import annotations

import itertools
import logging
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datastores.exchanges.binance.store import (
    BinanceCOINMDataStore,
    BinanceSpotDataStore,
    BinanceUSDSMDataStore,
)


class FakeWs:
    """Stands in for a WebSocket connection: handlers only read ``url``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.closed = False


def spot_diff(
    first: int, last: int, bids: Any = (), asks: Any = (), symbol: str = "BNBBTC"
) -> dict:
    return {
        "e": "depthUpdate",
        "E": 1,
        "s": symbol,
        "U": first,
        "u": last,
        "b": [list(b) for b in bids],
        "a": [list(a) for a in asks],
    }


def fut_diff(
    first: int, last: int, prev: int, bids: Any = (), asks: Any = (), symbol: str = "BTCUSDT"
) -> dict:
    return {
        "e": "depthUpdate",
        "E": 1,
        "T": 1,
        "s": symbol,
        "U": first,
        "u": last,
        "pu": prev,
        "b": [list(b) for b in bids],
        "a": [list(a) for a in asks],
    }


def snapshot(last_id: int, bids: Any = (), asks: Any = ()) -> dict:
    return {
        "lastUpdateId": last_id,
        "bids": [list(b) for b in bids],
        "asks": [list(a) for a in asks],
    }


def book_of(store: Any, symbol: str) -> tuple[dict[str, str], dict[str, str]]:
    levels = store.orderbook.sorted({"s": symbol})
    return (
        {i["p"]: i["q"] for i in levels["a"]},
        {i["p"]: i["q"] for i in levels["b"]},
    )


def hooked(store: Any) -> list[str]:
    """Replace the resync hook by a recorder (no client, no tasks)."""
    calls: list[str] = []
    store.orderbook.resync_hook = calls.append
    return calls


# ------------------------------------------------------------------------ spot


def test_spot_diffs_before_the_snapshot_are_buffered_not_applied() -> None:
    store = BinanceSpotDataStore()
    calls = hooked(store)
    store.onmessage(spot_diff(101, 103, bids=[("1.0", "5")]))
    store.onmessage(spot_diff(104, 104, asks=[("2.0", "1")]))
    status = store.orderbook.status("BNBBTC")
    assert not status.synced
    assert status.buffered == 2
    assert len(store.orderbook) == 0
    assert calls == ["BNBBTC"]  # one snapshot request, not one per diff
    assert store.orderbook.initialized["BNBBTC"] is False


def test_spot_snapshot_drops_stale_buffered_diffs_and_bridges() -> None:
    store = BinanceSpotDataStore()
    hooked(store)
    store.onmessage(spot_diff(90, 95, bids=[("0.5", "1")]))  # u <= 100: stale
    store.onmessage(spot_diff(96, 100, bids=[("0.6", "1")]))  # u <= 100: stale
    store.onmessage(spot_diff(98, 103, bids=[("1.0", "7")]))  # U <= 101 <= u: bridges
    store.onmessage(spot_diff(104, 105, asks=[("2.0", "0")]))
    synced = store.orderbook._on_depth_snapshot(
        "BNBBTC", snapshot(100, bids=[("1.0", "5")], asks=[("2.0", "3"), ("2.1", "4")])
    )
    assert synced
    status = store.orderbook.status("BNBBTC")
    assert status.synced
    assert status.last_update_id == 105
    assert status.stale == 2
    assert status.gaps == 0
    assert status.buffered == 0
    assert book_of(store, "BNBBTC") == ({"2.1": "4"}, {"1.0": "7"})
    store.orderbook._check()
    # Live diffs continue by U == last u + 1; nothing applied is kept afterwards.
    store.onmessage(spot_diff(106, 106, asks=[("2.2", "1")]))
    assert store.orderbook.status("BNBBTC").buffered == 0
    assert book_of(store, "BNBBTC")[0] == {"2.1": "4", "2.2": "1"}


def test_spot_live_stale_diff_is_dropped_and_counted() -> None:
    store = BinanceSpotDataStore()
    hooked(store)
    store.orderbook._on_depth_snapshot("BNBBTC", snapshot(100, bids=[("1.0", "5")]))
    store.onmessage(spot_diff(101, 102, bids=[("1.0", "6")]))
    store.onmessage(spot_diff(101, 102, bids=[("1.0", "99")]))  # replayed: u <= last
    status = store.orderbook.status("BNBBTC")
    assert status.synced
    assert status.stale == 1
    assert status.gaps == 0
    assert book_of(store, "BNBBTC")[1] == {"1.0": "6"}


def test_spot_diff_with_an_overstated_u_cannot_freeze_a_synced_book() -> None:
    # Issue 15 point 9: one diff whose u is overstated (in sequence by U) made every later
    # real diff "stale" (u <= the overstated u) while status() stayed synced forever.
    store = BinanceSpotDataStore()
    calls = hooked(store)
    store.orderbook._on_depth_snapshot("BNBBTC", snapshot(100, bids=[("1.0", "5")]))
    store.onmessage(spot_diff(101, 102, bids=[("1.0", "6")]))
    store.onmessage(spot_diff(103, 10**15, bids=[("1.0", "7")]))  # u overstated
    store.onmessage(spot_diff(104, 105, bids=[("1.0", "8")]))  # the real next diff
    status = store.orderbook.status("BNBBTC")
    assert not status.synced
    assert status.gaps == 1
    assert calls == ["BNBBTC"]
    # A true replay of a diff the book applied is still only stale.
    store.orderbook._on_depth_snapshot("BNBBTC", snapshot(200, bids=[("1.0", "5")]))
    store.onmessage(spot_diff(201, 202, bids=[("1.0", "6")]))
    stale = store.orderbook.status("BNBBTC").stale
    store.onmessage(spot_diff(201, 202, bids=[("1.0", "6")]))
    status = store.orderbook.status("BNBBTC")
    assert (status.synced, status.gaps, status.stale) == (True, 1, stale + 1)


@pytest.mark.parametrize("cls", [BinanceUSDSMDataStore, BinanceCOINMDataStore])
def test_futures_diff_with_an_overstated_u_cannot_freeze_a_synced_book(cls: type) -> None:
    store = cls()
    calls = hooked(store)
    store.orderbook._on_depth_snapshot("BTCUSDT", snapshot(100, bids=[("1.0", "5")]))
    store.onmessage(fut_diff(95, 104, 99))
    store.onmessage(fut_diff(105, 10**15, 104))  # u overstated (pu in sequence)
    store.onmessage(fut_diff(106, 110, 105))  # the real next diff: u < the overstated u
    status = store.orderbook.status("BTCUSDT")
    assert not status.synced
    assert status.gaps == 1
    assert calls == ["BTCUSDT"]


def test_spot_gap_is_detected_counted_and_requests_a_snapshot() -> None:
    store = BinanceSpotDataStore()
    calls = hooked(store)
    store.orderbook._on_depth_snapshot("BNBBTC", snapshot(100, bids=[("1.0", "5")]))
    store.onmessage(spot_diff(101, 105))
    assert calls == []
    store.onmessage(spot_diff(107, 110, bids=[("1.0", "1")]))  # 106 is missing
    status = store.orderbook.status("BNBBTC")
    assert not status.synced
    assert status.gaps == 1
    assert status.resyncs == 1
    assert status.last_error is not None
    assert status.last_error.startswith("gap")
    assert calls == ["BNBBTC"]
    assert book_of(store, "BNBBTC")[1] == {"1.0": "5"}  # the gapped diff was not applied
    # Later diffs wait for the snapshot; a fresh snapshot resyncs from the buffer.
    store.onmessage(spot_diff(111, 112, bids=[("1.0", "2")]))
    assert store.orderbook.status("BNBBTC").buffered == 2
    assert store.orderbook._on_depth_snapshot("BNBBTC", snapshot(110, bids=[("1.0", "1")]))
    assert book_of(store, "BNBBTC")[1] == {"1.0": "2"}
    assert store.orderbook.status("BNBBTC").last_update_id == 112


def test_spot_overlapping_diff_is_a_gap() -> None:
    # U <= last < u but U != last + 1: the documented stream never does this.
    store = BinanceSpotDataStore()
    hooked(store)
    store.orderbook._on_depth_snapshot("BNBBTC", snapshot(100))
    store.onmessage(spot_diff(101, 105))
    store.onmessage(spot_diff(104, 108))
    assert store.orderbook.status("BNBBTC").gaps == 1


def test_snapshot_older_than_the_stream_is_refetched_without_counting_a_gap() -> None:
    store = BinanceSpotDataStore()
    calls = hooked(store)
    store.onmessage(spot_diff(120, 125, bids=[("1.0", "9")]))
    store.onmessage(spot_diff(126, 126, bids=[("1.1", "1")]))
    # lastUpdateId 100 < first U - 1: the snapshot predates every buffered diff.
    assert not store.orderbook._on_depth_snapshot("BNBBTC", snapshot(100, bids=[("1.0", "5")]))
    status = store.orderbook.status("BNBBTC")
    assert not status.synced
    assert status.gaps == 0
    assert status.buffered == 2  # kept for the next snapshot
    assert status.last_error is not None
    assert status.last_error.startswith("stale snapshot")
    assert calls == ["BNBBTC", "BNBBTC"]  # the first diff, then the stale snapshot
    assert store.orderbook._on_depth_snapshot("BNBBTC", snapshot(122, bids=[("1.0", "8")]))
    assert book_of(store, "BNBBTC")[1] == {"1.0": "9", "1.1": "1"}
    assert store.orderbook.status("BNBBTC").gaps == 0


def test_snapshot_older_than_a_synced_book_is_ignored() -> None:
    store = BinanceSpotDataStore()
    hooked(store)
    store.orderbook._on_depth_snapshot("BNBBTC", snapshot(100, bids=[("1.0", "5")]))
    store.onmessage(spot_diff(101, 110, bids=[("1.0", "6")]))
    assert store.orderbook._on_depth_snapshot("BNBBTC", snapshot(105, bids=[("1.0", "1")]))
    assert book_of(store, "BNBBTC")[1] == {"1.0": "6"}
    assert store.orderbook.status("BNBBTC").last_update_id == 110


def test_snapshot_first_then_a_diff_that_does_not_bridge_is_a_stale_snapshot() -> None:
    # The user called initialize() before connecting: the stream starts later.
    store = BinanceSpotDataStore()
    calls = hooked(store)
    store.orderbook._on_depth_snapshot("BNBBTC", snapshot(100, bids=[("1.0", "5")]))
    assert store.orderbook.status("BNBBTC").synced
    store.onmessage(spot_diff(150, 151))
    status = store.orderbook.status("BNBBTC")
    assert not status.synced
    assert status.gaps == 0
    assert status.buffered == 1
    assert calls == ["BNBBTC"]


def test_buffer_is_bounded_while_waiting_for_a_snapshot() -> None:
    store = BinanceSpotDataStore()
    hooked(store)
    store.orderbook._BUFFER_MAX = 5  # type: ignore[misc]
    for i in range(20):
        store.onmessage(spot_diff(100 + i, 100 + i))
    status = store.orderbook.status("BNBBTC")
    assert status.buffered == 5
    assert status.last_error is not None
    assert "overflow" in status.last_error
    # The oldest diffs were dropped: an old snapshot cannot bridge, a recent one can.
    assert not store.orderbook._on_depth_snapshot("BNBBTC", snapshot(100))
    assert store.orderbook._on_depth_snapshot("BNBBTC", snapshot(116))
    assert store.orderbook.status("BNBBTC").last_update_id == 119


# ---------------------------------------------------------------------- futures


@pytest.mark.parametrize("cls", [BinanceUSDSMDataStore, BinanceCOINMDataStore])
def test_futures_bridge_and_pu_continuity(cls: type) -> None:
    store = cls()
    hooked(store)
    store.onmessage(fut_diff(80, 99, 79, bids=[("1.0", "1")]))  # u < 100: stale
    store.onmessage(fut_diff(95, 104, 99, bids=[("1.0", "3")]))  # U <= 100 <= u
    store.onmessage(fut_diff(105, 110, 104, asks=[("2.0", "2")]))
    assert store.orderbook._on_depth_snapshot("BTCUSDT", snapshot(100, bids=[("1.0", "2")]))
    status = store.orderbook.status("BTCUSDT")
    assert status.synced
    assert status.last_update_id == 110
    assert status.stale == 1
    assert book_of(store, "BTCUSDT") == ({"2.0": "2"}, {"1.0": "3"})
    # pu == last u applies even when U is not last + 1 (futures ids are not dense).
    store.onmessage(fut_diff(130, 140, 110, bids=[("1.5", "1")]))
    assert store.orderbook.status("BTCUSDT").last_update_id == 140
    store.onmessage(fut_diff(150, 160, 145))  # pu != 140: gap
    status = store.orderbook.status("BTCUSDT")
    assert not status.synced
    assert status.gaps == 1
    store.orderbook._check()


def test_futures_bridge_needs_u_at_least_snapshot_id() -> None:
    # Futures drop u < lastUpdateId (spot drops u <= lastUpdateId).
    store = BinanceUSDSMDataStore()
    hooked(store)
    store.onmessage(fut_diff(90, 100, 89, bids=[("1.0", "4")]))
    assert store.orderbook._on_depth_snapshot("BTCUSDT", snapshot(100, bids=[("1.0", "2")]))
    assert store.orderbook.status("BTCUSDT").stale == 0
    assert book_of(store, "BTCUSDT")[1] == {"1.0": "4"}


def test_futures_stale_snapshot_is_not_a_gap() -> None:
    store = BinanceUSDSMDataStore()
    hooked(store)
    store.onmessage(fut_diff(200, 210, 199))
    assert not store.orderbook._on_depth_snapshot("BTCUSDT", snapshot(150))
    status = store.orderbook.status("BTCUSDT")
    assert status.gaps == 0
    assert status.buffered == 1
    assert not status.synced


# ------------------------------------------------------------ reconnect, partial


def test_reconnect_invalidates_books_without_counting_gaps() -> None:
    store = BinanceSpotDataStore()
    calls = hooked(store)
    market = FakeWs("wss://stream.binance.com:9443/stream?streams=bnbbtc@depth@100ms")
    store.orderbook._on_depth_snapshot("BNBBTC", snapshot(100, bids=[("1.0", "5")]))
    store.onmessage(spot_diff(101, 102), market)
    before = store.orderbook.status("BNBBTC")
    # A reconnect of another connection (user data) leaves the books alone.
    store.on_reconnect(FakeWs("wss://ws-api.binance.com:443/ws-api/v3"))
    assert store.orderbook.status("BNBBTC").synced
    store.on_reconnect(market)
    status = store.orderbook.status("BNBBTC")
    assert not status.synced
    assert status.gaps == before.gaps == 0
    assert status.resyncs == before.resyncs + 1
    assert calls == ["BNBBTC"]
    # Diffs of the new connection are buffered for the new snapshot.
    store.onmessage(spot_diff(500, 501, bids=[("1.0", "1")]), market)
    assert store.orderbook.status("BNBBTC").buffered == 1
    assert store.orderbook._on_depth_snapshot("BNBBTC", snapshot(500))
    assert book_of(store, "BNBBTC")[1] == {"1.0": "1"}


def test_reconnect_without_a_connection_object_invalidates_everything() -> None:
    store = BinanceUSDSMDataStore()
    hooked(store)
    store.orderbook._on_depth_snapshot("BTCUSDT", snapshot(100))
    store.onmessage(
        {"stream": "ethusdt@depth5", "data": fut_diff(1, 2, 0, bids=[("3", "1")], symbol="ETHUSDT")}
    )
    store.on_reconnect(None)
    assert not store.orderbook.status("BTCUSDT").synced
    assert not store.partialbook.status("ETHUSDT").synced


def test_spot_partial_depth_on_a_raw_connection_uses_the_url() -> None:
    store = BinanceSpotDataStore()
    ws = FakeWs("wss://stream.binance.com:9443/ws/bnbbtc@depth5@100ms")
    store.onmessage(
        {"lastUpdateId": 160, "bids": [["0.0024", "10"]], "asks": [["0.0026", "100"]]}, ws
    )
    store.onmessage({"lastUpdateId": 161, "bids": [["0.0023", "1"]], "asks": [["0.0026", "5"]]}, ws)
    levels = store.partialbook.sorted({"s": "BNBBTC"})
    assert levels == {
        "a": [{"s": "BNBBTC", "S": "a", "p": "0.0026", "q": "5"}],
        "b": [{"s": "BNBBTC", "S": "b", "p": "0.0023", "q": "1"}],
    }
    assert store.partialbook.status("BNBBTC").last_update_id == 161
    assert len(store.orderbook) == 0
    # Without a stream name there is no symbol: counted, not guessed.
    store.onmessage({"lastUpdateId": 1, "bids": [], "asks": []}, FakeWs("wss://x/ws"))
    assert store.unhandled == {"<partial depth without a stream name>": 1}


def test_futures_partial_depth_on_a_raw_connection_is_not_a_diff() -> None:
    store = BinanceUSDSMDataStore()
    hooked(store)
    ws = FakeWs("wss://fstream.binance.com/public/ws/btcusdt@depth10@100ms")
    store.onmessage(fut_diff(1, 10, 0, bids=[("9", "1"), ("8", "1")]), ws)
    store.onmessage(fut_diff(11, 20, 10, bids=[("9", "2")]), ws)
    assert book_of(store, "BTCUSDT") == ({}, {})
    assert store.partialbook.levels("BTCUSDT") == ([], [["9", "2"]])
    # The same payload on a diff connection is a diff.
    diff_ws = FakeWs("wss://fstream.binance.com/public/ws/btcusdt@depth@100ms")
    store.onmessage(fut_diff(21, 30, 20, bids=[("9", "3")]), diff_ws)
    assert store.orderbook.status("BTCUSDT").buffered == 1


# ------------------------------------------------------------------ malformed


def test_malformed_depth_update_is_dropped_counted_and_book_stays_consistent() -> None:
    store = BinanceSpotDataStore()
    calls = hooked(store)
    store.orderbook._on_depth_snapshot(
        "BNBBTC", snapshot(100, bids=[("1.0", "5")], asks=[("2", "1")])
    )
    store.onmessage(spot_diff(101, 101, bids=[("1.1", "1")]))
    good = book_of(store, "BNBBTC")
    bad_ids = spot_diff(102, 102, bids=[("1.2", "1")])
    bad_ids["U"] = "102"
    store.onmessage(bad_ids)
    assert store.handler_errors == 1
    status = store.orderbook.status("BNBBTC")
    assert not status.synced
    assert status.errors == 1
    assert status.gaps == 0
    assert book_of(store, "BNBBTC") == good
    assert calls == ["BNBBTC"]
    store.orderbook._check()


def test_malformed_level_is_recorded_and_the_book_checks() -> None:
    store = BinanceUSDSMDataStore()
    hooked(store)
    store.orderbook._on_depth_snapshot("BTCUSDT", snapshot(100, bids=[("1.0", "5")]))
    store.onmessage(fut_diff(95, 102, 94, bids=[("1.5", "2"), ("abc", "1")]))
    status = store.orderbook.status("BTCUSDT")
    assert not status.synced
    assert status.errors == 1
    assert store.handler_errors == 0  # the core caught it
    store.orderbook._check()


@pytest.mark.parametrize("watched", [False, True])
@pytest.mark.parametrize(
    "bad",
    [
        {"b": [["1.5", "2"], ["abc", "1"]]},
        {"a": [["3", "1"]], "b": [["x", "1"]]},
        {"a": {}},
        {"b": "levels"},
    ],
)
def test_a_synced_futures_book_refuses_a_malformed_in_sequence_diff(
    bad: dict[str, Any], watched: bool
) -> None:
    """The in-sequence path (inlined for a plain book, OrderBookStore._apply for a
    watched one): the diff is refused, counted, the count recomputed, the book checks."""
    store = BinanceUSDSMDataStore()
    calls = hooked(store)
    stream = store.orderbook.watch() if watched else None
    store.orderbook._on_depth_snapshot("BTCUSDT", snapshot(100, bids=[("1.0", "5")]))
    store.onmessage(fut_diff(95, 102, 94, asks=[("2", "1")]))
    store.onmessage(fut_diff(103, 105, 102, bids=[("1.1", "1")], asks=[("2", "0")]))
    status = store.orderbook.status("BTCUSDT")
    assert status.synced
    assert status.updates == 3  # the snapshot and two diffs
    assert len(store.orderbook) == 2
    message = fut_diff(106, 107, 105)
    message.update(bad)
    store.onmessage(message)
    status = store.orderbook.status("BTCUSDT")
    assert not status.synced
    assert status.errors == 1
    assert store.handler_errors == 0  # the core caught it
    assert calls == ["BTCUSDT"]
    assert len(store.orderbook) == len(store.orderbook.find())
    store.orderbook._check()
    if stream is not None:
        stream.close()


def test_depth_update_missing_fields_clears_the_buffer() -> None:
    store = BinanceSpotDataStore()
    hooked(store)
    store.onmessage(spot_diff(101, 101))
    broken = spot_diff(102, 102)
    del broken["a"]
    store.onmessage(broken)
    assert store.handler_errors == 1
    status = store.orderbook.status("BNBBTC")
    # The hole cannot be bridged: what was buffered before it is useless.
    assert status.errors == 1
    assert status.buffered == 0


@pytest.mark.parametrize(
    "msg",
    [
        "not json",
        42,
        None,
        [],
        [1, 2],
        {"e": "depthUpdate"},
        {"e": "depthUpdate", "s": None, "U": 1, "u": 1, "a": [], "b": []},
        {"stream": "x", "data": 5},
        {"stream": "x@depth5", "data": {"lastUpdateId": "x", "bids": [], "asks": []}},
        {"subscriptionId": 1, "event": {"e": "executionReport"}},
        {"e": "ACCOUNT_UPDATE"},
        {"e": 5},
    ],
)
def test_garbage_never_raises(msg: Any) -> None:
    for cls in (BinanceSpotDataStore, BinanceUSDSMDataStore, BinanceCOINMDataStore):
        store = cls()
        hooked(store)
        store.onmessage(msg)
        store.orderbook._check()
        store.partialbook._check()


def test_no_client_warns_once_per_episode(caplog: pytest.LogCaptureFixture) -> None:
    """Once until a Client comes, not once per symbol (junk symbols would log one
    WARNING each, issue 15 point 11); every symbol still waits and is counted."""
    store = BinanceSpotDataStore()
    with caplog.at_level(logging.WARNING, logger="datastores.exchanges.binance"):
        for i in range(5):
            store.onmessage(spot_diff(100 + i, 100 + i))
        store.onmessage(spot_diff(1, 1, symbol="ETHBTC"))
    warnings = [r for r in caplog.records if "store.client = client" in r.getMessage()]
    assert len(warnings) == 1
    assert "/api/v3/depth" in warnings[0].getMessage()
    assert "BNBBTC" in warnings[0].getMessage()
    assert not store.orderbook.status("BNBBTC").synced
    assert not store.orderbook.status("ETHBTC").synced
    assert store._recovery.pending == {"BNBBTC", "ETHBTC"}
    assert store._recovery.no_client >= 2


# --------------------------------------------------- random streams vs the truth


class Exchange:
    """The exchange's true book and id sequence, for one symbol."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.id = 1000
        self.asks: dict[str, str] = {}
        self.bids: dict[str, str] = {}
        self.history: list[tuple[int, dict[str, str], dict[str, str]]] = []

    def remember(self) -> None:
        self.history.append((self.id, dict(self.asks), dict(self.bids)))

    def change(self, n_levels: int) -> tuple[list[list[str]], list[list[str]]]:
        asks: list[list[str]] = []
        bids: list[list[str]] = []
        for _ in range(n_levels):
            is_ask = self.rng.random() < 0.5
            offset = self.rng.randint(1, 20)
            price = f"{100 + offset if is_ask else 100 - offset}.0"
            book = self.asks if is_ask else self.bids
            if price in book and self.rng.random() < 0.4:
                size = "0"
                del book[price]
            else:
                size = f"{self.rng.randint(1, 9)}.5"
                book[price] = size
            (asks if is_ask else bids).append([price, size])
        return asks, bids


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    futures=st.booleans(),
    ops=st.lists(
        st.sampled_from(["diff", "diff", "diff", "diff", "lose", "snapshot", "old_snapshot"]),
        min_size=1,
        max_size=60,
    ),
)
def test_random_streams_match_the_exchange_book(seed: int, futures: bool, ops: list[str]) -> None:
    rng = random.Random(seed)
    exchange = Exchange(rng)
    store: Any = BinanceUSDSMDataStore() if futures else BinanceSpotDataStore()
    requests = hooked(store)
    symbol = "SYM"
    prev_u = exchange.id
    lost_since_sync = False
    for op in ops:
        if op in ("diff", "lose"):
            first = exchange.id + 1
            exchange.id += rng.randint(1, 3)
            asks, bids = exchange.change(rng.randint(0, 4))
            exchange.remember()
            if futures:
                msg = fut_diff(first, exchange.id, prev_u, bids, asks, symbol=symbol)
            else:
                msg = spot_diff(first, exchange.id, bids, asks, symbol=symbol)
            prev_u = exchange.id
            was_synced = store.orderbook.is_synced(symbol)
            state = store.orderbook._states.get(symbol)
            was_bridging = state is not None and state.phase == "bridging"
            if op == "lose":
                lost_since_sync = lost_since_sync or was_synced
                continue
            gaps = store.orderbook.status(symbol).gaps
            store.onmessage({"stream": f"{symbol.lower()}@depth", "data": msg})
            if lost_since_sync and was_synced:
                # The first diff after a lost one must be caught: a gap, or, right
                # after a snapshot, a snapshot the stream does not bridge.
                assert not store.orderbook.is_synced(symbol)
                assert store.orderbook.status(symbol).gaps == gaps + (0 if was_bridging else 1)
                lost_since_sync = False
        else:
            if op == "old_snapshot" and exchange.history:
                snap_id, asks_book, bids_book = rng.choice(exchange.history)
            else:
                snap_id, asks_book, bids_book = exchange.id, exchange.asks, exchange.bids
            store.orderbook._on_depth_snapshot(
                symbol,
                snapshot(snap_id, sorted(bids_book.items()), sorted(asks_book.items())),
            )
            if store.orderbook.is_synced(symbol):
                lost_since_sync = False
        store.orderbook._check()
        status = store.orderbook.status(symbol)
        if status.synced and status.last_update_id == exchange.id:
            assert book_of(store, symbol) == (exchange.asks, exchange.bids)
        if not status.synced:
            assert requests, "an unsynced book must have asked for a snapshot"
        assert status.buffered <= store.orderbook._BUFFER_MAX
        if status.synced:
            assert status.buffered == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    ops=st.lists(st.sampled_from(["diff", "diff", "diff", "bad", "gap"]), max_size=40),
)
def test_the_inlined_spot_apply_matches_the_general_one(seed: int, ops: list[str]) -> None:
    # A plain spot book applies in-sequence diffs inline (no observer, watcher or depth
    # cap); a watched one and an observed one go through OrderBookStore._apply. Both
    # must end with the same levels, counters and state, malformed levels included.
    rng = random.Random(seed)
    exchange = Exchange(rng)
    plain, watched, observed = (BinanceSpotDataStore() for _ in range(3))
    stream = watched.orderbook.watch()
    observed.add_observer(lambda batch: None)
    stores = (plain, watched, observed)
    for store in stores:
        hooked(store)
        # A clock that counts its reads: equal updated_at means the same reads.
        store.orderbook.clock = map(float, itertools.count()).__next__
        store.orderbook._on_depth_snapshot("SYM", snapshot(exchange.id))
    for op in ops:
        first = exchange.id + (2 if op == "gap" else 1)
        exchange.id += rng.randint(1, 3)
        asks, bids = exchange.change(rng.randint(0, 4))
        if op == "bad":
            asks = [*asks, ["-1", "2"]]
        msg = spot_diff(first, exchange.id, bids, asks, symbol="SYM")
        for store in stores:
            store.onmessage(msg)
            store.orderbook._check()
    statuses = [store.orderbook.status("SYM") for store in stores]
    levels = [store.orderbook.levels("SYM") for store in stores]
    assert statuses[0] == statuses[1] == statuses[2]
    assert levels[0] == levels[1] == levels[2]
    assert len(plain.orderbook) == len(watched.orderbook) == len(observed.orderbook)
    stream.close()
