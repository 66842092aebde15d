"""Bitget books (v2 and v1): checksum rule, seq rule, resync by resubscription."""

from __future__ import annotations

import asyncio
import logging
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datastores.exchanges.bitget.store import BitgetV2DataStore
from datastores.exchanges.bitget.store_v1 import BitgetDataStore

SPOT_BOOKS = {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"}


def reference_crc32(text: str) -> int:
    """Bitwise CRC-32 (IEEE, reflected 0xEDB88320) as a signed int: independent of zlib."""
    crc = 0xFFFFFFFF
    for byte in text.encode():
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    crc ^= 0xFFFFFFFF
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def book_msg(
    action: str,
    asks: list[list[str]],
    bids: list[list[str]],
    *,
    checksum: Any = None,
    seq: Any = None,
    arg: dict[str, str] | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"asks": asks, "bids": bids, "ts": "1695716059516"}
    if checksum is not None:
        entry["checksum"] = checksum
    if seq is not None:
        entry["seq"] = seq
    return {"action": action, "arg": arg or SPOT_BOOKS, "data": [entry], "ts": 1695716059516}


def resync_tasks(store: Any) -> dict[Any, asyncio.Task[Any]]:
    """The live resubscription tasks of ``store``'s books, by background key."""
    background = store._background
    return {key: background.task(key) for key in background.running()}


class FakeWS:
    """Captures what the collection sends on a connection."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[Any] = []
        self.closed = False
        self.fail = fail

    async def send_json(self, obj: Any, auth: Any = None) -> None:
        if self.fail:
            raise ConnectionResetError("socket is gone")
        self.sent.append(obj)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


# ---------------------------------------------------------------- checksum rule
# The worked examples of https://www.bitget.com/api-doc/spot/websocket/public/Depth-Channel
# ("Calculate Checksum"): the doc gives the book and the exact string to CRC.


def test_doc_example_more_than_25_levels_interleaves_bid_and_ask() -> None:
    store = BitgetV2DataStore()
    asks = [["43232.8", "9"], ["43232.9", "8"]]
    bids = [["43231.1", "4"], ["43231", "6"]]
    expected = reference_crc32("43231.1:4:43232.8:9:43231:6:43232.9:8")
    store.onmessage(book_msg("snapshot", asks, bids, checksum=expected, seq=1))
    assert store.book.checksum("SPOT:BTCUSDT") == expected
    status = store.book.status("SPOT:BTCUSDT")
    assert status.synced
    assert status.checksum_failures == 0


def test_doc_example_fewer_levels_appends_the_longer_side() -> None:
    store = BitgetV2DataStore()
    asks = [["3366.8", "9"], ["3368", "8"], ["3372", "8"]]
    bids = [["3366.1", "7"]]
    expected = reference_crc32("3366.1:7:3366.8:9:3368:8:3372:8")
    store.onmessage(book_msg("snapshot", asks, bids, checksum=expected, seq=1))
    assert store.book.checksum("BTCUSDT") == expected
    assert store.book.status("BTCUSDT").synced


def test_doc_rule_original_strings_are_used_not_normalised_numbers() -> None:
    # "If price is '0.5000', DO NOT calculate the checksum by '0.5'".
    store = BitgetDataStore()
    arg = {"instType": "mc", "channel": "books", "instId": "BTCUSDT"}
    raw = reference_crc32("0.4000:1.00:0.5000:2")
    normalised = reference_crc32("0.4:1:0.5:2")
    store.onmessage(book_msg("snapshot", [["0.5000", "2"]], [["0.4000", "1.00"]], arg=arg))
    store.onmessage(book_msg("update", [], [], checksum=raw, arg=arg))
    assert store.orderbook.status("BTCUSDT").checksum_failures == 0
    store.onmessage(book_msg("update", [], [], checksum=normalised, arg=arg))
    assert store.orderbook.status("BTCUSDT").checksum_failures == 1
    assert store.orderbook.sorted({"instId": "BTCUSDT"})["asks"] == [
        {"instId": "BTCUSDT", "side": "asks", "px": "0.5000", "sz": "2"}
    ]


def test_checksum_covers_only_the_best_25_levels() -> None:
    store = BitgetV2DataStore()
    asks = [[f"{100 + i}.0", "1"] for i in range(30)]
    bids = [[f"{99 - i}.0", "2"] for i in range(30)]
    text = ":".join(f"{bids[i][0]}:{bids[i][1]}:{asks[i][0]}:{asks[i][1]}" for i in range(25))
    store.onmessage(book_msg("snapshot", asks, bids, checksum=reference_crc32(text), seq=5))
    assert store.book.is_synced("BTCUSDT")
    assert store.book.status("BTCUSDT").asks == 30


def test_zero_or_absent_checksum_is_not_verified_and_string_checksum_is() -> None:
    store = BitgetV2DataStore()
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], checksum=0, seq=1))
    store.onmessage(book_msg("update", [["3", "1"]], [], seq=2))
    assert store.book.status("BTCUSDT").checksum_failures == 0
    good = reference_crc32("1:1:2:1:3:1")
    store.onmessage(book_msg("update", [], [], checksum=str(good), seq=3))
    assert store.book.status("BTCUSDT").synced
    store.onmessage(book_msg("update", [], [], checksum="not-a-number", seq=4))
    status = store.book.status("BTCUSDT")
    assert not status.synced
    assert status.errors == 1


# -------------------------------------------------------------------- seq rule


def test_seq_may_skip_but_must_increase() -> None:
    store = BitgetV2DataStore()
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=10))
    store.onmessage(book_msg("update", [["3", "1"]], [], seq=17))  # skipped ids are fine
    assert store.book.status("BTCUSDT").last_update_id == 17
    assert store.book.is_synced("BTCUSDT")
    store.onmessage(book_msg("update", [["4", "1"]], [], seq=17))  # repeated: broken
    status = store.book.status("BTCUSDT")
    assert not status.synced
    assert status.gaps == 1
    assert status.resyncs == 1
    assert (
        store.book.get({"instType": "SPOT", "instId": "BTCUSDT", "side": "asks", "price": "4"})
        is None
    )


def test_seq_going_backwards_is_a_gap_and_updates_wait_for_a_snapshot() -> None:
    store = BitgetV2DataStore()
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=10))
    store.onmessage(book_msg("update", [["2", "5"]], [], seq=9))
    assert store.book.status("BTCUSDT").gaps == 1
    before = store.book.sorted({"instId": "BTCUSDT"})
    store.onmessage(book_msg("update", [["2", "7"]], [], seq=30))
    assert store.book.sorted({"instId": "BTCUSDT"}) == before  # dropped while unsynced
    store.onmessage(book_msg("snapshot", [["2", "9"]], [["1", "1"]], seq=31))
    assert store.book.is_synced("BTCUSDT")
    assert store.book.best("BTCUSDT")[0] == {
        "instType": "SPOT",
        "instId": "BTCUSDT",
        "side": "asks",
        "price": "2",
        "amount": "9",
    }


def test_updates_before_any_snapshot_are_dropped() -> None:
    store = BitgetV2DataStore()
    store.onmessage(book_msg("update", [["2", "1"]], [], seq=3))
    assert len(store.book) == 0
    assert not store.book.status("BTCUSDT").synced


# ------------------------------------------------------------------ snapshots


def test_snapshot_replaces_the_whole_book() -> None:
    store = BitgetV2DataStore()
    store.onmessage(book_msg("snapshot", [["2", "1"], ["3", "1"]], [["1", "1"]], seq=1))
    store.onmessage(book_msg("update", [["4", "1"]], [["0.5", "1"]], seq=2))
    store.onmessage(book_msg("snapshot", [["5", "1"]], [["4.5", "2"]], seq=100))
    result = store.book.sorted({"instType": "SPOT", "instId": "BTCUSDT"})
    assert [i["price"] for i in result["asks"]] == ["5"]
    assert [i["price"] for i in result["bids"]] == ["4.5"]
    assert len(store.book) == 2
    store.book._check()


def test_top_n_channels_replace_and_cap_depth() -> None:
    store = BitgetV2DataStore()
    arg = {"instType": "USDT-FUTURES", "channel": "books5", "instId": "ETHUSDT"}
    six = [[f"{10 + i}", "1"] for i in range(6)]
    store.onmessage(book_msg("snapshot", six, [["9", "1"], ["8", "1"]], seq=1, arg=arg))
    assert [i["price"] for i in store.book.sorted({"instId": "ETHUSDT"})["asks"]] == [
        "10",
        "11",
        "12",
        "13",
        "14",
    ]
    store.onmessage(book_msg("snapshot", [["20", "1"]], [["19", "3"]], seq=2, arg=arg))
    result = store.book.sorted({"instId": "ETHUSDT"})
    assert [i["price"] for i in result["asks"]] == ["20"]
    assert [i["amount"] for i in result["bids"]] == ["3"]
    store.book._check()


def test_v1_snapshot_clears_stale_levels_and_caps_books_at_200() -> None:
    store = BitgetDataStore()
    arg = {"instType": "mc", "channel": "books", "instId": "BTCUSDT"}
    asks = [[f"{1000 + i}", "1"] for i in range(210)]
    store.onmessage(book_msg("snapshot", asks, [["999", "1"]], arg=arg))
    assert store.orderbook.status("BTCUSDT").asks == 200
    store.onmessage(book_msg("snapshot", [["2000", "1"]], [["1999", "1"]], arg=arg))
    assert len(store.orderbook) == 2
    store.orderbook._check()


# ------------------------------------------------- same instId in two instTypes


def test_same_inst_id_in_two_inst_types_are_separate_books() -> None:
    store = BitgetV2DataStore()
    futures = {"instType": "USDT-FUTURES", "channel": "books", "instId": "BTCUSDT"}
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=1))
    store.onmessage(book_msg("snapshot", [["20", "1"]], [["10", "1"]], seq=1, arg=futures))
    store.onmessage(book_msg("update", [["20", "0"]], [], seq=1, arg=futures))  # a gap there
    assert store.book.status("BTCUSDT", inst_type="SPOT").synced
    assert not store.book.status("BTCUSDT", inst_type="USDT-FUTURES").synced
    assert store.book.status("USDT-FUTURES:BTCUSDT").gaps == 1
    with pytest.raises(ValueError, match="inst_type"):
        store.book.status("BTCUSDT")
    spot = store.book.sorted({"instType": "SPOT", "instId": "BTCUSDT"})
    assert spot["asks"][0]["price"] == "2"
    assert {i["instType"] for i in store.book.find({"instId": "BTCUSDT"})} == {
        "SPOT",
        "USDT-FUTURES",
    }
    assert store.book.get(
        {"instType": "USDT-FUTURES", "instId": "BTCUSDT", "side": "bids", "price": "10.0"}
    ) == {
        "instType": "USDT-FUTURES",
        "instId": "BTCUSDT",
        "side": "bids",
        "price": "10",
        "amount": "1",
    }
    removed = store.book._find_and_delete({"instType": "SPOT", "instId": "BTCUSDT"})
    assert len(removed) == 2
    assert store.book.sorted({"instType": "SPOT", "instId": "BTCUSDT"}) == {"asks": [], "bids": []}
    assert len(store.book) == 2
    store.book._check()


# ------------------------------------------------------- resync by resubscribe


async def test_checksum_mismatch_marks_unsynced_counts_and_resubscribes() -> None:
    store = BitgetV2DataStore()
    ws = FakeWS()
    good = reference_crc32("1:1:2:1")
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], checksum=good, seq=1), ws)
    store.onmessage(book_msg("update", [["3", "1"]], [], checksum=12345, seq=2), ws)
    status = store.book.status("BTCUSDT")
    assert not status.synced
    assert status.checksum_failures == 1
    assert status.resyncs == 1
    assert status.last_error is not None
    assert "checksum" in status.last_error
    await settle()
    assert ws.sent == [
        {"op": "unsubscribe", "args": [SPOT_BOOKS]},
        {"op": "subscribe", "args": [SPOT_BOOKS]},
    ]
    # More bad news before the new snapshot: dropped, no second resubscription.
    store.onmessage(book_msg("update", [["4", "1"]], [], checksum=1, seq=3), ws)
    await settle()
    assert len(ws.sent) == 2
    assert store.book.status("BTCUSDT").resyncs == 1
    store.onmessage(book_msg("snapshot", [["5", "1"]], [["1", "1"]], checksum=None, seq=9), ws)
    assert store.book.status("BTCUSDT").synced
    # A new failure starts a new episode.
    store.onmessage(book_msg("update", [], [], checksum=7, seq=10), ws)
    await settle()
    assert len(ws.sent) == 4
    assert store.book.status("BTCUSDT").resyncs == 2


async def test_resubscription_goes_to_the_connection_that_fed_the_book() -> None:
    store = BitgetV2DataStore()
    public, other = FakeWS(), FakeWS()
    futures = {"instType": "USDT-FUTURES", "channel": "books", "instId": "BTCUSDT"}
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=1), public)
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=1, arg=futures), other)
    store.onmessage(book_msg("update", [], [], seq=1, arg=futures), other)
    await settle()
    assert public.sent == []
    assert [m["op"] for m in other.sent] == ["unsubscribe", "subscribe"]
    assert other.sent[1]["args"] == [futures]


async def test_top_n_channels_are_not_resubscribed() -> None:
    store = BitgetV2DataStore()
    ws = FakeWS()
    arg = {"instType": "SPOT", "channel": "books5", "instId": "BTCUSDT"}
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], checksum=99, arg=arg), ws)
    assert store.book.status("BTCUSDT").checksum_failures == 1
    await settle()
    assert ws.sent == []
    good = reference_crc32("1:1:2:1")
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], checksum=good, arg=arg), ws)
    assert store.book.status("BTCUSDT").synced


async def test_failed_resubscription_is_logged_and_book_stays_unsynced(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = BitgetV2DataStore()
    ws = FakeWS(fail=True)
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=1), ws)
    with caplog.at_level(logging.WARNING, logger="datastores.exchanges.bitget"):
        store.onmessage(book_msg("update", [], [], seq=1), ws)
        await settle()
    assert "SPOT:BTCUSDT: resubscribing books failed" in caplog.text
    assert not store.book.status("BTCUSDT").synced
    assert resync_tasks(store) == {}


async def test_reconnect_invalidates_books_of_that_connection_without_extra_sends() -> None:
    store = BitgetV2DataStore()
    a, b = FakeWS(), FakeWS()
    eth = {"instType": "SPOT", "channel": "books", "instId": "ETHUSDT"}
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=1), a)
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=1, arg=eth), b)
    store.on_reconnect(a)
    await settle()
    btc = store.book.status("BTCUSDT")
    assert not btc.synced
    assert btc.last_error == "reconnect"
    assert btc.gaps == 0
    assert store.book.status("ETHUSDT").synced
    assert a.sent == []
    assert b.sent == []
    store.onmessage(book_msg("update", [["3", "1"]], [], seq=2), a)
    assert store.book.status("BTCUSDT").asks == 1  # dropped until the snapshot
    store.onmessage(book_msg("snapshot", [["3", "1"]], [["1", "1"]], seq=5), a)
    assert store.book.status("BTCUSDT").synced
    # A later failure resubscribes as usual.
    store.onmessage(book_msg("update", [], [], seq=5), a)
    await settle()
    assert [m["op"] for m in a.sent] == ["unsubscribe", "subscribe"]


async def test_reconnect_without_ws_invalidates_every_book_and_aclose_cancels() -> None:
    store = BitgetDataStore()
    arg = {"instType": "mc", "channel": "books", "instId": "BTCUSDT"}
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], arg=arg))
    store.on_reconnect()
    assert not store.orderbook.status("BTCUSDT").synced
    await store.aclose()


class StuckWS(FakeWS):
    """A connection whose sends never complete."""

    async def send_json(self, obj: Any, auth: Any = None) -> None:
        self.sent.append(obj)
        await asyncio.Event().wait()


class FakeClient:
    def __init__(self, closed: bool = False) -> None:
        self.closers: list[Any] = []
        self.closed = closed

    def add_closer(self, obj: Any) -> None:
        if self.closed:
            raise RuntimeError("client is closed")
        self.closers.append(obj)


async def test_pending_resubscriptions_end_with_the_client() -> None:
    store = BitgetV2DataStore()
    client = FakeClient()
    store.client = client
    ws = StuckWS()
    eth = {"instType": "SPOT", "channel": "books", "instId": "ETHUSDT"}
    for arg in (SPOT_BOOKS, eth):
        store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=1, arg=arg), ws)
        store.onmessage(book_msg("update", [], [], seq=1, arg=arg), ws)
    await settle()
    assert client.closers == [store._background]  # registered once
    tasks = list(resync_tasks(store).values())
    assert len(tasks) == 2
    assert not any(t.done() for t in tasks)
    await store.aclose()
    assert all(t.cancelled() for t in tasks)
    assert resync_tasks(store) == {}


async def test_closed_client_does_not_prevent_resubscription() -> None:
    store = BitgetV2DataStore()
    store.client = FakeClient(closed=True)
    ws = FakeWS()
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=1), ws)
    store.onmessage(book_msg("update", [], [], seq=1), ws)
    await settle()
    assert [m["op"] for m in ws.sent] == ["unsubscribe", "subscribe"]


def test_without_event_loop_the_book_stays_unsynced(caplog: pytest.LogCaptureFixture) -> None:
    store = BitgetV2DataStore()
    ws = FakeWS()
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=1), ws)
    with caplog.at_level(logging.WARNING, logger="datastores.exchanges.bitget"):
        store.onmessage(book_msg("update", [], [], seq=1), ws)
    assert "no event loop" in caplog.text
    assert not store.book.status("BTCUSDT").synced


def test_malformed_book_entries_are_failures_not_crashes() -> None:
    store = BitgetV2DataStore()
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=1))
    store.onmessage(book_msg("update", [["x", "1"]], [], seq=2))
    assert store.book.status("BTCUSDT").errors == 1
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=3))
    store.onmessage({"action": "update", "arg": SPOT_BOOKS, "data": ["junk"]})
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=4))
    store.onmessage({"action": "update", "arg": SPOT_BOOKS, "data": [{"asks": "x", "bids": []}]})
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=5))
    store.onmessage({"action": "weird", "arg": SPOT_BOOKS, "data": [{"asks": [], "bids": []}]})
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=6))
    store.onmessage(book_msg("update", [], [], seq="six"))
    assert store.book.status("BTCUSDT").errors == 5
    assert store.handler_errors == 0
    store.book._check()


def test_handler_exception_is_counted_and_marks_the_book(monkeypatch: pytest.MonkeyPatch) -> None:
    store = BitgetV2DataStore()
    store.onmessage(book_msg("snapshot", [["2", "1"]], [["1", "1"]], seq=1))

    def boom(*args: Any) -> bool:
        raise RuntimeError("bug")

    monkeypatch.setattr(store.book, "_ws_update", boom)
    store.onmessage(book_msg("update", [], [], seq=2))
    assert store.handler_errors == 1
    status = store.book.status("BTCUSDT")
    assert not status.synced
    assert status.errors == 1


# ------------------------------------------- random streams vs a naive model

PRICES = [f"{100 + i * 0.5:.1f}" for i in range(-40, 41)]
SIZES = ["1", "0.5000", "2.25", "10", "0.0010", "3.1"]
ZEROS = ["0", "0.000"]


class NaiveBook:
    """What the exchange holds: plain dicts of strings."""

    def __init__(self) -> None:
        self.asks: dict[str, str] = {}
        self.bids: dict[str, str] = {}

    def apply(self, asks: list[list[str]], bids: list[list[str]]) -> None:
        for side, levels in ((self.asks, asks), (self.bids, bids)):
            for price, size in levels:
                if float(size) == 0:
                    side.pop(price, None)
                else:
                    side[price] = size

    def top(self, n: int | None = None) -> tuple[list[list[str]], list[list[str]]]:
        asks = sorted(self.asks.items(), key=lambda kv: float(kv[0]))[:n]
        bids = sorted(self.bids.items(), key=lambda kv: -float(kv[0]))[:n]
        return [list(kv) for kv in asks], [list(kv) for kv in bids]

    def checksum(self) -> int:
        asks, bids = self.top(25)
        parts = []
        for i in range(25):
            if i < len(bids):
                parts.append(":".join(bids[i]))
            if i < len(asks):
                parts.append(":".join(asks[i]))
        value = zlib.crc32(":".join(parts).encode())
        return value - (1 << 32) if value >= 1 << 31 else value


def split_book(draw: Any, prices: list[str]) -> tuple[list[list[str]], list[list[str]]]:
    mid = draw(st.integers(min_value=1, max_value=len(prices) - 1))
    bids = [[p, draw(st.sampled_from(SIZES + ZEROS))] for p in prices[:mid]]
    asks = [[p, draw(st.sampled_from(SIZES + ZEROS))] for p in prices[mid:]]
    return asks, bids


@st.composite
def streams(draw: Any) -> tuple[list[Any], list[Any], int | None]:
    """A snapshot and updates (levels as [price, size]); optionally one update lost."""
    prices = sorted(
        draw(st.lists(st.sampled_from(PRICES), min_size=2, max_size=60, unique=True)), key=float
    )
    snapshot = split_book(draw, prices)
    snapshot = (
        [lv for lv in snapshot[0] if float(lv[1])],
        [lv for lv in snapshot[1] if float(lv[1])],
    )
    updates = []
    for _ in range(draw(st.integers(min_value=2, max_value=15))):
        touched = sorted(
            draw(st.lists(st.sampled_from(PRICES), min_size=2, max_size=8, unique=True)), key=float
        )
        updates.append(split_book(draw, touched))
    lost = draw(st.none() | st.integers(min_value=0, max_value=len(updates) - 1))
    return [snapshot], updates, lost


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_random_streams_match_the_model_and_losses_never_pass_silently(
    stream: tuple[list[Any], list[Any], int | None],
) -> None:
    (snapshot,), updates, lost = stream
    store = BitgetV2DataStore()
    truth = NaiveBook()
    truth.apply(*snapshot)
    seq = 1
    store.onmessage(book_msg("snapshot", *snapshot, checksum=truth.checksum(), seq=seq))
    for i, (asks, bids) in enumerate(updates):
        truth.apply(asks, bids)
        seq += 1 + i % 3
        if i == lost:
            continue  # the exchange sent it; we never got it
        store.onmessage(book_msg("update", asks, bids, checksum=truth.checksum(), seq=seq))
        store.book._check()
        status = store.book.status("BTCUSDT")
        if lost is None:
            assert status.synced
        if status.synced:
            # Whatever happened, a synced book agrees with the exchange on what the
            # checksum covers.
            asks_top, bids_top = truth.top(25)
            mine = store.book.sorted({"instType": "SPOT", "instId": "BTCUSDT"}, limit=25)
            assert [[i["price"], i["amount"]] for i in mine["asks"]] == asks_top
            assert [[i["price"], i["amount"]] for i in mine["bids"]] == bids_top
    if lost is None:
        asks_all, bids_all = truth.top()
        mine = store.book.sorted({"instId": "BTCUSDT"})
        assert [[i["price"], i["amount"]] for i in mine["asks"]] == asks_all
        assert [[i["price"], i["amount"]] for i in mine["bids"]] == bids_all
        assert store.book.status("BTCUSDT").checksum_failures == 0
