"""Bybit N-level books: a resubscribe that brings no snapshot is retried after a
timeout (10 s doubling to 300 s, on the Client's clock) until the snapshot comes,
the topic stops feeding the book, the connection closes, or the store/Client closes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from datastores import Client
from datastores.exchanges.bybit.store import BybitDataStore
from datastores.testing import VirtualClock

from .test_orderbook import book_msg
from .test_stores import FakeWS, until

TOPIC = "orderbook.50.BTCUSDT"
SYMBOL = "BTCUSDT"
RESUB = [{"op": "unsubscribe", "args": [TOPIC]}, {"op": "subscribe", "args": [TOPIC]}]


async def settle() -> None:
    """Let ready tasks run (no virtual time passes)."""
    for _ in range(20):
        await asyncio.sleep(0)


def retry_tasks() -> list[asyncio.Task[Any]]:
    """Every live resubscribe task of the event loop (the kit names them
    ``"<collection> resubscribe <topic> <symbol>"``)."""
    return [t for t in asyncio.all_tasks() if not t.done() and " resubscribe " in t.get_name()]


def gap(store: BybitDataStore, ws: Any) -> None:
    store.onmessage(book_msg(TOPIC, "snapshot", 100, [["101", "1"]], [["99", "1"]]), ws)
    store.onmessage(book_msg(TOPIC, "delta", 102, [["102", "1"]]), ws)  # u skipped 101
    assert not store.orderbook.is_synced(SYMBOL)


async def test_no_snapshot_resubscribes_again_with_doubling_timeouts_on_the_latest_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = VirtualClock(auto=False)
    async with Client(apis={}, clock=clock) as client:
        store = BybitDataStore()
        store.client = client
        ws, ws2 = FakeWS(), FakeWS()
        with caplog.at_level(logging.INFO, logger="datastores.exchanges.bybit"):
            gap(store, ws)
            await until(lambda: len(ws.sent) == 2)
            assert ws.sent == RESUB
            clock.advance(9.9)
            await settle()
            assert len(ws.sent) == 2
            clock.advance(0.1)
            await until(lambda: len(ws.sent) == 4)
            assert ws.sent[2:] == RESUB
            # a delta of the topic now comes on another connection: the retry goes there
            store.onmessage(book_msg(TOPIC, "delta", 103, [["103", "1"]]), ws2)
            clock.advance(19.9)  # the timeout doubled
            await settle()
            assert (len(ws.sent), ws2.sent) == (4, [])
            clock.advance(0.1)
            await until(lambda: len(ws2.sent) == 2)
            assert ws2.sent == RESUB
            assert len(ws.sent) == 4
            # 40, 80, 160, then capped at 300
            for wait in (40, 80, 160, 300, 300):
                sent = len(ws2.sent)
                clock.advance(wait - 0.1)
                await settle()
                assert len(ws2.sent) == sent
                clock.advance(0.1)
                await until(lambda n=sent: len(ws2.sent) == n + 2)  # type: ignore[misc]
        retries = [r for r in caplog.records if "no snapshot" in r.getMessage()]
        assert len(retries) == 7
        # one WARNING per episode, later retries at INFO
        assert [r.levelno for r in retries] == [logging.WARNING] + [logging.INFO] * 6
        assert not store.orderbook.is_synced(SYMBOL)
        assert store.orderbook.status(SYMBOL).gaps == 1  # retries are not new gaps
    # closing the Client ends the retry timer
    await settle()
    assert retry_tasks() == []


async def test_a_snapshot_stops_the_retries_and_a_new_gap_starts_over() -> None:
    clock = VirtualClock(auto=False)
    async with Client(apis={}, clock=clock) as client:
        store = BybitDataStore()
        store.client = client
        ws = FakeWS()
        gap(store, ws)
        await until(lambda: len(ws.sent) == 2)
        assert len(retry_tasks()) == 1
        store.onmessage(book_msg(TOPIC, "snapshot", 7, [["110", "1"]], [["98", "1"]]), ws)
        assert store.orderbook.is_synced(SYMBOL)
        await settle()
        assert retry_tasks() == []  # stopped at once, not at its next timeout
        clock.advance(1000)
        await settle()
        assert len(ws.sent) == 2
        # a later gap is a new episode: resubscribed at once, first timeout 10 s again
        store.onmessage(book_msg(TOPIC, "delta", 9, [["111", "1"]]), ws)
        await until(lambda: len(ws.sent) == 4)
        clock.advance(10)
        await until(lambda: len(ws.sent) == 6)
        # a snapshot arriving between two retries also ends them
        store.onmessage(book_msg(TOPIC, "snapshot", 20, [["120", "1"]], [["97", "1"]]), ws)
        clock.advance(1000)
        await settle()
        assert len(ws.sent) == 6
        assert retry_tasks() == []


async def test_closing_the_client_or_the_store_leaves_no_retry_task() -> None:
    clock = VirtualClock(auto=False)
    client = Client(apis={}, clock=clock)
    store = BybitDataStore()
    store.client = client
    ws = FakeWS()
    gap(store, ws)
    await until(lambda: len(ws.sent) == 2)
    assert len(retry_tasks()) == 1
    await client.close()
    assert retry_tasks() == []
    clock.advance(1000)
    await settle()
    assert len(ws.sent) == 2

    # no Client: the system clock; aclose() ends the (10 s) timer
    other = BybitDataStore()
    ws2 = FakeWS()
    gap(other, ws2)
    await until(lambda: len(ws2.sent) == 2)
    assert len(retry_tasks()) == 1
    await other.aclose()
    assert retry_tasks() == []
    assert len(ws2.sent) == 2


async def test_retries_stop_when_the_topic_or_its_connection_is_gone() -> None:
    clock = VirtualClock(auto=False)
    async with Client(apis={}, clock=clock) as client:
        store = BybitDataStore()
        store.client = client

        # the connection closed: the reconnect resubscribes, not the timer
        ws = FakeWS()
        gap(store, ws)
        await until(lambda: len(ws.sent) == 2)
        ws.closed = True
        clock.advance(10)
        await settle()
        assert len(ws.sent) == 2
        assert retry_tasks() == []

        # the symbol was forgotten (topic unsubscribed): no more retries
        store.orderbook.forget(SYMBOL)
        ws = FakeWS()
        gap(store, ws)
        await until(lambda: len(ws.sent) == 2)
        store.orderbook.forget(SYMBOL)
        clock.advance(10)
        await settle()
        assert len(ws.sent) == 2
        assert retry_tasks() == []

        # a deeper topic took over the symbol: the shallower topic is not resubscribed
        ws = FakeWS()
        gap(store, ws)
        await until(lambda: len(ws.sent) == 2)
        store.onmessage(book_msg("orderbook.200.BTCUSDT", "snapshot", 5, [["101", "1"]]), ws)
        clock.advance(10)
        await settle()
        assert len(ws.sent) == 2
        assert retry_tasks() == []

        # a reconnect of that connection: the app re-sends subscriptions, the timer stops
        store.orderbook.forget(SYMBOL)
        ws = FakeWS()
        gap(store, ws)
        await until(lambda: len(ws.sent) == 2)
        store.on_reconnect(ws)
        await settle()
        assert retry_tasks() == []
        clock.advance(1000)
        await settle()
        assert len(ws.sent) == 2


async def test_a_failed_resubscribe_does_not_retry_on_the_broken_connection() -> None:
    class BrokenWS(FakeWS):
        async def send_json(self, obj: Any, auth: Any = None) -> None:
            self.sent.append(obj)
            raise ConnectionResetError("gone")

    clock = VirtualClock(auto=False)
    async with Client(apis={}, clock=clock) as client:
        store = BybitDataStore()
        store.client = client
        ws = BrokenWS()
        gap(store, ws)
        await until(lambda: len(ws.sent) == 1)
        await settle()
        assert retry_tasks() == []
        clock.advance(1000)
        await settle()
        assert len(ws.sent) == 1
