"""OKX order books: checksum, seqId rules, resync by resubscribe or REST, flavours."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datastores._client import Client
from datastores._integrity import checksum_string, signed_crc32
from datastores._recovery import RESUBSCRIBE_TIMEOUT, SNAPSHOT_BACKOFF
from datastores.exchanges.okx.store import OKXDataStore
from datastores.testing import VirtualClock

from ._support import (
    FakeWS,
    Model,
    book_msg,
    levels_of,
    load,
    lv,
    rest_server,
    settle,
)

# ------------------------------------------------------------------ checksum


def test_checksum_reproduces_okx_documented_examples() -> None:
    """https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
    ("Checksum", "Calculate Checksum"): the two documented books and their check
    strings. The signed CRC32 values are the ones OKX gave for the same strings
    in its v3 docs (https://www.okex.com/docs/en/#futures_ws-checksum)."""
    # 1. more than 25 levels (2 shown): bid and ask alternate.
    bids = [["3366.1", "7", "0", "3"], ["3366", "6", "3", "4"]]
    asks = [["3366.8", "9", "10", "3"], ["3368", "8", "3", "4"]]
    assert checksum_string(bids, asks) == "3366.1:7:3366.8:9:3366:6:3368:8"
    store = OKXDataStore()
    store.onmessage(book_msg("books", "X", "snapshot", asks, bids, prev=-1, seq=1))
    assert store.books.checksum("X") == signed_crc32("3366.1:7:3366.8:9:3366:6:3368:8")
    assert store.books.checksum("X") == -1881014294
    # 2. fewer than 25 levels on one side: the other side's levels follow.
    bids = [["3366.1", "7", "0", "3"]]
    asks = [["3366.8", "9", "10", "3"], ["3368", "8", "3", "4"], ["3372", "8", "3", "4"]]
    assert checksum_string(bids, asks) == "3366.1:7:3366.8:9:3368:8:3372:8"
    store.onmessage(book_msg("books", "Y", "snapshot", asks, bids, prev=-1, seq=1))
    assert store.books.checksum("Y") == 831078360
    # The documented values verify: a snapshot carrying them stays synced.
    store.onmessage(
        book_msg("books", "Z", "snapshot", asks, bids, prev=-1, seq=1, checksum=831078360)
    )
    assert store.books.status("Z").synced
    assert store.books.status("Z").checksum_failures == 0


def test_checksum_uses_strings_exactly_as_received() -> None:
    store = OKXDataStore()
    # "3366.10" and "3366.1" are the same price but a different checksum string.
    asks, bids = [lv("3366.8", "9")], [lv("3366.10", "7")]
    good = signed_crc32("3366.10:7:3366.8:9")
    store.onmessage(book_msg("books", "X", "snapshot", asks, bids, prev=-1, seq=1, checksum=good))
    assert store.books.status("X").synced
    wrong = signed_crc32("3366.1:7:3366.8:9")
    store.onmessage(book_msg("books", "W", "snapshot", asks, bids, prev=-1, seq=1, checksum=wrong))
    assert not store.books.status("W").synced
    assert store.books.status("W").checksum_failures == 1


def test_checksum_zero_or_absent_is_not_verified() -> None:
    store = OKXDataStore()
    store.onmessage(
        book_msg(
            "books", "X", "snapshot", [lv("2", "1")], [lv("1", "1")], prev=-1, seq=1, checksum=0
        )
    )
    store.onmessage(book_msg("books", "X", "update", [lv("3", "1")], [], prev=1, seq=2))
    store.onmessage(book_msg("books", "X", "update", [lv("4", "1")], [], prev=2, seq=3, checksum=0))
    status = store.books.status("X")
    assert status.synced
    assert status.checksum_failures == 0
    assert status.asks == 3


# ------------------------------------------------------------- sequence rules


def test_documented_sequence_normal_keepalive_and_reset_all_apply() -> None:
    """The "Sequence ID" example of the order book channel docs: 10, 15, 15 (no
    update), 3 (reset after maintenance), 5."""
    store = OKXDataStore()
    model = Model()
    steps: list[tuple[str, int, int, list[list[str]], list[list[str]]]] = [
        ("snapshot", -1, 10, [lv("101", "1"), lv("102", "2")], [lv("100", "1"), lv("99", "3")]),
        ("update", 10, 15, [lv("101", "0")], [lv("100", "4")]),
        ("update", 15, 15, [], []),
        ("update", 15, 3, [lv("103", "1")], [lv("99", "0")]),
        ("update", 3, 5, [], [lv("98", "7")]),
    ]
    for action, prev, seq, asks, bids in steps:
        if action == "snapshot":
            model.replace(asks, bids)
        else:
            model.apply(asks, bids)
        store.onmessage(
            book_msg(
                "books",
                "BTC-USDT",
                action,
                asks,
                bids,
                prev=prev,
                seq=seq,
                checksum=model.checksum(),
            )
        )
        status = store.books.status("BTC-USDT")
        assert status.synced, (action, prev, seq, status.last_error)
        assert status.last_update_id == seq
    assert levels_of(store.books, "BTC-USDT") == model.sides()
    status = store.books.status("BTC-USDT")
    assert (status.gaps, status.checksum_failures, status.errors, status.resyncs) == (0, 0, 0, 0)
    store.books._check()


def test_stale_update_is_dropped_and_counted() -> None:
    store = OKXDataStore()
    store.onmessage(
        book_msg("books", "X", "snapshot", [lv("2", "1")], [lv("1", "1")], prev=-1, seq=10)
    )
    store.onmessage(book_msg("books", "X", "update", [lv("2", "5")], [], prev=10, seq=12))
    store.onmessage(
        book_msg("books", "X", "update", [lv("2", "9")], [], prev=10, seq=12)
    )  # replayed
    status = store.books.status("X")
    assert status.synced
    assert status.stale == 1
    assert status.gaps == 0
    assert store.books.get({"instId": "X", "side": "asks", "px": "2"})["sz"] == "5"  # type: ignore[index]


@pytest.mark.parametrize("channel", ["books", "books-l2-tbt", "books50-l2-tbt"])
def test_an_incremental_push_without_action_never_replaces_the_book(channel: str) -> None:
    # Issue 15 point 8: a `books` message with no "action" replaced the whole book
    # (taken for a books5-style whole-book push) and the book stayed synced.
    store = OKXDataStore()
    store.onmessage(
        book_msg(channel, "X", "snapshot", [lv("2", "1"), lv("3", "1")], [lv("1", "1")], seq=10)
    )
    store.onmessage(book_msg(channel, "X", None, [lv("9", "1")], [], prev=10, seq=11))
    status = store.books.status("X")  # the only flavour subscribed feeds store.books
    assert not status.synced
    assert status.errors == 1
    levels = store.books.sorted({"instId": "X"})
    assert [level["px"] for level in levels["asks"]] == ["2", "3"]  # not replaced


async def test_gap_marks_unsynced_counts_and_resubscribes_once() -> None:
    store = OKXDataStore()
    ws = FakeWS()
    arg = {"channel": "books", "instId": "BTC-USDT"}
    store.onmessage({"event": "subscribe", "arg": arg, "connId": "1"}, ws)
    store.onmessage(
        book_msg("books", "BTC-USDT", "snapshot", [lv("2", "1")], [lv("1", "1")], prev=-1, seq=10),
        ws,
    )
    store.onmessage(
        book_msg("books", "BTC-USDT", "update", [lv("3", "1")], [], prev=11, seq=12), ws
    )
    status = store.books.status("BTC-USDT")
    assert not status.synced
    assert status.gaps == 1
    assert status.resyncs == 1
    assert status.last_error is not None
    assert status.last_error.startswith("gap")
    # Later updates of the broken stream are not applied and start nothing new.
    store.onmessage(
        book_msg("books", "BTC-USDT", "update", [lv("4", "1")], [], prev=12, seq=13), ws
    )
    await settle(lambda: len(ws.sent) == 2)
    assert ws.sent == [{"op": "unsubscribe", "args": [arg]}, {"op": "subscribe", "args": [arg]}]
    assert store.books.status("BTC-USDT").resyncs == 1
    assert [i["px"] for i in store.books.sorted({"instId": "BTC-USDT"})["asks"]] == ["2"]
    # OKX acknowledges; the unsubscribe of our own resubscription keeps the book known.
    store.onmessage({"event": "unsubscribe", "arg": arg, "connId": "1"}, ws)
    store.onmessage({"event": "subscribe", "arg": arg, "connId": "1"}, ws)
    store.onmessage(
        book_msg("books", "BTC-USDT", "snapshot", [lv("5", "1")], [lv("4", "2")], prev=-1, seq=20),
        ws,
    )
    status = store.books.status("BTC-USDT")
    assert status.synced
    assert status.last_update_id == 20
    assert status.gaps == 1
    assert levels_of(store.books, "BTC-USDT") == ([lv("5", "1")], [lv("4", "2")])
    await store.aclose()


async def test_checksum_mismatch_marks_unsynced_counts_and_resubscribes() -> None:
    store = OKXDataStore()
    ws = FakeWS()
    model = Model()
    model.replace([lv("2", "1")], [lv("1", "1")])
    store.onmessage(
        book_msg(
            "books",
            "ETH-USDT",
            "snapshot",
            [lv("2", "1")],
            [lv("1", "1")],
            prev=-1,
            seq=1,
            checksum=model.checksum(),
        ),
        ws,
    )
    assert store.books.status("ETH-USDT").synced
    store.onmessage(
        book_msg("books", "ETH-USDT", "update", [lv("2", "3")], [], prev=1, seq=2, checksum=12345),
        ws,
    )
    status = store.books.status("ETH-USDT")
    assert not status.synced
    assert status.checksum_failures == 1
    assert status.resyncs == 1
    await settle(lambda: len(ws.sent) == 2)
    assert [m["op"] for m in ws.sent] == ["unsubscribe", "subscribe"]
    assert all(m["args"] == [{"channel": "books", "instId": "ETH-USDT"}] for m in ws.sent)
    await store.aclose()


class StubClient:
    """Just enough of datastores.Client for recovery tasks that do no HTTP."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.closed = False
        self.closers: list[Any] = []

    def add_closer(self, obj: Any) -> None:
        self.closers.append(obj)

    def remove_closer(self, obj: Any) -> None:
        self.closers.remove(obj)

    async def fetch(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no REST expected")


async def test_resubscribe_is_retried_with_backoff_until_a_snapshot_comes() -> None:
    clock = VirtualClock()
    store = OKXDataStore()
    store.client = StubClient(clock)
    ws = FakeWS()
    store.onmessage(
        book_msg("books", "X", "snapshot", [lv("2", "1")], [lv("1", "1")], prev=-1, seq=1), ws
    )
    store.onmessage(book_msg("books", "X", "update", [], [], prev=5, seq=6), ws)
    await settle(lambda: len(ws.sent) >= 4)
    assert clock.monotonic() >= RESUBSCRIBE_TIMEOUT
    assert [m["op"] for m in ws.sent[:4]] == ["unsubscribe", "subscribe"] * 2
    assert store.books.status("X").resyncs >= 2
    store.onmessage({"event": "subscribe", "arg": {"channel": "books", "instId": "X"}}, ws)
    store.onmessage(
        book_msg("books", "X", "snapshot", [lv("2", "1")], [lv("1", "1")], prev=-1, seq=9), ws
    )
    assert store.books.status("X").synced
    sent = len(ws.sent)
    for _ in range(50):
        await asyncio.sleep(0)
    assert len(ws.sent) == sent  # recovered: no more resubscriptions
    await store.aclose()
    assert store.client.closers == []


async def test_failed_send_ends_the_resubscribe_without_raising() -> None:
    store = OKXDataStore()
    ws = FakeWS()
    ws.fail = True
    store.onmessage(
        book_msg("books", "X", "snapshot", [lv("2", "1")], [lv("1", "1")], prev=-1, seq=1), ws
    )
    store.onmessage(book_msg("books", "X", "update", [], [], prev=5, seq=6), ws)
    for _ in range(20):
        await asyncio.sleep(0)
    assert not store.books.status("X").synced
    assert store._background.running() == frozenset()


async def test_reconnect_invalidates_books_of_that_connection_without_resubscribing() -> None:
    store = OKXDataStore()
    old, other = FakeWS(), FakeWS()
    store.onmessage(
        book_msg("books", "A", "snapshot", [lv("2", "1")], [lv("1", "1")], prev=-1, seq=1), old
    )
    store.onmessage(
        book_msg("books", "B", "snapshot", [lv("2", "1")], [lv("1", "1")], prev=-1, seq=1), other
    )
    old.closed = True
    store.on_reconnect(FakeWS())
    assert not store.books.status("A").synced
    assert store.books.status("A").last_error == "reconnect: websocket reconnected"
    assert store.books.status("B").synced
    for _ in range(20):
        await asyncio.sleep(0)
    assert old.sent == []
    assert other.sent == []
    store.onmessage(
        book_msg("books", "A", "snapshot", [lv("3", "1")], [lv("1", "1")], prev=-1, seq=50), old
    )
    assert store.books.status("A").synced
    await store.aclose()


# ------------------------------------------------------- REST snapshot mode


async def test_subscription_without_snapshot_is_bridged_from_rest() -> None:
    """OKX's 2026 procedure (https://www.okx.com/docs-v5/log_en): buffer updates,
    GET /api/v5/market/books?...&source=0, drop seqId <= snapshot seqId, the first
    kept update has prevSeqId <= snapshot seqId < seqId."""
    async with rest_server() as server:
        server.responses = [(200, load("rest_books.json"))]
        async with Client(apis={}, redirects={"www.okx.com": server.base}) as client:
            store = OKXDataStore()
            store.client = client
            ws = FakeWS()
            for msg in load("books_no_snapshot.json"):
                store.onmessage(msg, ws)
            await settle(lambda: store.books.status("BTC-USDT-SWAP").synced)
            status = store.books.status("BTC-USDT-SWAP")
            assert status.last_update_id == 1011
            assert status.gaps == 0
            assert status.stale == 1
            assert levels_of(store.books, "BTC-USDT-SWAP") == (
                [lv("30000.5", "1")],
                [lv("30000.0", "5", "3"), lv("29999.8", "7", "5"), lv("29999.5", "2")],
            )
            path, query, headers = server.requests[0]
            assert path == "/api/v5/market/books"
            assert query == {"instId": "BTC-USDT-SWAP", "sz": "400", "source": "0"}
            assert "OK-ACCESS-KEY" not in headers
            assert "x-simulated-trading" not in headers
            assert len(server.requests) == 1
            assert ws.sent == []
            # Live updates continue the chain.
            store.onmessage(
                book_msg(
                    "books",
                    "BTC-USDT-SWAP",
                    "update",
                    [],
                    [lv("29999.5", "0")],
                    prev=1011,
                    seq=1012,
                ),
                ws,
            )
            assert store.books.status("BTC-USDT-SWAP").synced
            store.books._check()


async def test_snapshot_older_than_the_stream_is_fetched_again_not_counted_as_gap() -> None:
    async with rest_server() as server:
        old = {
            "code": "0",
            "msg": "",
            "data": [{"asks": [lv("9", "1")], "bids": [lv("8", "1")], "ts": "1", "seqId": 900}],
        }
        new = {
            "code": "0",
            "msg": "",
            "data": [{"asks": [lv("9", "1")], "bids": [lv("8", "1")], "ts": "2", "seqId": 1004}],
        }
        server.responses = [(200, old), (200, new)]
        async with Client(
            apis={}, redirects={"www.okx.com": server.base}, clock=VirtualClock(settle=0.001)
        ) as client:
            store = OKXDataStore()
            store.client = client
            store.onmessage(
                book_msg("books", "X", "update", [lv("9", "2")], [], prev=1000, seq=1004)
            )
            store.onmessage(
                book_msg("books", "X", "update", [lv("10", "1")], [], prev=1004, seq=1005)
            )
            await settle(lambda: store.books.status("X").synced)
            status = store.books.status("X")
            assert len(server.requests) == 2
            assert status.gaps == 0
            assert status.last_update_id == 1005
            assert levels_of(store.books, "X")[0] == [lv("9", "1"), lv("10", "1")]


async def test_empty_buffer_snapshot_then_newer_stream_refetches() -> None:
    """A REST snapshot installed before any update: a first update that cannot
    bridge it (prevSeqId > snapshot seqId) means the snapshot is old: fetch again."""
    async with rest_server() as server:
        snap = {
            "code": "0",
            "msg": "",
            "data": [{"asks": [lv("9", "1")], "bids": [], "ts": "1", "seqId": 50}],
        }
        server.responses = [(200, snap)]
        async with Client(apis={}, redirects={"www.okx.com": server.base}) as client:
            store = OKXDataStore()
            store.client = client
            resp = client.get(
                "https://www.okx.com/api/v5/market/books", params={"instId": "X", "sz": "400"}
            )
            await store.initialize(resp)
            assert store.books.status("X").synced
            assert store.book_channel("X") == "books"
            server.responses = [
                (
                    200,
                    {
                        "code": "0",
                        "msg": "",
                        "data": [{"asks": [lv("9", "3")], "bids": [], "ts": "2", "seqId": 70}],
                    },
                )
            ]
            store.onmessage(book_msg("books", "X", "update", [lv("9", "2")], [], prev=60, seq=70))
            assert not store.books.status("X").synced
            await settle(lambda: store.books.status("X").synced)
            status = store.books.status("X")
            assert status.gaps == 0
            assert status.last_update_id == 70
            assert status.resyncs == 1
            assert levels_of(store.books, "X")[0] == [lv("9", "3")]


async def test_rest_errors_back_off_on_the_client_clock_then_succeed() -> None:
    async with rest_server() as server:
        good = {
            "code": "0",
            "msg": "",
            "data": [{"asks": [lv("9", "1")], "bids": [], "ts": "1", "seqId": 1000}],
        }
        server.responses = [
            (429, {"code": "50011", "msg": "Too Many Requests"}),
            (200, {"code": "50011", "msg": "Too Many Requests"}),
            (200, "not json"),
            (200, good),
        ]
        clock = VirtualClock(settle=0.001)
        async with Client(apis={}, redirects={"www.okx.com": server.base}, clock=clock) as client:
            store = OKXDataStore()
            store.client = client
            store.onmessage(
                book_msg("books", "X", "update", [lv("10", "1")], [], prev=1000, seq=1001)
            )
            await settle(lambda: store.books.status("X").synced)
            assert len(server.requests) == 4
            # 1 + 2 + 4 seconds of virtual backoff, no real sleeping.
            assert clock.monotonic() >= SNAPSHOT_BACKOFF[0] * 7
            assert levels_of(store.books, "X")[0] == [lv("9", "1"), lv("10", "1")]


async def test_demo_connection_fetches_demo_snapshots() -> None:
    async with rest_server() as server:
        server.responses = [
            (
                200,
                {
                    "code": "0",
                    "msg": "",
                    "data": [{"asks": [], "bids": [lv("1", "1")], "ts": "1", "seqId": 5}],
                },
            )
        ]
        async with Client(apis={}, redirects={"www.okx.com": server.base}) as client:
            store = OKXDataStore()
            store.client = client
            ws = FakeWS("wss://wspap.okx.com:8443/ws/v5/public")
            store.onmessage(book_msg("books", "X", "update", [], [lv("1", "2")], prev=5, seq=6), ws)
            await settle(lambda: store.books.status("X").synced)
            assert server.requests[0][2].get("x-simulated-trading") == "1"


async def test_without_a_client_the_book_waits_and_says_why(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("datastores._recovery.NO_CLIENT_GRACE", 0.0)  # said at once
    store = OKXDataStore()
    with caplog.at_level(logging.WARNING, "datastores.exchanges.okx"):
        store.onmessage(book_msg("books", "X", "update", [lv("10", "1")], [], prev=1, seq=2))
        store.onmessage(book_msg("books", "X", "update", [lv("11", "1")], [], prev=2, seq=3))
        await settle(lambda: any("no client" in r.getMessage() for r in caplog.records))
        await asyncio.sleep(0.01)
    status = store.books.status("X")
    assert not status.synced
    assert status.buffered == 2
    assert sum("no client" in r.getMessage() for r in caplog.records) == 1
    async with rest_server() as server:
        server.responses = [
            (
                200,
                {
                    "code": "0",
                    "msg": "",
                    "data": [{"asks": [lv("10", "1")], "bids": [], "ts": "1", "seqId": 2}],
                },
            )
        ]
        async with Client(apis={}, redirects={"www.okx.com": server.base}) as client:
            store.client = client
            store.onmessage(book_msg("books", "X", "update", [lv("12", "1")], [], prev=3, seq=4))
            await settle(lambda: store.books.status("X").synced)
            assert [a[0] for a in levels_of(store.books, "X")[0]] == ["10", "11", "12"]


async def test_closing_the_client_ends_recovery_tasks() -> None:
    async with rest_server() as server:
        server.responses = [(500, "oops")]
        client = Client(apis={}, redirects={"www.okx.com": server.base})
        store = OKXDataStore()
        store.client = client
        store.onmessage(book_msg("books", "X", "update", [lv("10", "1")], [], prev=1, seq=2))
        await settle(lambda: len(server.requests) >= 1)
        tasks = {store._background.task(k) for k in store._background.running()}
        assert tasks
        await client.close()
        assert all(t.done() for t in tasks)
        assert not store.books.status("X").synced
        # A closed client starts no new work.
        store.onmessage(book_msg("books", "Y", "update", [lv("10", "1")], [], prev=1, seq=2))
        assert store._background.running() == frozenset()


# ------------------------------------------------------------ book flavours


def test_flavours_of_one_instrument_keep_separate_books() -> None:
    store = OKXDataStore()
    ws = FakeWS()
    store.onmessage(
        book_msg("bbo-tbt", "BTC-USDT", None, [lv("101", "1")], [lv("100", "1")], seq=7), ws
    )
    assert store.book_channel("BTC-USDT") == "bbo-tbt"
    assert levels_of(store.books, "BTC-USDT") == ([lv("101", "1")], [lv("100", "1")])
    # A deeper channel takes over `books`; bbo-tbt keeps its own, still-synced book.
    deep_asks = [lv("101", "1"), lv("102", "4"), lv("103", "2")]
    deep_bids = [lv("100", "1"), lv("99", "3")]
    store.onmessage(
        book_msg("books", "BTC-USDT", "snapshot", deep_asks, deep_bids, prev=-1, seq=10), ws
    )
    assert store.book_channel("BTC-USDT") == "books"
    bbo = store.books_by_channel["bbo-tbt"]
    assert levels_of(store.books, "BTC-USDT") == (deep_asks, deep_bids)
    assert levels_of(bbo, "BTC-USDT") == ([lv("101", "1")], [lv("100", "1")])
    assert bbo.status("BTC-USDT").synced
    # Each keeps its own updates: a bbo push does not touch the 400-level book.
    store.onmessage(
        book_msg("bbo-tbt", "BTC-USDT", None, [lv("101.5", "1")], [lv("100", "1")], seq=8), ws
    )
    store.onmessage(
        book_msg("books", "BTC-USDT", "update", [lv("102", "0")], [], prev=10, seq=11), ws
    )
    assert levels_of(bbo, "BTC-USDT") == ([lv("101.5", "1")], [lv("100", "1")])
    assert levels_of(store.books, "BTC-USDT")[0] == [lv("101", "1"), lv("103", "2")]
    assert store.books.status("BTC-USDT").synced
    assert store.books.status("BTC-USDT").gaps == 0
    store.books._check()
    bbo._check()
    # Unsubscribing `books` hands `books` back to the bbo book.
    store.onmessage({"event": "unsubscribe", "arg": {"channel": "books", "instId": "BTC-USDT"}}, ws)
    assert store.book_channel("BTC-USDT") == "bbo-tbt"
    assert levels_of(store.books, "BTC-USDT") == ([lv("101.5", "1")], [lv("100", "1")])
    assert "BTC-USDT" not in bbo.symbols


def test_books5_and_bbo_replace_whole_book_and_are_capped() -> None:
    store = OKXDataStore()
    many = [lv(str(100 + i), "1") for i in range(8)]
    store.onmessage(book_msg("books5", "E", None, many, [lv("99", "1")], seq=1))
    assert len(store.books.sorted({"instId": "E"})["asks"]) == 5
    store.onmessage(book_msg("books5", "E", None, [lv("200", "1")], [lv("199", "2")], seq=2))
    assert levels_of(store.books, "E") == ([lv("200", "1")], [lv("199", "2")])
    store.onmessage(book_msg("bbo-tbt", "F", None, many, many[:2], seq=1))
    assert store.books.status("F").asks == 1
    assert store.books.status("F").bids == 1
    store.books._check()


def test_depth_cap_per_channel() -> None:
    store = OKXDataStore()
    asks = [lv(str(1000 + i), "1") for i in range(60)]
    store.onmessage(book_msg("books50-l2-tbt", "A", "snapshot", asks, [], prev=-1, seq=1))
    store.onmessage(book_msg("books", "B", "snapshot", asks, [], prev=-1, seq=1))
    assert store.books.status("A").asks == 50
    assert store.books.status("B").asks == 60
    store.books._check()


def test_ts_and_received_checksum_are_per_instrument() -> None:
    store = OKXDataStore()
    store.onmessage(book_msg("books", "A", "snapshot", [], [], prev=-1, seq=1, ts="111"))
    store.onmessage(
        book_msg("books", "B", "snapshot", [], [], prev=-1, seq=1, ts="222", checksum=0)
    )
    assert store.books.ts == {"A": "111", "B": "222"}
    assert store.books.received_checksum == {"B": 0}


def test_replayed_books_file_final_state_and_changes() -> None:
    store = OKXDataStore()
    stream = store.books.watch()
    mirror: dict[tuple[str, str, str], dict[str, Any]] = {}
    ws = FakeWS()
    for msg in load("books.json"):
        store.onmessage(msg, ws)
        while (change := stream.get_nowait()) is not None:
            key = (change.data["instId"], change.data["side"], change.data["px"])
            if change.operation == "delete":
                del mirror[key]
            else:
                mirror[key] = change.data
    status = store.books.status("BTC-USDT")
    assert status.synced
    assert status.last_update_id == 7
    assert (status.gaps, status.checksum_failures, status.errors) == (0, 0, 0)
    assert levels_of(store.books, "BTC-USDT") == (
        [
            lv("8477", "7", "2"),
            lv("8477.10", "3"),
            lv("8477.34", "85"),
            lv("8477.56", "1"),
            lv("8478", "2"),
        ],
        [lv("8476.97", "250", "11"), lv("8475.55", "101"), lv("8475.54", "100")],
    )
    assert levels_of(store.books, "ETH-USDT") == (
        [lv("111.07", "5"), lv("111.08", "72435", "2")],
        [lv("111.05", "1")],
    )
    bbo = store.books_by_channel["bbo-tbt"]
    assert levels_of(bbo, "BTC-USDT") == ([lv("8477", "7", "2")], [lv("8476.97", "250", "11")])
    assert store.books.ts == {"BTC-USDT": "1597026500100", "ETH-USDT": "1670324386902"}
    # The change stream mirrors the store exactly.
    assert mirror == {(i["instId"], i["side"], i["px"]): i for i in store.books}
    assert ws.sent == []
    assert store.dropped_messages == 0


# ------------------------------------------------- property: store vs model

PRICES_ASK = [str(p) for p in range(21, 41)]
PRICES_BID = [str(p) for p in range(1, 21)]
SIZES = ["0", "0", "1", "2", "3.5", "10"]


def _levels(prices: list[str]) -> st.SearchStrategy[list[list[str]]]:
    return st.lists(
        st.tuples(st.sampled_from(prices), st.sampled_from(SIZES)).map(lambda t: lv(t[0], t[1])),
        max_size=6,
    )


OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("update"), st.sampled_from("AB"), _levels(PRICES_ASK), _levels(PRICES_BID)
        ),
        st.tuples(st.just("keepalive"), st.sampled_from("AB"), st.just([]), st.just([])),
        st.tuples(
            st.just("reset"), st.sampled_from("AB"), _levels(PRICES_ASK), _levels(PRICES_BID)
        ),
        st.tuples(st.just("gap"), st.sampled_from("AB"), _levels(PRICES_ASK), _levels(PRICES_BID)),
        st.tuples(
            st.just("badsum"), st.sampled_from("AB"), _levels(PRICES_ASK), _levels(PRICES_BID)
        ),
        st.tuples(
            st.just("snapshot"), st.sampled_from("AB"), _levels(PRICES_ASK), _levels(PRICES_BID)
        ),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_random_streams_match_a_naive_model(
    ops: list[tuple[str, str, list[Any], list[Any]]],
) -> None:
    store = OKXDataStore()
    models = {"A": Model(), "B": Model()}
    seqs = {"A": 100, "B": 100}
    expected = {"A": [0, 0], "B": [0, 0]}  # gaps, checksum failures
    for inst in "AB":
        store.onmessage(
            book_msg(
                "books",
                inst,
                "snapshot",
                [],
                [],
                prev=-1,
                seq=100,
                checksum=models[inst].checksum(),
            )
        )
    for op, inst, asks, bids in ops:
        model, last = models[inst], seqs[inst]
        synced_before = store.books.status(inst).synced
        if op == "snapshot":
            model.replace(asks, bids)
            seqs[inst] = last + 10
            store.onmessage(
                book_msg(
                    "books",
                    inst,
                    "snapshot",
                    asks,
                    bids,
                    prev=-1,
                    seq=last + 10,
                    checksum=model.checksum(),
                )
            )
            assert store.books.status(inst).synced
        elif op == "keepalive":
            store.onmessage(
                book_msg(
                    "books", inst, "update", [], [], prev=last, seq=last, checksum=model.checksum()
                )
            )
        elif op == "gap":
            seqs[inst] = last + 5
            if synced_before:
                expected[inst][0] += 1
            model.apply(asks, bids)
            store.onmessage(
                book_msg("books", inst, "update", asks, bids, prev=last + 1, seq=last + 5)
            )
            assert not store.books.status(inst).synced
        else:
            new = 1 if op == "reset" else last + 3
            seqs[inst] = new
            model.apply(asks, bids)
            checksum = model.checksum()
            if op == "badsum":
                checksum = checksum + 1 if checksum != -1 else 5
                if synced_before:
                    expected[inst][1] += 1
            store.onmessage(
                book_msg("books", inst, "update", asks, bids, prev=last, seq=new, checksum=checksum)
            )
            if op == "badsum":
                assert not store.books.status(inst).synced
        status = store.books.status(inst)
        if status.synced:
            assert levels_of(store.books, inst) == model.sides()
        assert (status.gaps, status.checksum_failures) == tuple(expected[inst])
        assert status.errors == 0
        store.books._check()
    assert len(store.books) == sum(
        len(levels_of(store.books, i)[0]) + len(levels_of(store.books, i)[1]) for i in "AB"
    )


def test_sequence_reset_right_after_a_rest_snapshot_is_applied() -> None:
    """The first update after a REST snapshot may be a reset (prevSeqId == snapshot
    seqId, seqId lower): it follows the snapshot and must not be dropped as stale."""
    store = OKXDataStore()
    store._sync.install_snapshot("X", 15, [lv("2", "1")], [lv("1", "1")])
    store.onmessage(book_msg("books", "X", "update", [lv("3", "1")], [], prev=15, seq=3))
    store.onmessage(book_msg("books", "X", "update", [lv("4", "1")], [], prev=3, seq=5))
    status = store.books.status("X")
    assert status.synced
    assert status.last_update_id == 5
    assert (status.stale, status.gaps) == (0, 0)
    assert [a[0] for a in levels_of(store.books, "X")[0]] == ["2", "3", "4"]
