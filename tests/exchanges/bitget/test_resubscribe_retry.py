"""Bitget books: a resubscription that brings no snapshot is retried with backoff."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from datastores._recovery import RESUBSCRIBE_TIMEOUT, RESUBSCRIBE_TIMEOUT_MAX
from datastores.exchanges.bitget.store import BitgetV2DataStore
from datastores.exchanges.bitget.store_v1 import BitgetDataStore
from datastores.testing import VirtualClock

SPOT = {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"}
MC = {"instType": "mc", "channel": "books", "instId": "BTCUSDT"}


def book(
    action: str, arg: dict[str, str], *, checksum: int | None = None, seq: int | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"asks": [["2", "1"]], "bids": [["1", "1"]], "ts": "1"}
    if checksum is not None:
        entry["checksum"] = checksum
    if seq is not None:
        entry["seq"] = seq
    return {"action": action, "arg": arg, "data": [entry], "ts": 1}


def resync_tasks(store: Any) -> dict[Any, asyncio.Task[Any]]:
    """The live resubscription tasks of ``store``'s books, by background key."""
    background = store._background
    return {key: background.task(key) for key in background.running()}


class FakeWS:
    """Captures what the collection sends; answers nothing."""

    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.closed = False

    async def send_json(self, obj: Any, auth: Any = None) -> None:
        self.sent.append(obj)

    def ops(self) -> list[str]:
        return [m["op"] for m in self.sent]


class FakeClient:
    """The parts of datastores.Client the collection uses: clock, closers, closed."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.closed = False
        self.closers: list[Any] = []

    def add_closer(self, obj: Any) -> None:
        if self.closed:
            raise RuntimeError("client is closed")
        self.closers.append(obj)

    async def close(self) -> None:
        self.closed = True
        for closer in self.closers:
            await closer.aclose()


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def make(v1: bool = False) -> tuple[Any, FakeClient, VirtualClock, dict[str, str]]:
    clock = VirtualClock(auto=False)
    client = FakeClient(clock)
    store: Any = BitgetDataStore() if v1 else BitgetV2DataStore()
    store.client = client
    return store, client, clock, MC if v1 else SPOT


def book_store(store: Any) -> Any:
    return store.orderbook if isinstance(store, BitgetDataStore) else store.book


def break_book(store: Any, ws: FakeWS, arg: dict[str, str]) -> None:
    """A synced book, then an update whose checksum does not match."""
    store.onmessage(book("snapshot", arg, seq=1 if arg is SPOT else None), ws)
    assert book_store(store).is_synced("BTCUSDT")
    store.onmessage(book("update", arg, checksum=12345, seq=2 if arg is SPOT else None), ws)
    assert not book_store(store).is_synced("BTCUSDT")


@pytest.mark.parametrize("v1", [False, True], ids=["v2", "v1"])
async def test_no_snapshot_resubscribes_again_with_doubling_timeout(
    v1: bool, caplog: pytest.LogCaptureFixture
) -> None:
    store, _client, clock, arg = make(v1)
    ws = FakeWS()
    with caplog.at_level(logging.INFO, logger="datastores.exchanges.bitget"):
        break_book(store, ws, arg)
        await settle()
        assert ws.sent == [
            {"op": "unsubscribe", "args": [arg]},
            {"op": "subscribe", "args": [arg]},
        ]
        clock.advance(RESUBSCRIBE_TIMEOUT - 0.5)
        await settle()
        assert len(ws.sent) == 2  # still waiting
        clock.advance(0.5)
        await settle()
        assert ws.ops() == ["unsubscribe", "subscribe"] * 2
        assert ws.sent[2:] == ws.sent[:2]
        clock.advance(RESUBSCRIBE_TIMEOUT)  # the wait has doubled: not yet
        await settle()
        assert len(ws.sent) == 4
        clock.advance(RESUBSCRIBE_TIMEOUT)
        await settle()
        assert len(ws.sent) == 6
    warnings = [r for r in caplog.records if "resubscribing again" in r.getMessage()]
    assert [r.levelno for r in warnings] == [logging.WARNING, logging.INFO]
    status = book_store(store).status("BTCUSDT")
    assert not status.synced
    assert status.resyncs == 3  # the first request and two retries
    # The book is still deaf: no more than one task for it.
    store.onmessage(book("update", arg, checksum=1, seq=3 if not v1 else None), ws)
    await settle()
    assert len(resync_tasks(store)) == 1
    await store.aclose()


async def test_timeout_stops_doubling_at_the_maximum() -> None:
    store, _client, clock, arg = make()
    ws = FakeWS()
    break_book(store, ws, arg)
    await settle()
    # 10, 20, 40, 80, 160, then 300 (capped) twice
    waits = [RESUBSCRIBE_TIMEOUT * 2**i for i in range(5)]
    waits += [RESUBSCRIBE_TIMEOUT_MAX, RESUBSCRIBE_TIMEOUT_MAX]
    for i, wait in enumerate(waits, start=2):
        clock.advance(wait - 0.5)
        await settle()
        assert len(ws.sent) == 2 * (i - 1)
        clock.advance(0.5)
        await settle()
        assert len(ws.sent) == 2 * i
    await store.aclose()


@pytest.mark.parametrize("v1", [False, True], ids=["v2", "v1"])
async def test_snapshot_stops_the_retries(v1: bool) -> None:
    store, _client, clock, arg = make(v1)
    ws = FakeWS()
    break_book(store, ws, arg)
    await settle()
    clock.advance(RESUBSCRIBE_TIMEOUT)
    await settle()
    assert len(ws.sent) == 4
    store.onmessage(book("snapshot", arg, seq=10 if not v1 else None), ws)
    assert book_store(store).is_synced("BTCUSDT")
    await settle()
    assert resync_tasks(store) == {}
    clock.advance(RESUBSCRIBE_TIMEOUT_MAX * 4)
    await settle()
    assert len(ws.sent) == 4
    # A new failure starts a new episode at once, with the initial timeout.
    store.onmessage(book("update", arg, checksum=7, seq=11 if not v1 else None), ws)
    await settle()
    assert len(ws.sent) == 6
    clock.advance(RESUBSCRIBE_TIMEOUT)
    await settle()
    assert len(ws.sent) == 8
    await store.aclose()


@pytest.mark.parametrize("v1", [False, True], ids=["v2", "v1"])
async def test_closing_the_client_or_the_store_leaves_no_task(v1: bool) -> None:
    store, client, clock, arg = make(v1)
    ws = FakeWS()
    break_book(store, ws, arg)
    await settle()
    assert client.closers == [store._background]
    tasks = list(resync_tasks(store).values())
    assert len(tasks) == 1
    await client.close()
    assert tasks[0].cancelled()
    assert resync_tasks(store) == {}
    clock.advance(RESUBSCRIBE_TIMEOUT_MAX * 4)
    await settle()
    assert len(ws.sent) == 2
    # The store's own aclose() too (idempotent).
    store2, _client2, clock2, arg2 = make(v1)
    ws2 = FakeWS()
    break_book(store2, ws2, arg2)
    await settle()
    task = next(iter(resync_tasks(store2).values()))
    await store2.aclose()
    await store2.aclose()
    assert task.cancelled()
    clock2.advance(RESUBSCRIBE_TIMEOUT * 4)
    await settle()
    assert len(ws2.sent) == 2


async def test_closed_client_sends_once_and_does_not_wait() -> None:
    store, client, _clock, arg = make()
    client.closed = True
    ws = FakeWS()
    break_book(store, ws, arg)
    await settle()
    assert ws.ops() == ["unsubscribe", "subscribe"]
    assert resync_tasks(store) == {}


async def test_retry_goes_to_the_latest_connection_and_stops_when_it_closes() -> None:
    store, _client, clock, arg = make()
    old, new = FakeWS(), FakeWS()
    break_book(store, old, arg)
    await settle()
    assert len(old.sent) == 2
    # A message of the same book arrives on another connection (dropped: unsynced).
    store.onmessage(book("update", arg, seq=3), new)
    clock.advance(RESUBSCRIBE_TIMEOUT)
    await settle()
    assert len(old.sent) == 2
    assert new.ops() == ["unsubscribe", "subscribe"]
    new.closed = True
    clock.advance(RESUBSCRIBE_TIMEOUT * 2)
    await settle()
    assert len(new.sent) == 2
    assert resync_tasks(store) == {}


async def test_reconnect_cancels_the_retry() -> None:
    store, _client, clock, arg = make()
    ws = FakeWS()
    break_book(store, ws, arg)
    await settle()
    store.on_reconnect(ws)
    await settle()
    assert resync_tasks(store) == {}
    clock.advance(RESUBSCRIBE_TIMEOUT * 4)
    await settle()
    assert len(ws.sent) == 2  # the app resubscribes itself after a reconnect


async def test_user_unsubscribe_ends_the_retries_but_our_own_acks_do_not() -> None:
    store, _client, clock, arg = make()
    ws = FakeWS()
    break_book(store, ws, arg)
    await settle()
    # Bitget acknowledges our unsubscribe and subscribe; no snapshot follows.
    store.onmessage({"event": "unsubscribe", "arg": arg}, ws)
    store.onmessage({"event": "subscribe", "arg": arg}, ws)
    clock.advance(RESUBSCRIBE_TIMEOUT)
    await settle()
    assert len(ws.sent) == 4
    store.onmessage({"event": "unsubscribe", "arg": arg}, ws)  # ack of our second round
    assert len(resync_tasks(store)) == 1
    store.onmessage({"event": "unsubscribe", "arg": arg}, ws)  # the user's
    await settle()
    assert resync_tasks(store) == {}
    clock.advance(RESUBSCRIBE_TIMEOUT_MAX * 4)
    await settle()
    assert len(ws.sent) == 4
    assert store.dropped_messages == 0


async def test_a_snapshot_failing_its_checksum_leaves_the_retry_timer_in_charge() -> None:
    store, _client, clock, arg = make()
    ws = FakeWS()
    break_book(store, ws, arg)
    await settle()
    assert len(ws.sent) == 2
    # The answer to the resubscription fails its checksum: no immediate new round
    # (a checksum the exchange keeps failing must not cause a resubscribe storm).
    store.onmessage(book("snapshot", arg, checksum=99, seq=5), ws)
    assert not book_store(store).is_synced("BTCUSDT")
    await settle()
    assert len(ws.sent) == 2
    clock.advance(RESUBSCRIBE_TIMEOUT)
    await settle()
    assert len(ws.sent) == 4
    await store.aclose()
