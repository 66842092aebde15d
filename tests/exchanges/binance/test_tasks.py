"""Binance background work against REST servers on 127.0.0.1 and a real datastores.Client:
depth-snapshot refetches (gaps, reconnects, stale snapshots, 429 backoff, one request
in flight per symbol) and the listenKey keepalive/renewal. Virtual time, no real sleeps."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from datastores._client import Client
from datastores.exchanges.binance.store import BinanceSpotDataStore, BinanceUSDSMDataStore
from datastores.testing import VirtualClock


class RecordingClock(VirtualClock):
    """A virtual clock that remembers every sleep it was asked for."""

    def __init__(self, *, auto: bool) -> None:
        super().__init__(auto=auto)
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await super().sleep(seconds)


class FakeWs:
    def __init__(self, url: str) -> None:
        self.url = url
        self.closed = False


@dataclass
class Binance:
    """A scripted Binance REST server."""

    base: str = ""
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    #: responses for depth requests, in order; the last one repeats
    depth: list[tuple[int, Any]] = field(default_factory=list)
    gate: asyncio.Event | None = None
    put_status: int = 200
    keys: int = 0
    #: a Retry-After header sent with depth 429s
    retry_after: str | None = None

    def seen(self, method: str, path: str | None = None) -> list[str]:
        return [
            path_qs
            for m, path_qs, _ in self.requests
            if m == method and (path is None or path_qs.startswith(path))
        ]

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path_qs, dict(request.headers)))
        if request.path.endswith("/depth"):
            if self.gate is not None:
                await self.gate.wait()
            status, body = self.depth[0] if len(self.depth) == 1 else self.depth.pop(0)
            headers = {}
            if status == 429 and self.retry_after is not None:
                headers["Retry-After"] = self.retry_after
            return web.json_response(body, status=status, headers=headers)
        if request.path.endswith(("/listenKey", "/userDataStream")):
            if request.method == "POST":
                self.keys += 1
                return web.json_response({"listenKey": f"key-{self.keys}"})
            if request.method == "PUT":
                if self.put_status == 400:
                    return web.json_response(
                        {"code": -1125, "msg": "This listenKey does not exist."}, status=400
                    )
                if self.put_status != 200:
                    return web.json_response(
                        {"code": -1001, "msg": "Internal error."}, status=self.put_status
                    )
                return web.json_response({})
        return web.json_response({"code": -1100, "msg": "unknown"}, status=404)


@pytest.fixture
async def binance() -> AsyncIterator[Binance]:
    server = Binance()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield server
    if server.gate is not None:
        server.gate.set()
    await runner.cleanup()


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.001)


def snap(last_id: int, bids: Any = (("1.0", "5"),), asks: Any = (("2.0", "5"),)) -> dict:
    return {
        "lastUpdateId": last_id,
        "bids": [list(b) for b in bids],
        "asks": [list(a) for a in asks],
    }


def diff(first: int, last: int, bids: Any = (), asks: Any = (), symbol: str = "BNBBTC") -> dict:
    return {
        "e": "depthUpdate",
        "E": 1,
        "s": symbol,
        "U": first,
        "u": last,
        "b": [list(b) for b in bids],
        "a": [list(a) for a in asks],
    }


def spot_client(binance: Binance, clock: Any = None, **kwargs: Any) -> Client:
    if clock is not None:
        kwargs["clock"] = clock
    return Client(redirects={"api.binance.com": binance.base}, **kwargs)


# ------------------------------------------------------------------- snapshots


async def test_first_diff_fetches_the_snapshot_once_and_syncs(binance: Binance) -> None:
    binance.depth = [(200, snap(102, bids=[("1.0", "5")]))]
    binance.gate = asyncio.Event()
    store = BinanceSpotDataStore()
    async with spot_client(binance) as client:
        store.client = client
        for i in range(50):
            store.onmessage(diff(100 + i, 100 + i, bids=[("1.0", str(i + 1))]))
        await wait_until(lambda: len(binance.seen("GET")) == 1)
        await asyncio.sleep(0.01)
        assert binance.seen("GET") == ["/api/v3/depth?symbol=BNBBTC&limit=5000"]
        assert not store.orderbook.status("BNBBTC").synced
        binance.gate.set()
        await wait_until(lambda: store.orderbook.is_synced("BNBBTC"))
        status = store.orderbook.status("BNBBTC")
        assert status.last_update_id == 149
        assert status.buffered == 0
        assert store.orderbook.levels("BNBBTC")[1] == [["1.0", "50"]]
        assert len(binance.seen("GET")) == 1
        assert store._recovery.in_flight == frozenset()
        # the request was unsigned even though api.binance.com has a signer
        assert "X-MBX-APIKEY" not in binance.requests[0][2]


async def test_a_gap_refetches_by_itself(binance: Binance) -> None:
    binance.depth = [(200, snap(100)), (200, snap(205, bids=[("1.0", "9")]))]
    store = BinanceSpotDataStore()
    async with spot_client(binance) as client:
        store.client = client
        store.onmessage(diff(100, 101))
        await wait_until(lambda: store.orderbook.is_synced("BNBBTC"))
        store.onmessage(diff(102, 104))
        store.onmessage(diff(200, 204))  # 105..199 lost
        assert not store.orderbook.is_synced("BNBBTC")
        store.onmessage(diff(205, 206, bids=[("1.1", "1")]))
        await wait_until(lambda: store.orderbook.is_synced("BNBBTC"))
        status = store.orderbook.status("BNBBTC")
        assert status.gaps == 1
        assert status.resyncs == 2
        assert status.last_update_id == 206
        assert store.orderbook.levels("BNBBTC")[1] == [["1.1", "1"], ["1.0", "9"]]
        assert len(binance.seen("GET")) == 2


async def test_reconnect_resyncs_on_its_own(binance: Binance) -> None:
    binance.depth = [(200, snap(100)), (200, snap(500, bids=[("1.0", "7")]))]
    store = BinanceSpotDataStore()
    market = FakeWs("wss://stream.binance.com:9443/ws/bnbbtc@depth@100ms")
    async with spot_client(binance) as client:
        store.client = client
        store.onmessage(diff(100, 101), market)
        await wait_until(lambda: store.orderbook.is_synced("BNBBTC"))
        store.on_reconnect(market)
        assert not store.orderbook.is_synced("BNBBTC")
        store.onmessage(diff(499, 501, bids=[("1.0", "8")]), market)
        await wait_until(lambda: store.orderbook.is_synced("BNBBTC"))
        # the snapshot may land before or after the new diff; either way it ends in sync
        await wait_until(lambda: store.orderbook.status("BNBBTC").last_update_id == 501)
        status = store.orderbook.status("BNBBTC")
        assert status.gaps == 0
        assert status.resyncs == 2
        assert store.orderbook.levels("BNBBTC")[1] == [["1.0", "8"]]


async def test_rate_limit_backs_off_exponentially_with_the_clock(
    binance: Binance, caplog: pytest.LogCaptureFixture
) -> None:
    too_many = (429, {"code": -1003, "msg": "Too many requests; current limit is 6000."})
    binance.depth = [too_many, too_many, (500, "oops"), (200, snap(100))]
    clock = RecordingClock(auto=True)
    store = BinanceSpotDataStore()
    async with spot_client(binance, clock) as client:
        store.client = client
        with caplog.at_level(logging.DEBUG, logger="datastores.exchanges.binance"):
            store.onmessage(diff(100, 101))
            await wait_until(lambda: store.orderbook.is_synced("BNBBTC"))
        assert clock.slept == [1.0, 2.0, 4.0]
        assert len(binance.seen("GET")) == 4
        failures = [r for r in caplog.records if "snapshot request failed" in r.getMessage()]
        assert [r.levelno for r in failures] == [logging.WARNING, logging.DEBUG, logging.DEBUG]
        assert "HTTP 429" in failures[0].getMessage()
        assert any("after 3 failed attempts" in r.getMessage() for r in caplog.records)


async def test_stale_snapshot_is_fetched_again(binance: Binance) -> None:
    binance.depth = [(200, snap(50)), (200, snap(150))]
    clock = RecordingClock(auto=True)
    store = BinanceSpotDataStore()
    async with spot_client(binance, clock) as client:
        store.client = client
        store.onmessage(diff(120, 150))
        store.onmessage(diff(151, 152, bids=[("1.0", "1")]))
        await wait_until(lambda: store.orderbook.is_synced("BNBBTC"))
        assert clock.slept == [0.25]
        status = store.orderbook.status("BNBBTC")
        assert status.gaps == 0
        assert status.last_update_id == 152


async def test_closing_the_client_cancels_refetches(binance: Binance) -> None:
    binance.depth = [(200, snap(100))]
    binance.gate = asyncio.Event()  # the server never answers
    store = BinanceSpotDataStore()
    client = spot_client(binance)
    store.client = client
    store.onmessage(diff(100, 101))
    store.onmessage(diff(1, 1, symbol="ETHBTC"))
    await wait_until(lambda: len(binance.seen("GET")) == 2)
    tasks = [store._background.task(k) for k in store._background.running()]
    assert len(tasks) == 2
    await client.close()
    assert all(task.done() for task in tasks)
    assert store._recovery.in_flight == frozenset()
    # After close nothing new is scheduled; the book just stays unsynced.
    store.onmessage(diff(1, 1, symbol="LTCBTC"))
    assert store._recovery.in_flight == frozenset()
    assert not store.orderbook.is_synced("LTCBTC")


async def test_setting_the_client_later_starts_pending_snapshots(binance: Binance) -> None:
    binance.depth = [(200, snap(100))]
    store = BinanceSpotDataStore()
    store.onmessage(diff(100, 101))  # no client yet: a warning, nothing scheduled
    assert not store.orderbook.is_synced("BNBBTC")
    async with spot_client(binance) as client:
        store.client = client
        await wait_until(lambda: store.orderbook.is_synced("BNBBTC"))


async def test_futures_default_snapshot_url(binance: Binance) -> None:
    binance.depth = [(200, snap(100))]
    store = BinanceUSDSMDataStore()
    async with Client(redirects={"fapi.binance.com": binance.base}) as client:
        store.client = client
        store.onmessage(
            {
                "e": "depthUpdate",
                "E": 1,
                "T": 1,
                "s": "BTCUSDT",
                "U": 95,
                "u": 105,
                "pu": 94,
                "b": [["1.0", "2"]],
                "a": [],
            }
        )
        await wait_until(lambda: store.orderbook.is_synced("BTCUSDT"))
        assert binance.seen("GET") == ["/fapi/v1/depth?symbol=BTCUSDT&limit=1000"]
        assert store.orderbook.levels("BTCUSDT")[1] == [["1.0", "2"]]


# ------------------------------------------------------------------- listenKey


class FakeApp:
    """What the store touches on a WebSocketApp: ``url`` and ``reconnect()``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.reconnects = 0

    def reconnect(self) -> None:
        self.reconnects += 1


def futures_client(binance: Binance, clock: Any) -> Client:
    return Client(
        apis={"binance": ["test-key", "test-secret"]},
        redirects={"fapi.binance.com": binance.base},
        clock=clock,
    )


async def test_listenkey_keepalive_and_renewal(binance: Binance) -> None:
    clock = RecordingClock(auto=False)
    store = BinanceUSDSMDataStore()
    async with futures_client(binance, clock) as client:
        await store.initialize(client.post("https://fapi.binance.com/fapi/v1/listenKey"))
        assert store.listenkey == "key-1"
        app = FakeApp("wss://fstream.binance.com/private/ws/key-1")
        store.listenkey_app = app
        await wait_until(lambda: clock.slept == [1800.0])
        assert binance.seen("PUT") == []
        clock.advance(1800)
        await wait_until(lambda: len(clock.slept) == 2)
        assert binance.seen("PUT") == ["/fapi/v1/listenKey"]
        put_headers = binance.requests[-1][2]
        assert put_headers["X-MBX-APIKEY"] == "test-key"  # signed for the real host
        # The key expired: the next PUT answers -1125 and a new key is created.
        binance.put_status = 400
        clock.advance(1800)
        await wait_until(lambda: store.listenkey == "key-2")
        assert binance.seen("POST") == ["/fapi/v1/listenKey", "/fapi/v1/listenKey"]
        assert app.url == "wss://fstream.binance.com/private/ws/key-2"
        assert app.reconnects == 1
        await wait_until(lambda: len(clock.slept) == 3)
        assert clock.slept[-1] == 1800.0
        keepalive = store._background.task(store._listenkey_keepalive.refresh_key)
    assert keepalive is not None
    assert keepalive.done()


async def test_listenkey_expired_event_creates_a_new_key(binance: Binance) -> None:
    clock = RecordingClock(auto=False)
    store = BinanceUSDSMDataStore()
    async with futures_client(binance, clock) as client:
        await store.initialize(client.post("https://fapi.binance.com/fapi/v1/listenKey"))
        # An event about some other (old) key changes nothing.
        store.onmessage({"e": "listenKeyExpired", "E": "1736996475556", "listenKey": "old"})
        await asyncio.sleep(0.01)
        assert len(binance.seen("POST")) == 1
        store.onmessage({"e": "listenKeyExpired", "E": "1736996475556", "listenKey": "key-1"})
        await wait_until(lambda: store.listenkey == "key-2")
        assert store.unhandled == {}


async def test_listenkey_keepalive_survives_transient_errors(binance: Binance) -> None:
    clock = RecordingClock(auto=False)
    store = BinanceUSDSMDataStore()
    async with futures_client(binance, clock) as client:
        await store.initialize(client.post("https://fapi.binance.com/fapi/v1/listenKey"))
        await wait_until(lambda: clock.slept == [1800.0])
        binance.put_status = 503  # not -1125's 400: just retried later
        clock.advance(1800)
        await wait_until(lambda: len(clock.slept) == 2)
        assert clock.slept[-1] == 5.0
        assert store.listenkey == "key-1"
        binance.put_status = 200
        clock.advance(5)
        await wait_until(lambda: len(clock.slept) == 3)
        assert clock.slept[-1] == 1800.0
        assert len(binance.seen("PUT")) == 2


async def test_spot_listenkey_keepalive_names_the_key(binance: Binance) -> None:
    clock = RecordingClock(auto=False)
    store = BinanceSpotDataStore()
    async with Client(
        apis={"binance": ["test-key", "test-secret"]},
        redirects={"api.binance.com": binance.base},
        clock=clock,
    ) as client:
        await store.initialize(client.post("https://api.binance.com/api/v3/userDataStream"))
        await wait_until(lambda: clock.slept == [1800.0])
        clock.advance(1800)
        await wait_until(lambda: len(binance.seen("PUT")) == 1)
        assert binance.seen("PUT") == ["/api/v3/userDataStream?listenKey=key-1"]


class FakeConnection:
    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


class FakeWebSocketApp:
    """Like WebSocketApp: no reconnect(); closing current_ws makes it reconnect."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.current_ws = FakeConnection()


async def test_renewal_closes_the_live_connection_so_the_app_reconnects(
    binance: Binance,
) -> None:
    clock = RecordingClock(auto=False)
    store = BinanceUSDSMDataStore()
    async with futures_client(binance, clock) as client:
        await store.initialize(client.post("https://fapi.binance.com/fapi/v1/listenKey"))
        app = FakeWebSocketApp("wss://fstream.binance.com/private/ws/key-1?x=1")
        store.listenkey_app = app
        live = app.current_ws
        store.onmessage({"e": "listenKeyExpired", "E": 1, "listenKey": "key-1"})
        await wait_until(lambda: live.closed)
        assert app.url == "wss://fstream.binance.com/private/ws/key-2?x=1"


async def test_aclose_stops_the_work_and_a_later_client_restarts_it(binance: Binance) -> None:
    binance.depth = [(200, snap(100))]
    binance.gate = asyncio.Event()
    store = BinanceSpotDataStore()
    async with spot_client(binance) as client:
        store.client = client
        store.onmessage(diff(100, 101))
        await wait_until(lambda: len(binance.seen("GET")) == 1)
        await store.aclose()
        assert store._recovery.in_flight == frozenset()
    binance.gate.set()
    async with spot_client(binance) as client:
        store.client = client  # the symbol still waits for a snapshot: fetched now
        await wait_until(lambda: store.orderbook.is_synced("BNBBTC"))


async def test_listenkey_without_a_client_is_stored_but_not_kept_alive(
    binance: Binance, caplog: pytest.LogCaptureFixture
) -> None:
    import aiohttp

    store = BinanceUSDSMDataStore()
    async with aiohttp.ClientSession() as session:
        with caplog.at_level(logging.WARNING, logger="datastores.exchanges.binance"):
            await store.initialize(session.post(f"{binance.base}/fapi/v1/listenKey"))
    assert store.listenkey == "key-1"
    assert store._background.task(store._listenkey_keepalive.refresh_key) is None
    assert any("will not be kept alive" in r.getMessage() for r in caplog.records)


async def test_a_refetch_keeps_the_limit_given_to_initialize(binance: Binance) -> None:
    binance.depth = [(200, snap(100)), (200, snap(300))]
    store = BinanceSpotDataStore()
    async with spot_client(binance) as client:
        await store.initialize(
            client.get(
                "https://api.binance.com/api/v3/depth", params={"symbol": "BNBBTC", "limit": 1000}
            )
        )
        assert store.orderbook.is_synced("BNBBTC")
        store.onmessage(diff(101, 102))
        store.onmessage(diff(200, 201))  # a gap: refetched
        await wait_until(lambda: len(binance.seen("GET")) == 2)
        assert binance.seen("GET") == [
            "/api/v3/depth?symbol=BNBBTC&limit=1000",
            "/api/v3/depth?symbol=BNBBTC&limit=1000",
        ]


async def test_a_refetch_keeps_the_depth_query_of_initialize_without_a_limit(
    binance: Binance,
) -> None:
    # Issue 15 point 12: without a limit Binance answers its default depth (100 levels);
    # a refetch asking 5000 was a different (and 50x heavier) request than the user's.
    binance.depth = [(200, snap(100)), (200, snap(300))]
    store = BinanceSpotDataStore()
    async with spot_client(binance) as client:
        await store.initialize(client.get("https://api.binance.com/api/v3/depth?symbol=BNBBTC"))
        assert store.orderbook.is_synced("BNBBTC")
        store.onmessage(diff(101, 102))
        store.onmessage(diff(200, 201))  # a gap: refetched
        await wait_until(lambda: len(binance.seen("GET")) == 2)
        assert binance.seen("GET") == ["/api/v3/depth?symbol=BNBBTC"] * 2


async def test_a_429_waits_the_retry_after_it_names(binance: Binance) -> None:
    too_many = (429, {"code": -1003, "msg": "Too many requests."})
    binance.depth = [too_many, (200, snap(100))]
    binance.retry_after = "7"
    clock = RecordingClock(auto=True)
    store = BinanceSpotDataStore()
    async with spot_client(binance, clock) as client:
        store.client = client
        store.onmessage(diff(100, 101))
        await wait_until(lambda: store.orderbook.is_synced("BNBBTC"))
        assert clock.slept == [7.0]  # not the backoff's first 1 s
        assert "rate limited" in (store.orderbook.status("BNBBTC").last_error or "")
