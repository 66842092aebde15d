"""Binance fake venues: REST snapshots, market streams and their sequence fields."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from datastores.testing import FakeExchange


def _ws(fake: FakeExchange, venue: str, path: str) -> str:
    return "ws" + fake.venues[venue].url[4:] + path


def _http(fake: FakeExchange, venue: str, path: str) -> str:
    return fake.venues[venue].url + path


def _apply(book: dict[Decimal, Decimal], levels: list[list[str]]) -> None:
    for price, size in levels:
        if Decimal(size) == 0:
            book.pop(Decimal(price), None)
        else:
            book[Decimal(price)] = Decimal(size)


async def test_spot_snapshot_shape_and_errors(
    fake: FakeExchange, session: aiohttp.ClientSession
) -> None:
    async with session.get(
        _http(fake, "binance-spot", "/api/v3/depth?symbol=BTCUSDT&limit=5")
    ) as r:
        assert r.status == 200
        data = await r.json()
    truth = fake.book("BTCUSDT", venue="binance-spot")
    assert data["lastUpdateId"] == truth.last_update_id
    bids, asks = truth.top(5)
    assert data["bids"] == [list(level) for level in bids]
    assert data["asks"] == [list(level) for level in asks]
    async with session.get(_http(fake, "binance-spot", "/api/v3/depth?symbol=NOPE")) as r:
        assert (r.status, await r.json()) == (400, {"code": -1121, "msg": "Invalid symbol."})
    async with session.get(_http(fake, "binance-spot", "/api/v3/depth")) as r:
        assert (await r.json())["code"] == -1102


async def test_futures_snapshots_carry_times_and_valid_limits(
    fake: FakeExchange, session: aiohttp.ClientSession
) -> None:
    url = _http(fake, "binance-usdsm", "/fapi/v1/depth?symbol=BTCUSDT&limit=50")
    async with session.get(url) as r:
        data = await r.json()
    assert {"lastUpdateId", "E", "T", "bids", "asks"} <= set(data)
    assert len(data["bids"]) == 50
    async with session.get(url.replace("limit=50", "limit=7")) as r:
        assert (r.status, (await r.json())["code"]) == (400, -1130)
    url = _http(fake, "binance-coinm", "/dapi/v1/depth?symbol=BTCUSD_PERP&limit=5")
    async with session.get(url) as r:
        data = await r.json()
    assert (data["symbol"], data["pair"]) == ("BTCUSD_PERP", "BTCUSD")


async def test_spot_diffs_follow_the_snapshot_and_rebuild_the_book(
    fake: FakeExchange, session: aiohttp.ClientSession
) -> None:
    async with session.ws_connect(_ws(fake, "binance-spot", "/ws/btcusdt@depth@100ms")) as ws:
        await fake.wait_for_connections(1)
        url = _http(fake, "binance-spot", "/api/v3/depth?symbol=BTCUSDT&limit=5000")
        async with session.get(url) as r:
            snapshot = await r.json()
        bids = {Decimal(p): Decimal(s) for p, s in snapshot["bids"]}
        asks = {Decimal(p): Decimal(s) for p, s in snapshot["asks"]}
        fake.tick(50, "BTCUSDT", venue="binance-spot")
        last = snapshot["lastUpdateId"]
        for _ in range(50):
            msg = await ws.receive_json()
            assert msg["e"] == "depthUpdate"
            assert msg["s"] == "BTCUSDT"
            assert msg["U"] == last + 1
            last = msg["u"]
            _apply(bids, msg["b"])
            _apply(asks, msg["a"])
    truth = fake.book("BTCUSDT", venue="binance-spot")
    assert last == truth.last_update_id
    assert bids == {Decimal(p): Decimal(s) for p, s in truth.bids.items()}
    assert asks == {Decimal(p): Decimal(s) for p, s in truth.asks.items()}


async def test_futures_diffs_chain_pu_to_the_previous_u(
    fake: FakeExchange, session: aiohttp.ClientSession
) -> None:
    async with session.ws_connect(_ws(fake, "binance-usdsm", "/ws/btcusdt@depth")) as ws:
        await fake.wait_for_connections(1, venue="binance-usdsm")
        fake.tick(5, "BTCUSDT", venue="binance-usdsm")
        messages = [await ws.receive_json() for _ in range(5)]
    for before, after in itertools.pairwise(messages):
        assert after["pu"] == before["u"]
        assert {"E", "T", "U", "u", "pu", "b", "a"} <= set(after)
    async with session.ws_connect(_ws(fake, "binance-coinm", "/ws/btcusd_perp@depth@500ms")) as ws:
        await fake.wait_for_connections(1, venue="binance-coinm")
        fake.tick(1, "BTCUSD_PERP")
        assert (await ws.receive_json())["ps"] == "BTCUSD"


async def test_combined_stream_subscribe_unsubscribe_and_list(
    fake: FakeExchange, session: aiohttp.ClientSession
) -> None:
    url = _ws(fake, "binance-spot", "/stream?streams=btcusdt@depth/btcusdt@trade")
    async with session.ws_connect(url) as ws:
        await ws.send_json({"method": "SUBSCRIBE", "params": ["ethusdt@aggTrade"], "id": 7})
        assert await ws.receive_json() == {"result": None, "id": 7}
        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 8})
        listed = await ws.receive_json()
        assert sorted(listed["result"]) == ["btcusdt@depth", "btcusdt@trade", "ethusdt@aggTrade"]
        await ws.send_json({"method": "SUBSCRIBE", "params": ["nope@depth"], "id": 9})
        error = await ws.receive_json()
        assert error["id"] == 9
        assert error["error"]["code"] == 2
        await ws.send_json({"method": "UNSUBSCRIBE", "params": ["btcusdt@depth"], "id": 10})
        assert await ws.receive_json() == {"result": None, "id": 10}
        fake.tick(30, venue="binance-spot")
        seen: set[str] = set()
        trade: dict[str, Any] = {}
        while len(seen) < 2:
            msg = await ws.receive_json()
            seen.add(msg["stream"])
            if msg["stream"] == "btcusdt@trade":
                trade = msg["data"]
        assert seen == {"btcusdt@trade", "ethusdt@aggTrade"}
        assert {"e", "E", "s", "t", "p", "q", "T", "m"} <= set(trade)


async def test_same_seed_gives_the_same_stream() -> None:
    streams = []
    for _ in range(2):
        async with (
            FakeExchange("binance-usdsm", seed=42, rate=0, levels=200) as fake,
            aiohttp.ClientSession() as session,
            session.ws_connect(_ws(fake, "binance-usdsm", "/ws/ethusdt@depth")) as ws,
        ):
            await fake.wait_for_connections(1)
            fake.tick(20, "ETHUSDT")
            got = [await ws.receive_json() for _ in range(20)]
        streams.append([{k: v for k, v in m.items() if k not in ("E", "T")} for m in got])
    assert streams[0] == streams[1]


async def test_background_rate_publishes_on_its_own() -> None:
    async with (
        FakeExchange("binance-spot", symbols=["BTCUSDT"], rate=500, levels=100) as fake,
        aiohttp.ClientSession() as session,
        session.ws_connect(_ws(fake, "binance-spot", "/ws/btcusdt@depth")) as ws,
    ):
        first = await ws.receive_json(timeout=2)
        second = await ws.receive_json(timeout=2)
        assert second["U"] == first["u"] + 1
        fake.pause()
        assert fake.venues["binance-spot"].paused


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="binance-spot"):
        FakeExchange("nope")


async def test_redirects_and_apis(fake: FakeExchange) -> None:
    redirects = fake.redirects
    assert redirects["api.binance.com"] == fake.venues["binance-spot"].url
    assert redirects["stream.binance.com"].startswith("ws://127.0.0.1:")
    assert redirects["fapi.binance.com"] != redirects["api.binance.com"]
    assert fake.apis == {"binance": ["fake-api-key", "fake-api-secret"]}
    with pytest.raises(ValueError, match="venue="):
        fake.book("BTCUSDT")
    assert fake.book("BTCUSD_PERP").symbol == "BTCUSD_PERP"
    with pytest.raises(ValueError, match="venues"):
        _ = fake.profile
    assert fake.venues["binance-coinm"].profile.name == "binance-coinm"
