"""Bybit ``orderbook.full``: bridging across service restarts (``u`` repeats, ``seq``
tells the epochs apart) and a snapshot request that could not start (no Client yet,
or a closed one) being started once a Client is there."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from datastores.exchanges.bybit.store import BybitDataStore
from datastores.testing import VirtualClock

from .test_stores import FakeWS, rest_stand_in, until

FULL_PATH = "/v5/market/full_orderbook"
TOPIC = "orderbook.full.MNTUSDT"


def delta(u: int, seq: int, asks: Any = (), bids: Any = ()) -> dict[str, Any]:
    data = {"s": "MNTUSDT", "a": [list(a) for a in asks], "b": [list(b) for b in bids]}
    data.update({"u": u, "seq": seq})
    return {"topic": TOPIC, "type": "delta", "ts": 1, "data": data, "cts": 1}


def snapshot(u: int, seq: int, asks: Any = (), bids: Any = ()) -> dict[str, Any]:
    return {
        "s": "MNTUSDT",
        "a": [list(a) for a in asks],
        "b": [list(b) for b in bids],
        "u": u,
        "seq": seq,
    }


def levels(store: BybitDataStore) -> tuple[list[list[str]], list[list[str]]]:
    asks, bids = store.orderbook.levels("MNTUSDT")
    return [list(a) for a in asks], [list(b) for b in bids]


def test_buffered_deltas_of_an_earlier_restart_are_not_replayed_on_a_later_snapshot() -> None:
    """Two restarts (u=1) in a row: the buffer holds u=1, 2 of the first epoch, the REST
    snapshot is u=1 of the second. By u alone the buffered u=2 "follows" it; by seq
    (Bybit: discard buffered deltas whose seq is below the snapshot's) it is older.
    It used to be applied on top of the newer snapshot, and the book said synced."""
    store = BybitDataStore()
    book = store.orderbook
    book.resync_hook = lambda symbol: None  # no recovery tasks: the test installs snapshots
    store.onmessage(delta(1, 100, asks=[("5", "1")]))  # restart #1
    store.onmessage(delta(2, 110, asks=[("6", "1")]))
    assert book.status("MNTUSDT").buffered == 2
    # restart #2 on the exchange: its u=1 (seq 200) has not arrived yet, REST is faster
    verdict = book._install_full_snapshot("MNTUSDT", snapshot(1, 200, asks=[("7", "1")]))
    assert verdict == "synced"
    assert book.status("MNTUSDT").last_update_id == 1
    assert levels(store) == ([["7", "1"]], [])
    assert book.status("MNTUSDT").stale == 2
    book._check()


def test_a_buffered_delta_after_the_snapshot_seq_still_bridges() -> None:
    store = BybitDataStore()
    book = store.orderbook
    book.resync_hook = lambda symbol: None
    store.onmessage(delta(10, 100, asks=[("5", "1")]))
    store.onmessage(delta(11, 105, asks=[("6", "1")]))
    store.onmessage(delta(12, 109, asks=[("7", "1")]))
    assert book._install_full_snapshot("MNTUSDT", snapshot(10, 100, asks=[("5", "1")])) == "synced"
    assert levels(store) == ([["5", "1"], ["6", "1"], ["7", "1"]], [])
    status = book.status("MNTUSDT")
    assert (status.synced, status.last_update_id, status.stale, status.gaps) == (True, 12, 1, 0)


async def test_a_client_set_after_the_no_client_warning_fetches_the_snapshot(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warning says "set store.client"; doing so used to change nothing: the
    request was marked as made, so later deltas never asked again."""
    monkeypatch.setattr("datastores._recovery.NO_CLIENT_GRACE", 0.0)  # said at once
    store = BybitDataStore()
    ws = FakeWS("wss://stream.bybit.com/v5/public/spot")
    with caplog.at_level(logging.WARNING, logger="datastores.exchanges.bybit"):
        store.onmessage(delta(10, 100, asks=[("5", "1")]), ws)
        store.onmessage(delta(11, 101, asks=[("6", "1")]), ws)
        await until(lambda: any("no Client" in r.getMessage() for r in caplog.records))
        await asyncio.sleep(0.01)
    warnings = [r for r in caplog.records if "no Client" in r.getMessage()]
    assert len(warnings) == 1  # said once, not once per buffered delta
    async with rest_stand_in() as (rest, client):
        rest.answer(FULL_PATH, {"retCode": 0, "retMsg": "OK", "result": snapshot(11, 101)})
        store.client = client
        store.onmessage(delta(12, 102, asks=[("7", "1")]), ws)
        await until(lambda: store.orderbook.is_synced("MNTUSDT"))
    assert rest.requests == [(FULL_PATH, {"category": "spot", "symbol": "MNTUSDT"})]
    assert store.orderbook.status("MNTUSDT").last_update_id == 12
    assert levels(store) == ([["7", "1"]], [])


async def test_a_new_client_after_the_old_one_closed_fetches_the_snapshot() -> None:
    store = BybitDataStore()
    ws = FakeWS("wss://stream.bybit.com/v5/public/spot")
    async with rest_stand_in() as (rest, client):
        rest.answer(FULL_PATH, {"retCode": 10016, "retMsg": "server error"})
        store.client = client
        store.onmessage(delta(10, 100, asks=[("5", "1")]), ws)
        await until(lambda: len(rest.requests) >= 1)
    # the client closed (and ended the fetch loop) while the book was unsynced
    assert not store.orderbook.is_synced("MNTUSDT")
    async with rest_stand_in() as (rest, client):
        rest.answer(FULL_PATH, {"retCode": 0, "retMsg": "OK", "result": snapshot(10, 100)})
        store.client = client
        store.onmessage(delta(11, 101, asks=[("6", "1")]), ws)
        await until(lambda: store.orderbook.is_synced("MNTUSDT"))
    assert levels(store) == ([["6", "1"]], [])


def synced_at_11() -> BybitDataStore:
    store = BybitDataStore()
    store.orderbook.resync_hook = lambda symbol: None
    store.onmessage(delta(10, 100, asks=[("5", "1")]))
    store.onmessage(delta(11, 105, asks=[("6", "1")]))
    assert store.orderbook._install_full_snapshot("MNTUSDT", snapshot(10, 100, [("5", "1")])) == (
        "synced"
    )
    assert store.orderbook.status("MNTUSDT").last_update_id == 11
    return store


def test_a_restart_whose_u1_was_lost_is_a_gap_not_a_frozen_book() -> None:
    """After a restart ``u`` starts again at 1. If that message is lost, the next ones
    (u=2, 3...) are below the book's ``u`` and were dropped as stale, forever, while
    the book said synced. Their ``seq`` (Bybit's cross sequence, which only grows)
    is newer than anything received: they cannot be replays."""
    store = synced_at_11()
    store.onmessage(delta(2, 210, asks=[("7", "1")]))  # u=1 (seq 200) never arrived
    status = store.orderbook.status("MNTUSDT")
    assert not status.synced
    assert (status.gaps, status.stale) == (1, 1)  # the stale one: u=10 in the snapshot


def test_a_restart_missed_while_bridging_a_snapshot_is_a_gap() -> None:
    store = BybitDataStore()
    book = store.orderbook
    book.resync_hook = lambda symbol: None
    store.onmessage(delta(10, 100, asks=[("5", "1")]))
    assert book._install_full_snapshot("MNTUSDT", snapshot(12, 120, [("5", "1")])) == "synced"
    store.onmessage(delta(2, 140, asks=[("7", "1")]))  # restart; its u=1 (seq 130) lost
    status = book.status("MNTUSDT")
    assert not status.synced
    assert status.gaps == 1


def test_replayed_deltas_are_still_stale() -> None:
    store = synced_at_11()
    store.onmessage(delta(11, 105, asks=[("6", "9")]))
    store.onmessage(delta(10, 100, asks=[("5", "9")]))
    status = store.orderbook.status("MNTUSDT")
    assert (status.synced, status.gaps, status.last_update_id) == (True, 0, 11)
    assert levels(store) == ([["5", "1"], ["6", "1"]], [])
    store.onmessage(delta(12, 110, asks=[("7", "1")]))
    assert store.orderbook.status("MNTUSDT").last_update_id == 12


class RecordingClock(VirtualClock):
    def __init__(self) -> None:
        super().__init__(auto=True)
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await super().sleep(seconds)


async def test_a_snapshot_shown_too_old_by_the_next_delta_is_refetched_after_a_backoff() -> None:
    """The snapshot bridged the buffer, then the first live delta jumps past it: the
    REST snapshot lagged the stream. The refetch waits the stale backoff (0.25 s, then
    0.5 s...) instead of hammering the endpoint, and it is not a gap."""
    clock = RecordingClock()
    store = BybitDataStore()
    ws = FakeWS("wss://stream.bybit.com/v5/public/spot")
    async with rest_stand_in(clock=clock) as (rest, client):
        rest.answer(
            FULL_PATH,
            {"retCode": 0, "retMsg": "OK", "result": snapshot(10, 100)},
            {"retCode": 0, "retMsg": "OK", "result": snapshot(13, 130)},
            {"retCode": 0, "retMsg": "OK", "result": snapshot(20, 200, asks=[("9", "1")])},
        )
        store.client = client
        store.onmessage(delta(10, 100), ws)
        await until(lambda: store.orderbook.is_synced("MNTUSDT"))
        store.onmessage(delta(13, 130, asks=[("5", "1")]), ws)  # 11, 12 were never in REST
        await until(lambda: len(rest.requests) == 2 and store.orderbook.is_synced("MNTUSDT"))
        store.onmessage(delta(16, 160, asks=[("6", "1")]), ws)  # behind again: waits longer
        await until(lambda: len(rest.requests) == 3 and store.orderbook.is_synced("MNTUSDT"))
        store.onmessage(delta(21, 210, asks=[("10", "1")]), ws)
    assert clock.slept == [0.25, 0.5]
    assert levels(store) == ([["9", "1"], ["10", "1"]], [])
    status = store.orderbook.status("MNTUSDT")
    assert (status.synced, status.gaps, status.last_update_id) == (True, 0, 21)
    assert ws.sent == []  # a lagging snapshot is no gap: the stream is not restarted


def test_drops_are_counted_by_reason_in_statistics() -> None:
    store = BybitDataStore()
    store.onmessage("not json")
    store.onmessage({"topic": "publicTrade.BTCUSDT", "data": {"not": "a list"}})
    store.onmessage({"topic": "publicTrade.BTCUSDT", "data": [{"i": "1"}, 3]})
    store.onmessage({"topic": "kline.5", "data": []})
    stats = store.statistics()
    assert stats.dropped == {
        "not a JSON object": 1,
        "data is not an array": 1,
        "items that are not objects": 1,
        "kline topic without a symbol": 1,
    }
    assert store.dropped_messages == 4
    assert stats.messages == 4
    assert stats.unhandled == {}
