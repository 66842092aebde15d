"""Book recovery in the core (datastores._recovery): the feed record, REST snapshots
(one fetch in flight per book, backoff on the Client's clock, stale snapshots fetched
again, cancelled on reconnect and close, resumed with the next Client) and
resubscription (10 s doubling to 300 s; stops on snapshot, reconnect, another feed,
close). Virtual time, no real sleeps."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from datastores._background import Background
from datastores._client import Client
from datastores._errors import ExchangeAPIError, RateLimitError
from datastores._integrity import BinanceSpotRule, BookDelta, SequenceRule
from datastores._orderbook import OrderBookStore
from datastores._recovery import (
    RESUBSCRIBE_TIMEOUT,
    RESUBSCRIBE_TIMEOUT_MAX,
    BookFeed,
    BookFeeds,
    ResubscribeRecovery,
    SnapshotRecovery,
    replaying,
)
from datastores.testing import VirtualClock


class RecordingClock(VirtualClock):
    def __init__(self, *, auto: bool) -> None:
        super().__init__(auto=auto)
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await super().sleep(seconds)


class Book(OrderBookStore):
    _RULE: ClassVar[SequenceRule | None] = BinanceSpotRule()
    _REFETCH_STALE_SNAPSHOT = True


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.001)


class Exchange:
    """Scripted snapshots: ``answers`` are returned (or raised) in order, the last repeats."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.fetches: list[str] = []
        self.gate: asyncio.Event | None = None

    async def fetch(self, symbol: str) -> Any:
        self.fetches.append(symbol)
        if self.gate is not None:
            await self.gate.wait()
        answer = self.answers[0] if len(self.answers) == 1 else self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


class Collection:
    """The few things a collection gives its recovery."""

    def __init__(self, exchange: Exchange, client: Any = None) -> None:
        self.client = client
        self.background = Background("Test", lambda: self.client)
        self.book = Book("book")
        self.no_client: list[str] = []
        self.recovery: SnapshotRecovery[int] = SnapshotRecovery(
            self.background,
            self.book,
            fetch=exchange.fetch,
            install=self.install,
            on_no_client=self.no_client.append,
        )
        self.book.resync_hook = self.recovery.request

    def install(self, symbol: str, snapshot_id: int) -> None:
        if snapshot_id < 0:
            raise ValueError("malformed snapshot")
        self.book._on_snapshot(symbol, snapshot_id, [], [["1.0", str(snapshot_id)]])


def delta(first: int, last: int) -> BookDelta:
    return BookDelta(first, last, None, [], [["1.0", str(last)]])


# ------------------------------------------------------------------ BookFeeds


def test_book_feeds_record_connection_channel_and_arguments() -> None:
    class Ws:
        def __init__(self, url: str) -> None:
            self.url = url

    feeds = BookFeeds()
    public, other = Ws("wss://a/public"), Ws("wss://a/other")
    assert feeds.carried_books(public)  # nothing known yet: assume it did
    feeds.note("BTC", public, "books", {"instId": "BTC"})
    feeds.note("ETH", public, "books", {"instId": "ETH"})
    assert feeds.get("BTC") == BookFeed(public, "books", {"instId": "BTC"})
    assert feeds.symbols_fed_by(public) == ["BTC", "ETH"]
    assert feeds.symbols_fed_by(other) == []
    assert sorted(feeds.symbols_fed_by(None)) == ["BTC", "ETH"]
    assert feeds.carried_books(public)
    assert not feeds.carried_books(other)
    feeds.reset_connection()
    assert feeds.carried_books(Ws("wss://a/public"))  # a new connection object, same URL
    assert feeds.forget("ETH") is not None
    assert list(feeds) == ["BTC"]


def test_a_reconnect_with_the_new_connection_reaches_the_lost_connections_books() -> None:
    # WebSocketApp calls on_reconnect(ws) with its new connection: the books of the lost
    # (closed) one are still the reconnect's, those of another live connection are not.
    class Ws:
        def __init__(self) -> None:
            self.closed = False

    feeds = BookFeeds()
    lost, other, new = Ws(), Ws(), Ws()
    feeds.note("BTC", lost, "books")
    feeds.note("ETH", other, "books")
    lost.closed = True
    assert feeds.symbols_fed_by(new) == ["BTC"]


# ------------------------------------------------------------- SnapshotRecovery


async def test_one_fetch_in_flight_per_book_until_synced() -> None:
    exchange = Exchange(102)
    exchange.gate = asyncio.Event()
    async with Client(clock=VirtualClock()) as client:
        store = Collection(exchange, client)
        for i in range(20):
            store.book._on_delta("X", delta(100 + i, 100 + i))
        store.book._on_delta("Y", delta(1, 1))
        await wait_until(lambda: len(exchange.fetches) == 2)
        await asyncio.sleep(0.01)
        assert sorted(exchange.fetches) == ["X", "Y"]
        assert store.recovery.in_flight == {"X", "Y"}
        exchange.gate.set()
        await wait_until(lambda: store.book.is_synced("X"))
        assert store.book.status("X").last_update_id == 119
        assert exchange.fetches.count("X") == 1


async def test_failed_fetches_back_off_on_the_clients_clock_and_honour_retry_after() -> None:
    error = ExchangeAPIError(exchange="x", endpoint="GET /depth", status=500)
    limited = RateLimitError(exchange="x", endpoint="GET /depth", status=429, retry_after=9.0)
    exchange = Exchange(error, error, limited, error, 100)
    clock = RecordingClock(auto=True)
    async with Client(clock=clock) as client:
        store = Collection(exchange, client)
        store.book._on_delta("X", delta(100, 101))
        await wait_until(lambda: store.book.is_synced("X"))
    assert clock.slept == [1.0, 2.0, 9.0, 8.0]


async def test_a_snapshot_older_than_the_stream_or_malformed_is_fetched_again() -> None:
    exchange = Exchange(50, -1, 150)
    clock = RecordingClock(auto=True)
    async with Client(clock=clock) as client:
        store = Collection(exchange, client)
        store.book._on_delta("X", delta(120, 150))
        store.book._on_delta("X", delta(151, 152))
        await wait_until(lambda: store.book.is_synced("X"))
    assert clock.slept == [0.25, 0.5]
    status = store.book.status("X")
    assert (status.gaps, status.last_update_id) == (0, 152)
    assert exchange.fetches == ["X", "X", "X"]


async def test_a_reconnect_cancels_the_fetches_in_flight() -> None:
    exchange = Exchange(100)
    exchange.gate = asyncio.Event()
    async with Client(clock=VirtualClock()) as client:
        store = Collection(exchange, client)
        store.book._on_delta("X", delta(100, 101))
        await wait_until(lambda: store.recovery.in_flight == {"X"})
        task = store.background.task(store.recovery.key("X"))
        store.recovery.cancel_all()
        await asyncio.sleep(0)
        assert task is not None
        assert task.cancelled()
        assert store.recovery.in_flight == frozenset()


async def test_without_a_client_the_book_waits_and_resume_fetches() -> None:
    exchange = Exchange(100)
    store = Collection(exchange)
    store.recovery.no_client_grace = 0.0
    store.book._on_delta("X", delta(100, 101))
    store.book._on_delta("X", delta(102, 102))
    await wait_until(lambda: store.no_client == ["X"])  # said once
    assert store.recovery.pending == {"X"}
    async with Client(clock=VirtualClock()) as client:
        store.client = client
        store.recovery.resume()
        await wait_until(lambda: store.book.is_synced("X"))
    assert store.recovery.pending == set()
    assert store.no_client == ["X"]


def test_without_an_event_loop_the_notice_is_said_at_once() -> None:
    store = Collection(Exchange(100))
    store.book._on_delta("X", delta(100, 101))
    store.book._on_delta("Y", delta(100, 101))
    assert store.no_client == ["X"]


async def test_a_client_given_within_the_grace_silences_the_notice() -> None:
    """The README's start: diffs arrive, then ``initialize(client.get(...))`` gives
    the Client. Telling the user to give one would tell them to do their next line."""
    store = Collection(Exchange(100))
    store.recovery.no_client_grace = 0.0
    store.book._on_delta("X", delta(100, 101))
    async with Client(clock=VirtualClock()) as client:
        store.client = client
        store.recovery.resume()  # what initialize() does: the fetch starts
        await wait_until(lambda: store.book.is_synced("X"))
        for _ in range(3):
            await asyncio.sleep(0)
    assert store.no_client == []


async def test_a_book_synced_without_a_client_silences_the_notice() -> None:
    """A snapshot handed over before the grace ends (a replayed one) leaves nothing
    to say; a later episode is still told."""
    store = Collection(Exchange(100))
    store.recovery.no_client_grace = 0.0
    store.book._on_delta("X", delta(100, 101))
    store.install("X", 100)
    assert store.book.is_synced("X")
    await asyncio.sleep(0.01)  # the planned notice runs and finds nothing waiting
    assert store.no_client == []
    store.book._on_delta("Y", delta(100, 101))
    await wait_until(lambda: store.no_client == ["Y"])


async def test_no_notice_while_a_recording_is_replayed() -> None:
    store = Collection(Exchange(100))
    store.recovery.no_client_grace = 0.0
    with replaying():
        store.book._on_delta("X", delta(100, 101))
    await asyncio.sleep(0.01)
    assert store.no_client == []
    assert store.recovery.pending == {"X"}


async def test_closing_the_client_leaves_no_task_and_the_next_client_resumes() -> None:
    exchange = Exchange(100)
    exchange.gate = asyncio.Event()
    store = Collection(exchange)
    store.client = Client(clock=VirtualClock())
    store.book._on_delta("X", delta(100, 101))
    await wait_until(lambda: store.recovery.in_flight == {"X"})
    await store.client.close()
    assert store.recovery.in_flight == frozenset()
    assert store.background.running() == frozenset()
    store.book._on_delta("X", delta(102, 102))  # closed client: nothing starts
    assert store.recovery.in_flight == frozenset()
    exchange.gate.set()
    async with Client(clock=VirtualClock()) as client:
        store.client = client
        store.recovery.resume()
        await wait_until(lambda: store.book.is_synced("X"))


# ---------------------------------------------------------- ResubscribeRecovery


class Ws:
    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.closed = False

    async def send_json(self, message: Any) -> None:
        if self.closed:
            raise ConnectionResetError("closed")
        self.sent.append(message)


class Resubscribing:
    def __init__(self, client: Any, **options: Any) -> None:
        self.client = client
        self.background = Background("Test", lambda: self.client)
        self.book = Book("book")
        self.feeds = BookFeeds()
        self.recovery = ResubscribeRecovery(
            self.background,
            self.book,
            self.feeds,
            messages=lambda feed: [
                {"op": "unsubscribe", "args": [feed.channel]},
                {"op": "subscribe", "args": [feed.channel]},
            ],
            **options,
        )
        self.book.resync_hook = self.recovery.request

    def snapshot(self, symbol: str, update_id: int) -> None:
        self.book._on_snapshot(symbol, update_id, [], [["1.0", "1"]])
        self.recovery.on_snapshot(symbol)


def ops(ws: Ws) -> list[str]:
    return [m["op"] for m in ws.sent]


async def test_resubscribes_until_a_snapshot_comes_10s_doubling_to_300s() -> None:
    clock = RecordingClock(auto=True)
    async with Client(clock=clock) as client:
        store = Resubscribing(client)
        ws = Ws()
        store.feeds.note("X", ws, "books.X")
        store.book._invalidate("X", "gap")
        await wait_until(lambda: len(clock.slept) >= 8)
        assert ops(ws)[:2] == ["unsubscribe", "subscribe"]
        assert clock.slept[:8] == [10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0, 300.0]
        assert (RESUBSCRIBE_TIMEOUT, RESUBSCRIBE_TIMEOUT_MAX) == (10.0, 300.0)
        store.snapshot("X", 5)
        await wait_until(lambda: store.background.running() == frozenset())
        assert store.book.is_synced("X")


async def test_a_snapshot_stops_the_retries() -> None:
    clock = RecordingClock(auto=False)
    async with Client(clock=clock) as client:
        store = Resubscribing(client)
        ws = Ws()
        store.feeds.note("X", ws, "books.X")
        store.book._invalidate("X", "gap")
        await wait_until(lambda: store.recovery.awaiting_snapshot == {"X"})
        store.snapshot("X", 5)
        await asyncio.sleep(0)
        assert store.background.running() == frozenset()
        clock.advance(60)
        await asyncio.sleep(0.01)
        assert ops(ws) == ["unsubscribe", "subscribe"]


async def test_a_reconnect_of_that_connection_stops_the_retries() -> None:
    clock = RecordingClock(auto=False)
    async with Client(clock=clock) as client:
        store = Resubscribing(client)
        ws, other = Ws(), Ws()
        store.feeds.note("X", ws, "books.X")
        store.feeds.note("Y", other, "books.Y")
        store.book._invalidate("X", "gap")
        store.book._invalidate("Y", "gap")
        await wait_until(lambda: store.recovery.awaiting_snapshot == {"X", "Y"})
        store.recovery.on_reconnect(ws)
        await asyncio.sleep(0)
        assert store.background.running() == {store.recovery.key("Y")}


async def test_another_feed_or_a_closed_connection_stops_the_retries() -> None:
    clock = RecordingClock(auto=False)
    async with Client(clock=clock) as client:
        store = Resubscribing(client)
        ws = Ws()
        store.feeds.note("X", ws, "books.X")
        store.book._invalidate("X", "gap")
        await wait_until(lambda: store.recovery.awaiting_snapshot == {"X"})
        store.feeds.note("X", ws, "books5.X")  # the user switched channel
        clock.advance(10)
        await wait_until(lambda: store.background.running() == frozenset())
        assert ops(ws) == ["unsubscribe", "subscribe"]
        # A closed connection: nothing is sent (the reconnect resubscribes by itself).
        ws.closed = True
        store.book._invalidate("X", "gap")
        await asyncio.sleep(0.01)
        assert store.background.running() == frozenset()
        assert ops(ws) == ["unsubscribe", "subscribe"]


async def test_a_new_episode_while_waiting_starts_over_with_the_first_timeout() -> None:
    clock = RecordingClock(auto=False)
    async with Client(clock=clock) as client:
        store = Resubscribing(client)
        ws = Ws()
        store.feeds.note("X", ws, "books.X")
        store.book._invalidate("X", "gap")
        await wait_until(lambda: clock.slept == [10.0])
        store.recovery.request("X")
        await wait_until(lambda: clock.slept == [10.0, 10.0])
        assert ops(ws) == ["unsubscribe", "subscribe"] * 2


async def test_closing_the_client_ends_the_retries() -> None:
    client = Client(clock=VirtualClock(auto=False))
    store = Resubscribing(client)
    store.feeds.note("X", Ws(), "books.X")
    store.book._invalidate("X", "gap")
    await wait_until(lambda: store.recovery.awaiting_snapshot == {"X"})
    await client.close()
    assert store.background.running() == frozenset()
    assert store.recovery.awaiting_snapshot == frozenset()


# ------------------------------------------------------------ phase-2 additions


async def test_wanted_false_ends_the_fetching_and_resume_skips_the_symbol() -> None:
    exchange = Exchange(ExchangeAPIError(exchange="x", endpoint="GET /depth", status=500))
    clock = RecordingClock(auto=False)
    wanted = {"X": True}
    async with Client(clock=clock) as client:
        store = Collection(exchange, client)
        store.recovery = SnapshotRecovery(
            store.background,
            store.book,
            fetch=exchange.fetch,
            install=store.install,
            wanted=lambda symbol: wanted.get(symbol, False),
        )
        store.book.resync_hook = store.recovery.request
        store.book._on_delta("X", delta(100, 101))
        await wait_until(lambda: clock.slept == [1.0])
        wanted["X"] = False  # forgotten: the retry after the backoff does not fetch
        clock.advance(1.0)
        await wait_until(lambda: store.recovery.in_flight == frozenset())
        assert exchange.fetches == ["X"]
        store.recovery.pending.add("X")
        store.recovery.resume()
        assert store.recovery.pending == set()
        assert exchange.fetches == ["X"]


async def test_a_request_after_stale_snapshots_waits_the_stale_backoff_first() -> None:
    exchange = Exchange(200)
    clock = RecordingClock(auto=True)
    async with Client(clock=clock) as client:
        store = Collection(exchange, client)
        store.book.resync_hook = None
        store.book._on_delta("X", delta(201, 201))
        store.recovery.request("X", stale=3)  # three snapshots in a row were too old
        await wait_until(lambda: store.book.is_synced("X"))
    assert clock.slept == [1.0]  # 0.25, 0.5, 1.0: the third delay
    assert exchange.fetches == ["X"]


async def test_a_resubscribe_without_retry_is_sent_once() -> None:
    clock = RecordingClock(auto=False)
    async with Client(clock=clock) as client:
        store = Resubscribing(client)
        ws = Ws()
        store.feeds.note("X", ws, "books.X")
        store.book.resync_hook = lambda symbol: store.recovery.request(symbol, retry=False)
        store.book._invalidate("X", "gap")
        await wait_until(lambda: ops(ws) == ["unsubscribe", "subscribe"])
        await wait_until(lambda: store.background.running() == frozenset())
        assert store.recovery.awaiting_snapshot == frozenset()
        clock.advance(1000)


# ------------------------------------------- ResubscribeRecovery: optional behaviour


def count_resync(book: OrderBookStore, symbol: str) -> None:
    """An ``on_retry`` that counts the retry in ``status().resyncs`` (as Bitget's does)."""
    book._state(symbol).resyncs += 1


async def test_on_retry_can_count_each_retry_as_a_resync() -> None:
    clock = RecordingClock(auto=False)
    async with Client(clock=clock) as client:
        counted = Resubscribing(client, on_retry=lambda s: count_resync(counted.book, s))
        plain = Resubscribing(client)
        for store in (counted, plain):
            store.feeds.note("X", Ws(), "books.X")
            store.book._invalidate("X", "gap")
        await wait_until(lambda: clock.slept == [10.0, 10.0])
        clock.advance(10)
        await wait_until(lambda: len(clock.slept) == 4)
        assert counted.book.status("X").resyncs == 2  # the request and one retry
        assert plain.book.status("X").resyncs == 1


async def test_without_restart_a_request_while_waiting_leaves_the_timer_in_charge() -> None:
    clock = RecordingClock(auto=False)
    async with Client(clock=clock) as client:
        store = Resubscribing(client, restart=False)
        ws = Ws()
        store.feeds.note("X", ws, "books.X")
        store.book._invalidate("X", "gap")
        await wait_until(lambda: clock.slept == [10.0])
        store.recovery.request("X")  # say, a snapshot that failed its checksum
        await asyncio.sleep(0.01)
        assert clock.slept == [10.0]
        assert ops(ws) == ["unsubscribe", "subscribe"]
        clock.advance(10)
        await wait_until(lambda: clock.slept == [10.0, 20.0])
        assert ops(ws) == ["unsubscribe", "subscribe"] * 2


def is_unsubscribe(message: Any) -> bool:
    return bool(message["op"] == "unsubscribe")


async def test_unsubscribe_acks_of_ours_are_consumed_and_the_users_end_the_retries() -> None:
    clock = RecordingClock(auto=False)
    async with Client(clock=clock) as client:
        store = Resubscribing(client, is_unsubscribe=is_unsubscribe)
        ws = Ws()
        store.feeds.note("X", ws, "books.X")
        store.book._invalidate("X", "gap")
        await wait_until(lambda: store.recovery.awaiting_snapshot == {"X"})
        assert store.recovery.on_unsubscribe_ack("X")  # ours
        assert store.background.running() == {store.recovery.key("X")}
        assert not store.recovery.on_unsubscribe_ack("X")  # the user's
        await asyncio.sleep(0)
        assert store.background.running() == frozenset()
        assert store.feeds.get("X") is None
        clock.advance(60)
        await asyncio.sleep(0.01)
        assert ops(ws) == ["unsubscribe", "subscribe"]


async def test_on_retry_is_called_before_each_resubscription_after_a_timeout() -> None:
    clock = RecordingClock(auto=True)
    async with Client(clock=clock) as client:
        store = Resubscribing(client)
        retried: list[str] = []
        store.recovery = ResubscribeRecovery(
            store.background,
            store.book,
            store.feeds,
            messages=lambda feed: [{"op": "subscribe", "args": [feed.channel]}],
            on_retry=lambda symbol: retried.append(f"{symbol} after {len(ws.sent)} sent"),
        )
        store.book.resync_hook = store.recovery.request
        ws = Ws()
        store.feeds.note("X", ws, "books.X")
        store.book._invalidate("X", "gap")
        await wait_until(lambda: len(ws.sent) >= 3)
        assert retried[:2] == ["X after 1 sent", "X after 2 sent"]
        store.snapshot("X", 5)
        await wait_until(lambda: store.background.running() == frozenset())


async def test_unsubscribes_not_sent_or_sent_on_a_lost_connection_expect_no_ack() -> None:
    clock = RecordingClock(auto=False)
    async with Client(clock=clock) as client:
        store = Resubscribing(client, is_unsubscribe=is_unsubscribe)
        lost = Ws()
        store.feeds.note("X", lost, "books.X")
        store.book._invalidate("X", "gap")
        await wait_until(lambda: store.recovery.awaiting_snapshot == {"X"})
        store.recovery.on_reconnect(lost)  # our unsubscribe's ack will never come
        await asyncio.sleep(0)
        assert not store.recovery.on_unsubscribe_ack("X")
        failing = Ws()
        store.feeds.note("Y", failing, "books.Y")
        store.book._invalidate("Y", "gap")
        failing.closed = True  # after request(): the send itself fails
        await wait_until(lambda: store.background.running() == frozenset())
        assert failing.sent == []
        assert not store.recovery.on_unsubscribe_ack("Y")  # the failed send is not ours


async def test_when_client_closed_the_requests_are_sent_once_without_a_timer() -> None:
    client = Client(clock=RecordingClock(auto=False))
    await client.close()
    store = Resubscribing(client, when_client_closed=True)
    ws = Ws()
    store.feeds.note("X", ws, "books.X")
    store.book._invalidate("X", "gap")
    await wait_until(lambda: ops(ws) == ["unsubscribe", "subscribe"])
    await wait_until(lambda: store.background.running() == frozenset())
    assert store.recovery.awaiting_snapshot == frozenset()
    # Without it, nothing is sent on a closed Client.
    other = Resubscribing(client)
    ws2 = Ws()
    other.feeds.note("X", ws2, "books.X")
    other.book._invalidate("X", "gap")
    await asyncio.sleep(0.01)
    assert ws2.sent == []


def test_a_book_without_a_feed_or_an_event_loop_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Resubscribing(None)
    with caplog.at_level(logging.WARNING, logger="datastores.recovery"):
        store.book._invalidate("X", "gap")
        assert "no connection fed it" in caplog.text
        store.feeds.note("Y", Ws(), "books.Y")
        store.book._invalidate("Y", "gap")
        assert "no event loop is running" in caplog.text


async def test_first_wait_gives_a_periodic_snapshot_a_chance_before_any_request() -> None:
    clock = RecordingClock(auto=False)
    async with Client(clock=clock) as client:
        store = Resubscribing(client, first_wait=10.0, restart=False)
        ws = Ws()
        store.feeds.note("X", ws, "books.X")
        store.book._invalidate("X", "gap")
        await wait_until(lambda: clock.slept == [10.0])
        assert store.recovery.awaiting_snapshot == {"X"}
        assert ws.sent == []  # nothing sent while the next snapshot may come by itself
        store.snapshot("X", 5)
        await wait_until(lambda: store.background.running() == frozenset())
        clock.advance(60)
        await asyncio.sleep(0.01)
        assert ws.sent == []
        # No snapshot within the wait: resubscribed, then the usual timer.
        store.feeds.note("Y", ws, "books.Y")
        store.book._invalidate("Y", "gap")
        await wait_until(lambda: clock.slept == [10.0, 10.0])
        clock.advance(10)
        await wait_until(lambda: clock.slept == [10.0, 10.0, 10.0])
        assert ops(ws) == ["unsubscribe", "subscribe"]
    with pytest.raises(ValueError, match="first_wait"):
        Resubscribing(None, first_wait=-1.0)


async def test_after_a_client_came_in_the_grace_a_later_episode_is_told() -> None:
    store = Collection(Exchange(100))
    store.recovery.no_client_grace = 0.0
    store.book._on_delta("X", delta(100, 101))
    async with Client(clock=VirtualClock()) as client:
        store.client = client
        store.install("X", 100)  # initialize() handed the snapshot: nothing to fetch
        await asyncio.sleep(0.01)  # the planned notice finds a Client
    store.client = None
    store.book._on_delta("Y", delta(100, 101))
    await wait_until(lambda: store.no_client == ["Y"])
