"""Bybit order books: snapshot/delta, u == 1, depth caps, several depths, gaps and
resubscription, reconnects, and orderbook.full's REST-bridged strict sequence.

Random streams are checked against a naive model with hypothesis.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datastores.exchanges.bybit.store import BybitDataStore
from datastores.testing import VirtualClock

from .test_stores import FakeWS, load, replay, rest_stand_in, until

FULL_PATH = "/v5/market/full_orderbook"


def book_msg(
    topic: str,
    kind: str,
    u: int,
    asks: list[list[str]] | None = None,
    bids: list[list[str]] | None = None,
    seq: int | None = None,
) -> dict[str, Any]:
    symbol = topic.rsplit(".", 1)[1]
    data = {"s": symbol, "a": asks or [], "b": bids or [], "u": u, "seq": seq or u * 10}
    return {"topic": topic, "type": kind, "ts": 1, "data": data, "cts": 1}


def prices(store: BybitDataStore, symbol: str) -> tuple[list[tuple[str, str]], ...]:
    book = store.orderbook.sorted({"s": symbol})
    return (
        [(i["p"], i["v"]) for i in book["a"]],
        [(i["p"], i["v"]) for i in book["b"]],
    )


# ------------------------------------------------------------------ N-level books


def test_replay_snapshot_then_deltas_and_early_delta_is_not_applied() -> None:
    store = BybitDataStore()
    replay(store, "orderbook_50.json")
    asks, bids = prices(store, "BTCUSDT")
    assert asks == [("16610.50", "1.200"), ("16611.00", "0.500"), ("16612.00", "0.213")]
    # 16493.50 deleted by size "0"; 16490.00 came in a delta before the snapshot
    assert bids == [("16494.00", "0.300"), ("16493.00", "0.100")]
    assert store.orderbook.sorted({"s": "BTCUSDT"}, limit=1)["a"] == [
        {"s": "BTCUSDT", "S": "a", "p": "16610.50", "v": "1.200"}
    ]
    status = store.orderbook.status("BTCUSDT")
    assert status.synced
    assert status.last_update_id == 18521290
    assert status.gaps == 0
    feed = store.orderbook.feed("BTCUSDT")
    assert feed is not None
    assert (feed.topic, feed.depth, feed.seq, feed.dropped_unsynced) == (
        "orderbook.50.BTCUSDT",
        50,
        7961638741,
        1,
    )
    store.orderbook._check()


def test_delta_with_u_1_replaces_the_book() -> None:
    store = BybitDataStore()
    replay(store, "orderbook_restart.json")
    # after the restart (u=1) only the restart's levels and the next delta remain
    assert prices(store, "ETHUSDT") == ([("2000.00", "2.0")], [("1999.90", "3.0")])
    status = store.orderbook.status("ETHUSDT")
    assert status.synced
    assert status.last_update_id == 2
    assert status.gaps == 0
    store.orderbook._check()


def test_book_is_trimmed_to_the_topic_depth() -> None:
    store = BybitDataStore()
    topic = "orderbook.50.BTCUSDT"
    asks = [[str(100 + i), "1"] for i in range(50)]
    bids = [[str(99 - i), "1"] for i in range(50)]
    store.onmessage(book_msg(topic, "snapshot", 10, asks, bids))
    # better levels arrive without the exchange deleting the ones leaving the window
    store.onmessage(book_msg(topic, "delta", 11, [["99.5", "2"]], [["99.25", "3"]]))
    got_asks, got_bids = prices(store, "BTCUSDT")
    assert len(got_asks) == len(got_bids) == 50
    assert got_asks[0] == ("99.5", "2")
    assert got_asks[-1] == ("148", "1")  # 149 fell out
    assert got_bids[0] == ("99.25", "3")
    assert got_bids[-1] == ("51", "1")  # 50 fell out
    store.orderbook._check()

    store.onmessage(book_msg("orderbook.1.ETHUSDT", "snapshot", 5, [["10", "1"]], [["9", "1"]]))
    store.onmessage(book_msg("orderbook.1.ETHUSDT", "delta", 6, [["9.5", "1"]], [["9.1", "1"]]))
    assert prices(store, "ETHUSDT") == ([("9.5", "1")], [("9.1", "1")])


def test_stale_delta_is_counted_and_not_applied() -> None:
    store = BybitDataStore()
    topic = "orderbook.50.BTCUSDT"
    store.onmessage(book_msg(topic, "snapshot", 10, [["101", "1"]], [["99", "1"]]))
    store.onmessage(book_msg(topic, "delta", 10, [["101", "5"]]))
    assert prices(store, "BTCUSDT") == ([("101", "1")], [("99", "1")])
    status = store.orderbook.status("BTCUSDT")
    assert (status.stale, status.synced, status.gaps) == (1, True, 0)


async def test_backwards_u_is_a_gap_that_resubscribes_on_the_live_connection() -> None:
    store = BybitDataStore()
    ws = FakeWS()
    topic = "orderbook.50.BTCUSDT"
    store.onmessage(book_msg(topic, "snapshot", 100, [["101", "1"]], [["99", "1"]]), ws)
    store.onmessage(book_msg(topic, "delta", 101, [["102", "1"]]), ws)
    store.onmessage(book_msg(topic, "delta", 50, [["103", "1"]]), ws)  # went back
    store.onmessage(book_msg(topic, "delta", 102, [["104", "1"]]), ws)  # dropped: unsynced
    store.onmessage(book_msg(topic, "delta", 40, [["105", "1"]]), ws)  # no second request
    status = store.orderbook.status("BTCUSDT")
    assert not status.synced
    assert (status.gaps, status.resyncs) == (1, 1)
    await until(lambda: len(ws.sent) == 2)
    await asyncio.sleep(0.01)
    assert ws.sent == [
        {"op": "unsubscribe", "args": [topic]},
        {"op": "subscribe", "args": [topic]},
    ]
    # the exchange answers the subscription with a snapshot: synced again
    store.onmessage(book_msg(topic, "snapshot", 7, [["110", "1"]], [["98", "1"]]), ws)
    assert store.orderbook.is_synced("BTCUSDT")
    assert prices(store, "BTCUSDT") == ([("110", "1")], [("98", "1")])
    store.onmessage(book_msg(topic, "delta", 8, [["111", "1"]]), ws)
    assert prices(store, "BTCUSDT")[0] == [("110", "1"), ("111", "1")]
    feed = store.orderbook.feed("BTCUSDT")
    assert feed is not None
    assert feed.dropped_unsynced == 2
    store.orderbook._check()


async def test_a_jump_in_u_is_a_gap_unless_relaxed() -> None:
    store = BybitDataStore()
    topic = "orderbook.200.BTCUSDT"
    store.orderbook.strict_depth_sequence = False
    store.onmessage(book_msg(topic, "snapshot", 1000, [["101", "1"]]))
    store.onmessage(book_msg(topic, "delta", 1003, [["102", "1"]]))  # tolerated when relaxed
    assert store.orderbook.is_synced("BTCUSDT")
    store.orderbook.strict_depth_sequence = True  # the default
    store.onmessage(book_msg(topic, "delta", 1005, [["103", "1"]]))
    status = store.orderbook.status("BTCUSDT")
    assert (status.synced, status.gaps, status.last_update_id) == (False, 1, 1003)
    assert prices(store, "BTCUSDT")[0] == [("101", "1"), ("102", "1")]


def test_strict_sequence_is_the_default() -> None:
    store = BybitDataStore()
    topic = "orderbook.50.BTCUSDT"
    store.onmessage(book_msg(topic, "snapshot", 1000, [["101", "1"]]))
    store.onmessage(book_msg(topic, "delta", 1001, [["102", "1"]]))
    store.onmessage(book_msg(topic, "delta", 1003, [["103", "1"]]))
    status = store.orderbook.status("BTCUSDT")
    assert (status.synced, status.gaps, status.last_update_id) == (False, 1, 1001)


def test_gap_without_a_connection_is_logged_clearly(caplog: pytest.LogCaptureFixture) -> None:
    store = BybitDataStore()
    topic = "orderbook.50.BTCUSDT"
    store.onmessage(book_msg(topic, "snapshot", 100, [["101", "1"]]))
    with caplog.at_level(logging.WARNING, logger="datastores.exchanges.bybit"):
        store.onmessage(book_msg(topic, "delta", 99, [["102", "1"]]))
    assert not store.orderbook.is_synced("BTCUSDT")
    assert any(
        "cannot resubscribe" in r.getMessage() and topic in r.getMessage() for r in caplog.records
    )


def test_delta_before_any_snapshot_asks_for_one() -> None:
    store = BybitDataStore()
    store.onmessage(book_msg("orderbook.50.XRPUSDT", "delta", 5, [["1", "1"]]))
    status = store.orderbook.status("XRPUSDT")
    assert (status.synced, status.asks, status.resyncs) == (False, 0, 1)


# ------------------------------------------------------------ several depths


async def test_deepest_subscription_feeds_the_book_and_shallower_ones_are_ignored() -> None:
    store = BybitDataStore()
    ws = FakeWS()
    deep, shallow = "orderbook.50.BTCUSDT", "orderbook.1.BTCUSDT"
    store.onmessage(book_msg(shallow, "snapshot", 7, [["101", "1"]], [["99", "1"]]), ws)
    assert store.orderbook.feed("BTCUSDT").depth == 1  # type: ignore[union-attr]
    # the deeper topic takes over at its snapshot
    store.onmessage(book_msg(deep, "snapshot", 500, [["101", "1"], ["102", "2"]], [["99", "1"]]))
    store.onmessage(book_msg(shallow, "snapshot", 8, [["100.5", "9"]], [["99.5", "9"]]), ws)
    store.onmessage(book_msg(shallow, "delta", 9, [["100.6", "9"]]), ws)
    store.onmessage(book_msg(deep, "delta", 501, [["103", "3"]]))
    assert prices(store, "BTCUSDT") == (
        [("101", "1"), ("102", "2"), ("103", "3")],
        [("99", "1")],
    )
    feed = store.orderbook.feed("BTCUSDT")
    assert feed is not None
    assert (feed.topic, feed.depth, feed.shadowed) == (deep, 50, 2)
    assert store.orderbook.is_synced("BTCUSDT")
    assert ws.sent == []
    store.orderbook._check()

    # after unsubscribing the deep topic, forget() lets the shallow one feed again
    store.orderbook.forget("BTCUSDT")
    assert store.orderbook.feed("BTCUSDT") is None
    assert len(store.orderbook) == 0
    store.onmessage(book_msg(shallow, "snapshot", 10, [["100", "1"]], [["98", "1"]]), ws)
    assert store.orderbook.feed("BTCUSDT").topic == shallow  # type: ignore[union-attr]
    assert prices(store, "BTCUSDT") == ([("100", "1")], [("98", "1")])


async def test_deeper_topic_starting_with_a_delta_resubscribes_it() -> None:
    store = BybitDataStore()
    ws = FakeWS()
    store.onmessage(book_msg("orderbook.1.BTCUSDT", "snapshot", 7, [["101", "1"]]), ws)
    store.onmessage(book_msg("orderbook.200.BTCUSDT", "delta", 9, [["102", "1"]]), ws)
    assert not store.orderbook.is_synced("BTCUSDT")
    await until(lambda: len(ws.sent) == 2)
    assert ws.sent[1] == {"op": "subscribe", "args": ["orderbook.200.BTCUSDT"]}


# ----------------------------------------------------------------- reconnect


async def test_reconnect_invalidates_books_of_that_connection_without_resubscribing() -> None:
    store = BybitDataStore()
    ws_a, ws_b = FakeWS(), FakeWS()
    store.onmessage(book_msg("orderbook.50.BTCUSDT", "snapshot", 5, [["101", "1"]]), ws_a)
    store.onmessage(book_msg("orderbook.50.ETHUSDT", "snapshot", 5, [["11", "1"]]), ws_b)
    store.on_reconnect(ws_a)
    btc = store.orderbook.status("BTCUSDT")
    assert not btc.synced
    assert btc.gaps == 0
    assert store.orderbook.is_synced("ETHUSDT")
    # deltas from the new connection wait for its snapshot (the app resubscribes)
    store.onmessage(book_msg("orderbook.50.BTCUSDT", "delta", 6, [["102", "1"]]), ws_a)
    await asyncio.sleep(0.01)
    assert ws_a.sent == []
    assert ws_b.sent == []
    store.onmessage(book_msg("orderbook.50.BTCUSDT", "snapshot", 1, [["105", "1"]]), ws_a)
    assert store.orderbook.is_synced("BTCUSDT")
    assert prices(store, "BTCUSDT")[0] == [("105", "1")]


async def test_reconnect_with_a_new_connection_object_invalidates_books_of_the_closed_one() -> None:
    store = BybitDataStore()
    old, other = FakeWS(), FakeWS()
    store.onmessage(book_msg("orderbook.50.BTCUSDT", "snapshot", 5, [["101", "1"]]), old)
    store.onmessage(book_msg("orderbook.50.ETHUSDT", "snapshot", 5, [["11", "1"]]), other)
    old.closed = True
    store.on_reconnect(FakeWS())
    assert not store.orderbook.is_synced("BTCUSDT")
    assert store.orderbook.is_synced("ETHUSDT")


# -------------------------------------------------------------- orderbook.full


def full_delta(u: int, asks: Any = (), bids: Any = (), seq: int | None = None) -> dict[str, Any]:
    return book_msg("orderbook.full.MNTUSDT", "delta", u, list(asks), list(bids), seq)


def full_snapshot(u: int, asks: Any = (), bids: Any = (), seq: int | None = None) -> dict[str, Any]:
    return {"s": "MNTUSDT", "a": list(asks), "b": list(bids), "u": u, "seq": seq or u * 10}


async def test_full_book_bootstraps_from_rest_and_bridges_buffered_deltas() -> None:
    store = BybitDataStore()
    ws = FakeWS("wss://stream.bybit.com/v5/public/spot")
    async with rest_stand_in() as (rest, client):
        rest.answer(FULL_PATH, load("rest_full_orderbook.json"))
        store.client = client
        replay(store, "orderbook_full.json", ws)
        await until(lambda: store.orderbook.is_synced("MNTUSDT"))
    assert rest.requests == [(FULL_PATH, {"category": "spot", "symbol": "MNTUSDT"})]
    assert prices(store, "MNTUSDT") == (
        [("0.4760", "100.00"), ("0.4761", "880.00"), ("0.4770", "12000.00")],
        [("0.4758", "2342.47"), ("0.4757", "1735.35"), ("0.4700", "50.00")],
    )
    status = store.orderbook.status("MNTUSDT")
    assert (status.last_update_id, status.gaps, status.buffered) == (278547, 0, 0)
    assert store.orderbook.feed("MNTUSDT").depth is None  # type: ignore[union-attr]
    assert ws.sent == []  # the initial sync needs no resubscription
    store.orderbook._check()


async def test_full_book_gap_resubscribes_counts_and_refetches() -> None:
    store = BybitDataStore()
    ws = FakeWS("wss://stream.bybit.com/v5/public/spot")
    topic = "orderbook.full.MNTUSDT"
    async with rest_stand_in() as (rest, client):
        rest.answer(
            FULL_PATH,
            {"retCode": 0, "retMsg": "OK", "result": full_snapshot(10, [["2", "1"]])},
            {"retCode": 0, "retMsg": "OK", "result": full_snapshot(20, [["3", "1"]])},
        )
        store.client = client
        store.onmessage(full_delta(10, [["2", "1"]]), ws)
        await until(lambda: store.orderbook.is_synced("MNTUSDT"))
        store.onmessage(full_delta(11, [["2.5", "1"]]), ws)
        store.onmessage(full_delta(13, [["2.6", "1"]]), ws)  # 12 is missing
        status = store.orderbook.status("MNTUSDT")
        assert (status.synced, status.gaps, status.last_update_id) == (False, 1, 11)
        await until(lambda: len(ws.sent) == 2)
        assert ws.sent == [
            {"op": "unsubscribe", "args": [topic]},
            {"op": "subscribe", "args": [topic]},
        ]
        # deltas keep arriving; the second snapshot (u=20) bridges them
        for u in range(14, 22):
            store.onmessage(full_delta(u, [[f"3.{u}", "1"]]), ws)
        await until(lambda: store.orderbook.is_synced("MNTUSDT"))
        store.onmessage(full_delta(22, [["4", "1"]]), ws)
    assert len(rest.requests) == 2
    asks = prices(store, "MNTUSDT")[0]
    assert asks == [("3", "1"), ("3.21", "1"), ("4", "1")]
    assert store.orderbook.status("MNTUSDT").gaps == 1
    store.orderbook._check()


async def test_full_book_refetches_a_snapshot_older_than_the_stream_with_backoff() -> None:
    clock = VirtualClock()
    store = BybitDataStore()
    store.full_orderbook_category = "linear"
    async with rest_stand_in(clock=clock) as (rest, client):
        rest.answer(
            FULL_PATH,
            {"retCode": 10016, "retMsg": "Internal server error", "result": {}},
            {"retCode": 0, "retMsg": "OK", "result": full_snapshot(3, [["1", "1"]])},  # too old
            {"retCode": 0, "retMsg": "OK", "result": full_snapshot(6, [["1", "2"]])},
        )
        store.client = client
        for u in (5, 6, 7):
            store.onmessage(full_delta(u, [[f"1.{u}", "1"]]))
        await until(lambda: store.orderbook.is_synced("MNTUSDT"))
    assert [q["category"] for _, q in rest.requests] == ["linear"] * 3
    # u=5 and u=6 are covered by the snapshot; u=7 applies on top
    assert prices(store, "MNTUSDT")[0] == [("1", "2"), ("1.7", "1")]
    status = store.orderbook.status("MNTUSDT")
    assert (status.gaps, status.last_update_id) == (0, 7)


async def test_full_book_u_1_clears_and_syncs_again() -> None:
    store = BybitDataStore()
    async with rest_stand_in() as (rest, client):
        rest.answer(
            FULL_PATH,
            {"retCode": 0, "retMsg": "OK", "result": full_snapshot(100, [["5", "1"]], seq=1000)},
            {"retCode": 0, "retMsg": "OK", "result": full_snapshot(1, [["7", "1"]], seq=5000)},
        )
        store.client = client
        store.onmessage(full_delta(100, seq=1000))
        await until(lambda: store.orderbook.is_synced("MNTUSDT"))
        store.onmessage(full_delta(101, [["6", "1"]], seq=1001))
        store.onmessage(full_delta(1, seq=5000))  # tick size change / restart
        assert not store.orderbook.is_synced("MNTUSDT")
        assert len(store.orderbook) == 0  # cleared at once
        await until(lambda: store.orderbook.is_synced("MNTUSDT"))
        store.onmessage(full_delta(2, [["8", "1"]], seq=5003))
    assert prices(store, "MNTUSDT")[0] == [("7", "1"), ("8", "1")]
    assert store.orderbook.status("MNTUSDT").gaps == 0


async def test_full_topic_takes_over_from_an_n_level_topic() -> None:
    store = BybitDataStore()
    ws = FakeWS("wss://stream.bybit.com/v5/public/spot")
    async with rest_stand_in() as (rest, client):
        rest.answer(
            FULL_PATH,
            {"retCode": 0, "retMsg": "OK", "result": full_snapshot(40, [["1", "1"], ["9", "9"]])},
        )
        store.client = client
        store.onmessage(book_msg("orderbook.50.MNTUSDT", "snapshot", 900, [["1", "5"]]), ws)
        store.onmessage(full_delta(41, [["2", "1"]]), ws)
        assert not store.orderbook.is_synced("MNTUSDT")  # the N-level book cannot bridge it
        await until(lambda: store.orderbook.is_synced("MNTUSDT"))
        store.onmessage(book_msg("orderbook.50.MNTUSDT", "delta", 901, [["1", "0"]]), ws)
    assert prices(store, "MNTUSDT")[0] == [("1", "1"), ("2", "1"), ("9", "9")]
    feed = store.orderbook.feed("MNTUSDT")
    assert feed is not None
    assert (feed.depth, feed.shadowed) == (None, 1)
    assert ws.sent == []
    store.orderbook._check()


def test_full_book_buffering_restarts_on_a_break_and_drops_lower_seq() -> None:
    store = BybitDataStore()
    book = store.orderbook
    store.onmessage(full_delta(5, [["1", "1"]], seq=50))
    store.onmessage(full_delta(6, [["2", "1"]], seq=40))  # seq went down: discarded
    store.onmessage(full_delta(9, [["3", "1"]], seq=90))  # break in u: buffer restarts
    store.onmessage(full_delta(10, [["4", "1"]], seq=100))
    assert book.status("MNTUSDT").buffered == 2
    assert book._install_full_snapshot("MNTUSDT", full_snapshot(7, seq=70)) == "too_old"
    assert book._install_full_snapshot("MNTUSDT", full_snapshot(8, [["0.5", "1"]], seq=80)) == (
        "synced"
    )
    assert prices(store, "MNTUSDT")[0] == [("0.5", "1"), ("3", "1"), ("4", "1")]
    assert book.status("MNTUSDT").last_update_id == 10
    assert book._install_full_snapshot("MNTUSDT", {"u": "x"}) == "malformed"


def test_full_book_without_a_client_says_what_to_do(caplog: pytest.LogCaptureFixture) -> None:
    store = BybitDataStore()
    with caplog.at_level(logging.WARNING, logger="datastores.exchanges.bybit"):
        store.onmessage(full_delta(5, [["1", "1"]]))
    assert not store.orderbook.is_synced("MNTUSDT")
    assert any("store.client = client" in r.getMessage() for r in caplog.records)


async def test_full_book_reconnect_refetches_without_resubscribing() -> None:
    store = BybitDataStore()
    ws = FakeWS("wss://stream-testnet.bybit.com/v5/public/spot")
    async with rest_stand_in() as (rest, client):
        # the testnet WS host maps to the testnet REST host
        client._redirects["api-testnet.bybit.com"] = client._redirects.pop("api.bybit.com")
        rest.answer(
            FULL_PATH,
            {"retCode": 0, "retMsg": "OK", "result": full_snapshot(10, [["1", "1"]])},
            {"retCode": 0, "retMsg": "OK", "result": full_snapshot(50, [["2", "1"]])},
        )
        store.client = client
        store.onmessage(full_delta(10), ws)
        await until(lambda: store.orderbook.is_synced("MNTUSDT"))
        store.on_reconnect(ws)
        assert not store.orderbook.is_synced("MNTUSDT")
        store.onmessage(full_delta(50), ws)
        await until(lambda: store.orderbook.is_synced("MNTUSDT"))
    assert len(rest.requests) == 2
    assert ws.sent == []
    assert prices(store, "MNTUSDT")[0] == [("2", "1")]


def background_tasks(store: BybitDataStore) -> set[asyncio.Task[Any]]:
    """The collection's live background tasks (snapshot fetches, resubscriptions)."""
    background = store._background
    tasks = (background.task(key) for key in background.running())
    return {task for task in tasks if task is not None}


async def test_aclose_cancels_background_snapshot_work() -> None:
    store = BybitDataStore()
    async with rest_stand_in(clock=VirtualClock(auto=False)) as (rest, client):
        rest.answer(FULL_PATH, {"retCode": 10016, "retMsg": "busy", "result": {}})
        store.client = client
        store.onmessage(full_delta(5))
        await until(lambda: len(rest.requests) >= 1)
        await asyncio.sleep(0.01)
        assert background_tasks(store)  # parked in the backoff sleep (virtual time stands)
        await store.aclose()
        assert not background_tasks(store)
        store.onmessage(full_delta(6))  # after close: no new work starts
        assert not background_tasks(store)


async def test_client_close_ends_the_collection_background_work() -> None:
    store = BybitDataStore()
    async with rest_stand_in(clock=VirtualClock(auto=False)) as (rest, client):
        rest.answer(FULL_PATH, {"retCode": 10016, "retMsg": "busy", "result": {}})
        store.client = client
        store.onmessage(full_delta(5))
        await until(lambda: len(rest.requests) >= 1)
        await asyncio.sleep(0.01)
        tasks = background_tasks(store)
        assert tasks
    assert all(t.done() for t in tasks)


# ------------------------------------------------- random streams vs a naive model

PRICES = st.sampled_from([f"{p:.1f}" for p in range(90, 111)])
SIZES = st.sampled_from(["0", "0", "0.5", "1", "2.25"])
LEVELS = st.lists(st.tuples(PRICES, SIZES).map(list), max_size=6)


class NaiveBook:
    """Dicts and a full sort after every update: obviously right, slow."""

    def __init__(self, depth: int | None) -> None:
        self.depth = depth
        self.asks: dict[str, str] = {}
        self.bids: dict[str, str] = {}

    def replace(self, asks: list[list[str]], bids: list[list[str]]) -> None:
        self.asks, self.bids = {}, {}
        self.apply(asks, bids)

    def apply(self, asks: list[list[str]], bids: list[list[str]]) -> None:
        for side, levels in ((self.asks, asks), (self.bids, bids)):
            for price, size in levels:
                # the store keys levels by numeric price: "100" and "100.0" are one level
                for known in [p for p in side if float(p) == float(price)]:
                    del side[known]
                if float(size) != 0.0:
                    side[price] = size
        if self.depth is not None:
            self.asks = dict(sorted(self.asks.items(), key=lambda kv: float(kv[0]))[: self.depth])
            self.bids = dict(sorted(self.bids.items(), key=lambda kv: -float(kv[0]))[: self.depth])

    def view(self) -> tuple[list[tuple[str, str]], ...]:
        return (
            sorted(self.asks.items(), key=lambda kv: float(kv[0])),
            sorted(self.bids.items(), key=lambda kv: -float(kv[0])),
        )


STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("delta"), LEVELS, LEVELS, st.integers(1, 3)),
        st.tuples(st.just("snapshot"), LEVELS, LEVELS, st.just(0)),
        st.tuples(st.just("restart"), LEVELS, LEVELS, st.just(0)),
        st.tuples(st.just("back"), LEVELS, LEVELS, st.integers(1, 5)),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(depth=st.sampled_from([1, 3, 50]), steps=STEPS)
def test_random_depth_streams_match_a_naive_model(
    depth: int, steps: list[tuple[str, list[list[str]], list[list[str]], int]]
) -> None:
    store = BybitDataStore()
    topic = f"orderbook.{depth}.BTCUSDT"
    model = NaiveBook(depth)
    synced = False
    u = 100
    for kind, asks, bids, step in steps:
        if kind == "snapshot":
            u += 1
            store.onmessage(book_msg(topic, "snapshot", u, asks, bids))
            model.replace(asks, bids)
            synced = True
        elif kind == "restart":
            u = 1
            store.onmessage(book_msg(topic, "delta", u, asks, bids))
            model.replace(asks, bids)
            synced = True
        elif kind == "back":
            if u < 3:
                continue
            # u goes back (but not to the reset value 1): a gap while synced
            store.onmessage(book_msg(topic, "delta", max(u - step, 2), asks, bids))
            synced = False
        else:
            u += step
            store.onmessage(book_msg(topic, "delta", u, asks, bids))
            if synced and step == 1:
                model.apply(asks, bids)
            elif synced:
                synced = False  # u jumped: a gap under the default strict rule
        assert store.orderbook.is_synced("BTCUSDT") == synced
        if synced:
            assert prices(store, "BTCUSDT") == model.view()
        store.orderbook._check()
    assert store.dropped_messages == 0
    assert store.handler_errors == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    deltas=st.lists(st.tuples(LEVELS, LEVELS), min_size=1, max_size=25),
    data=st.data(),
)
def test_random_full_streams_bridge_any_snapshot_point(
    deltas: list[tuple[list[list[str]], list[list[str]]]], data: st.DataObject
) -> None:
    """Whatever delta the REST snapshot was taken at, the final book is the same."""
    n = len(deltas)
    received = data.draw(st.integers(1, n), label="deltas received before the snapshot")
    taken_at = data.draw(st.integers(0, n), label="snapshot includes deltas up to")
    first_u = 1000
    exchange = NaiveBook(None)
    states = [exchange.view()]
    for asks, bids in deltas:
        exchange.apply(asks, bids)
        states.append(exchange.view())
    store = BybitDataStore()
    book = store.orderbook
    for i in range(received):
        store.onmessage(full_delta(first_u + i, *deltas[i]))
    snap_asks, snap_bids = states[taken_at]
    # a snapshot from before the update preceding the first buffered delta cannot bridge
    assert book._install_full_snapshot("MNTUSDT", full_snapshot(first_u - 2)) == "too_old"
    assert not book.is_synced("MNTUSDT")
    verdict = book._install_full_snapshot(
        "MNTUSDT",
        full_snapshot(
            first_u + taken_at - 1, [list(x) for x in snap_asks], [list(x) for x in snap_bids]
        ),
    )
    assert verdict == "synced"
    for i in range(received, n):
        store.onmessage(full_delta(first_u + i, *deltas[i]))
    assert book.is_synced("MNTUSDT")
    assert prices(store, "MNTUSDT") == states[n]
    assert book.status("MNTUSDT").gaps == 0
    book._check()


@pytest.mark.parametrize("missing", ["a", "b"])
@pytest.mark.parametrize("topic", ["orderbook.50.BTCUSDT", "orderbook.full.BTCUSDT"])
def test_a_delta_without_a_side_is_dropped_counted_and_unsyncs_the_book(
    missing: str, topic: str
) -> None:
    # Issue 15 point 8: a delta with no "b" (or "a") key was applied as if that side were
    # empty, with no drop counted, and the book stayed synced without that update.
    store = BybitDataStore()
    if topic.startswith("orderbook.full"):
        store.onmessage(book_msg(topic, "delta", 100, [["101", "1"]], [["99", "1"]]))
        snapshot = {"u": 100, "seq": 1000, "a": [["101", "1"]], "b": [["99", "1"]]}
        assert store.orderbook._install_full_snapshot("BTCUSDT", snapshot) == "synced"
    else:
        store.onmessage(book_msg(topic, "snapshot", 100, [["101", "1"]], [["99", "1"]]))
    assert store.orderbook.is_synced("BTCUSDT")
    delta = book_msg(topic, "delta", 101, [["102", "2"]], [["98", "2"]])
    del delta["data"][missing]
    store.onmessage(delta)
    assert sum(store.statistics().dropped.values()) == 1
    assert not store.orderbook.is_synced("BTCUSDT")
    assert ("102", "2") not in prices(store, "BTCUSDT")[0]
    assert store.orderbook.status("BTCUSDT").errors == 1
