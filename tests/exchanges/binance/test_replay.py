"""Replay of documented Binance messages (tests/exchanges/binance/data/) through the real
handlers, and initialize() against REST responses served on 127.0.0.1."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from datastores._client import Client
from datastores.exchanges.binance.store import (
    BinanceCOINMDataStore,
    BinanceSpotDataStore,
    BinanceUSDSMDataStore,
)

DATA = Path(__file__).parent / "data"


def messages(name: str) -> list[Any]:
    with open(DATA / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def replay(store: Any, name: str, ws: Any = None) -> None:
    for msg in messages(name):
        store.onmessage(msg, ws)


def no_resync(store: Any) -> list[str]:
    calls: list[str] = []
    store.orderbook.resync_hook = calls.append
    return calls


# ------------------------------------------------------------------------ spot


def test_spot_public_streams() -> None:
    store = BinanceSpotDataStore()
    replay(store, "spot_public.jsonl")
    assert store.handler_errors == 0
    assert [t["e"] for t in store.trade] == ["trade", "aggTrade"]
    kline = store.kline.get({"t": 1672515780000, "s": "BNBBTC", "i": "1m"})
    assert kline is not None
    assert kline["c"] == "0.0021"  # the second event updated the same candle
    assert len(store.kline) == 1
    assert store.ticker.get({"s": "BNBBTC"})["e"] == "24hrTicker"  # type: ignore[index]
    assert {t["s"] for t in store.ticker} == {"BNBBTC", "ETHBTC", "LTCBTC"}
    # Spot bookTicker has no "e": both the raw and the combined one are recognised.
    assert store.bookticker.get({"s": "BNBUSDT"}) == {
        "u": 400900218,
        "s": "BNBUSDT",
        "b": "25.35200000",
        "B": "30.00000000",
        "a": "25.36520000",
        "A": "40.66000000",
    }
    assert store.partialbook.sorted({"s": "BNBBTC"}) == {
        "a": [{"s": "BNBBTC", "S": "a", "p": "0.0026", "q": "100"}],
        "b": [{"s": "BNBBTC", "S": "b", "p": "0.0024", "q": "10"}],
    }
    assert store.partialbook.status("BNBBTC").synced
    assert store.unhandled == {"avgPrice": 1}


def test_spot_depth_replay_buffered_then_snapshot() -> None:
    store = BinanceSpotDataStore()
    no_resync(store)
    replay(store, "spot_depth.jsonl")
    assert len(store.orderbook) == 0
    assert store.orderbook.status("BNBBTC").buffered == 4
    snap = json.loads((DATA / "spot_depth_snapshot.json").read_text())
    assert store.orderbook._on_depth_snapshot("BNBBTC", snap)
    assert store.orderbook.sorted({"s": "BNBBTC"}) == {
        "a": [
            {"s": "BNBBTC", "S": "a", "p": "4.00000200", "q": "10.00000000"},
            {"s": "BNBBTC", "S": "a", "p": "4.02000000", "q": "7.00000000"},
        ],
        "b": [
            {"s": "BNBBTC", "S": "b", "p": "4.00000000", "q": "430.00000000"},
            {"s": "BNBBTC", "S": "b", "p": "3.98000000", "q": "5.00000000"},
        ],
    }
    status = store.orderbook.status("BNBBTC")
    assert status.synced
    assert status.last_update_id == 1027030
    assert status.stale == 1
    assert status.buffered == 0
    store.orderbook._check()


def test_spot_depth_replay_snapshot_first() -> None:
    store = BinanceSpotDataStore()
    no_resync(store)
    snap = json.loads((DATA / "spot_depth_snapshot.json").read_text())
    store.orderbook._on_depth_snapshot("BNBBTC", snap)
    replay(store, "spot_depth.jsonl")
    assert store.orderbook.levels("BNBBTC") == (
        [["4.00000200", "10.00000000"], ["4.02000000", "7.00000000"]],
        [["4.00000000", "430.00000000"], ["3.98000000", "5.00000000"]],
    )
    assert store.orderbook.initialized["BNBBTC"] is True


def test_spot_user_data_via_the_websocket_api(caplog: pytest.LogCaptureFixture) -> None:
    store = BinanceSpotDataStore()
    with caplog.at_level(logging.INFO, logger="datastores.exchanges.binance"):
        replay(store, "spot_user.jsonl")
    assert store.handler_errors == 0
    assert store.unhandled == {}
    assert store.account.get({"a": "ETH"}) == {"a": "ETH", "f": "9999.000000", "l": "1.000000"}
    assert store.account.get({"a": "BTC"}) == {"a": "BTC", "f": "1.000000", "l": "0.100000"}
    # 4293153 partially filled stays open; 4293154 expired by self-trade prevention.
    assert [o["i"] for o in store.order] == [4293153]
    order = store.order.get({"s": "ETHBTC", "i": 4293153})
    assert order is not None
    assert order["X"] == "PARTIALLY_FILLED"
    assert order["z"] == "0.40000000"
    assert [o["g"] for o in store.ocoorder] == [3]
    messages_logged = [r.getMessage() for r in caplog.records]
    assert any("subscriptionId 0" in m for m in messages_logged)
    assert any("terminated the user data stream" in m for m in messages_logged)


def test_ws_api_event_routes_like_a_stream_event() -> None:
    wrapped = messages("spot_user.jsonl")[3]
    a, b = BinanceSpotDataStore(), BinanceSpotDataStore()
    a.onmessage(wrapped)
    b.onmessage(wrapped["event"])
    assert a.order.find() == b.order.find() == [wrapped["event"]]


def test_order_updates_merge_into_the_stored_order() -> None:
    store = BinanceSpotDataStore()
    first = messages("spot_user.jsonl")[3]["event"]
    store.onmessage(first)
    seen = store.order.get(first)
    store.onmessage({**first, "x": "TRADE", "X": "PARTIALLY_FILLED", "z": "0.1"})
    updated = store.order.get(first)
    assert updated is not None
    assert updated["z"] == "0.1"
    assert seen is not None
    assert seen["z"] == "0.00000000"  # what a reader held is never mutated


# --------------------------------------------------------------------- USDⓈ-M


def test_usdsm_public_streams() -> None:
    store = BinanceUSDSMDataStore()
    no_resync(store)
    replay(store, "usdsm_public.jsonl")
    assert store.handler_errors == 0
    assert len(store.trade) == 1
    assert store.markprice.get({"s": "BTCUSDT"})["p"] == "11795.00000000"  # type: ignore[index]
    assert store.markprice.get({"s": "ETHUSDT"}) is not None
    assert store.kline.get({"t": 1638747660000, "s": "BTCUSDT", "i": "1m"}) is not None
    ck = store.continuouskline.get(
        {"ps": "BTCUSDT", "ct": "PERPETUAL", "t": 1607443020000, "i": "1m"}
    )
    assert ck is not None
    assert ck["c"] == "18804.04"
    assert store.ticker.get({"s": "BTCUSDT"}) is not None
    assert store.bookticker.get({"s": "BNBUSDT"})["b"] == "25.35190000"  # type: ignore[index]
    assert store.liquidation.find() == [
        {
            "s": "BTCUSDT",
            "S": "SELL",
            "o": "LIMIT",
            "f": "IOC",
            "q": "0.014",
            "p": "9910",
            "ap": "9910",
            "X": "FILLED",
            "l": "0.014",
            "z": "0.014",
            "T": 1568014460893,
        }
    ]
    composite = store.compositeindex.get({"s": "DEFIUSDT"})
    assert composite is not None
    assert composite["p"] == "554.41604065"
    assert [c["b"] for c in composite["c"]] == ["BAL", "BAND"]
    # Partial depth (with e=depthUpdate on futures) replaces the top-N book each time
    # and never touches the diff book.
    assert store.partialbook.levels("BTCUSDT") == ([["7405.90", "1.000"]], [["7403.90", "2.000"]])
    assert store.partialbook.status("BTCUSDT").last_update_id == 390497900
    assert "BTCUSDT" not in store.orderbook.symbols
    assert store.unhandled == {"contractInfo": 1}


def test_usdsm_depth_replay() -> None:
    store = BinanceUSDSMDataStore()
    no_resync(store)
    replay(store, "usdsm_depth.jsonl")
    snap = json.loads((DATA / "usdsm_depth_snapshot.json").read_text())
    assert store.orderbook._on_depth_snapshot("BTCUSDT", snap)
    # 1027010..1027020 is stale (u < 1027024); 1027021..1027030 bridges.
    assert store.orderbook.levels("BTCUSDT") == (
        [["4.00000300", "5.0"], ["4.00000400", "1.5"]],
        [["4.00000000", "430.00000000"], ["3.99000000", "2.0"]],
    )
    assert store.orderbook.status("BTCUSDT").last_update_id == 1027040


def test_usdsm_user_data() -> None:
    store = BinanceUSDSMDataStore()
    replay(store, "usdsm_user.jsonl")
    assert store.handler_errors == 0
    assert store.unhandled == {}  # TRADE_LITE, ACCOUNT_CONFIG_UPDATE, MARGIN_CALL known
    assert [o["i"] for o in store.order] == [8886774]  # 8886775 was filled
    assert store.order.get({"s": "BTCUSDT", "i": 8886774})["o"] == "TRAILING_STOP_MARKET"  # type: ignore[index]
    # The funding-fee event (balance only, no "P") updated USDT and left positions.
    assert store.balance.get({"a": "USDT"}) == {
        "a": "USDT",
        "wb": "122623.12345678",
        "cw": "99.12345678",
        "bc": "0",
    }
    assert store.balance.get({"a": "BUSD"}) is not None
    assert {(p["ps"], p["pa"]) for p in store.position} == {
        ("BOTH", "0"),
        ("LONG", "20"),
        ("SHORT", "-10"),
    }


# ----------------------------------------------------------------------- COIN-M


def test_coinm_public_streams() -> None:
    store = BinanceCOINMDataStore()
    calls = no_resync(store)
    msgs = messages("coinm_public.jsonl")
    replay(store, "coinm_public.jsonl")
    assert store.handler_errors == 0
    assert store.indexprice.get({"i": "BTCUSD"})["p"] == "9636.57860000"  # type: ignore[index]
    index_kline = store.indexpricekline.get({"t": 1591267020000, "s": "BTCUSD", "i": "1m"})
    assert index_kline is not None
    assert index_kline["c"] == "9542.50440000"
    assert msgs[1]["k"]["s"] == "0"  # the message itself is not mutated
    assert store.markpricekline.get({"t": 1591267380000, "s": "BTCUSD_200626", "i": "1m"})
    assert store.markprice.get({"s": "BTCUSD_201225"}) is not None
    assert store.continuouskline.get(
        {"ps": "BTCUSD", "ct": "NEXT_QUARTER", "t": 1591261500000, "i": "1m"}
    )
    # A diff without a snapshot waits, and asks for one.
    assert store.orderbook.status("BTCUSD_200626").buffered == 1
    assert calls == ["BTCUSD_200626"]


def test_coinm_user_data_pushes_every_position() -> None:
    store = BinanceCOINMDataStore()
    replay(store, "coinm_user.jsonl")
    assert store.handler_errors == 0
    assert store.order.find() == []  # placed, then canceled
    assert store.position.get({"s": "BTCUSD_200925", "ps": "LONG"})["pa"] == "22"  # type: ignore[index]
    assert len(store.position) == 3
    assert store.balance.get({"a": "BTC"})["wb"] == "122625.12345678"  # type: ignore[index]
    assert store.balance.get({"a": "ETH"})["wb"] == "1.00000000"  # type: ignore[index]


# ------------------------------------------------------------------ initialize()


def rest_app(name: str, seen: list[str]) -> web.Application:
    bodies: dict[str, Any] = json.loads((DATA / name).read_text())
    snap = json.loads((DATA / "spot_depth_snapshot.json").read_text())

    async def handler(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.path_qs}")
        if request.path.endswith("/depth"):
            return web.json_response(snap)
        if request.path.endswith("/exchangeInfo"):
            return web.json_response({"timezone": "UTC", "serverTime": 1565246363776})
        if request.path.endswith(("/listenKey", "/userDataStream")):
            return web.json_response({"listenKey": "pqia91ma19a5s61cv6a81va65sdf19v8a65a1"})
        body = bodies.get(request.path)
        if body is None:
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        return web.json_response(body)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, list[str], Any]]:
    """Start REST servers for the three markets; yields (base url, seen requests, start)."""
    runners: list[web.AppRunner] = []
    seen: list[str] = []

    async def start(name: str) -> str:
        runner = web.AppRunner(rest_app(name, seen))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    yield "", seen, start
    for runner in runners:
        await runner.cleanup()


async def test_spot_initialize(served: Any) -> None:
    _, seen, start = served
    base = await start("spot_rest.json")
    store = BinanceSpotDataStore()
    async with Client(redirects={"api.binance.com": base}) as client:
        api = "https://api.binance.com"
        await store.initialize(
            client.get(f"{api}/api/v3/account"),
            client.get(f"{api}/api/v3/openOrders", params={"symbol": "LTCBTC"}),
            client.get(f"{api}/api/v3/openOrderList"),
            client.get(f"{api}/api/v3/klines", params={"symbol": "LTCBTC", "interval": "1w"}),
            client.get(f"{api}/api/v3/depth", params={"symbol": "BNBBTC", "limit": 100}),
        )
        assert store.client is client
    assert store.account.get({"a": "BTC"}) == {
        "a": "BTC",
        "f": "4723846.89208129",
        "l": "0.00000000",
    }
    order = store.order.get({"s": "LTCBTC", "i": 1})
    assert order is not None
    assert order["c"] == "myOrder1"
    assert order["q"] == "1.0"
    oco = store.ocoorder.get({"s": "LTCBTC", "g": 31})
    assert oco is not None
    assert [o["i"] for o in oco["O"]] == [4, 5]
    klines = store.kline.find({"s": "LTCBTC"})
    assert [k["x"] for k in klines] == [True, False]  # the last candle is still open
    assert klines[0]["c"] == "0.01577100"
    assert klines[0]["f"] is None
    assert store.orderbook.status("BNBBTC").synced
    assert store.orderbook.status("BNBBTC").last_update_id == 1027024
    # A later resync goes to the same place with the same limit.
    assert str(store._snapshot_url("ETHBTC")) == f"{base}/api/v3/depth?symbol=ETHBTC&limit=100"
    assert len(seen) == 5


async def test_open_orders_with_a_symbol_replace_only_that_symbol(served: Any) -> None:
    _, _, start = served
    base = await start("spot_rest.json")
    store = BinanceSpotDataStore()
    store.onmessage(messages("spot_user.jsonl")[3])  # an ETHBTC order
    store.onmessage({**messages("spot_user.jsonl")[3]["event"], "s": "LTCBTC", "i": 99})
    async with Client(redirects={"api.binance.com": base}) as client:
        await store.initialize(
            client.get("https://api.binance.com/api/v3/openOrders", params={"symbol": "LTCBTC"})
        )
        assert sorted((o["s"], o["i"]) for o in store.order) == [("ETHBTC", 4293153), ("LTCBTC", 1)]
        await store.initialize(client.get("https://api.binance.com/api/v3/openOrders"))
        assert [(o["s"], o["i"]) for o in store.order] == [("LTCBTC", 1)]


async def test_usdsm_initialize(served: Any) -> None:
    _, _, start = served
    base = await start("usdsm_rest.json")
    store = BinanceUSDSMDataStore()
    store.onmessage(messages("usdsm_user.jsonl")[1])  # an order that REST no longer lists
    async with Client(redirects={"fapi.binance.com": base}) as client:
        api = "https://fapi.binance.com"
        await store.initialize(
            client.get(f"{api}/fapi/v1/openOrders"),
            client.get(f"{api}/fapi/v2/balance"),
            client.get(f"{api}/fapi/v3/positionRisk"),
            client.get(f"{api}/fapi/v1/indexInfo"),
        )
    assert [o["i"] for o in store.order] == [1917641]
    order = store.order.get({"s": "BTCUSDT", "i": 1917641})
    assert order is not None
    assert order["ps"] == "SHORT"
    assert order["ot"] == "TRAILING_STOP_MARKET"
    assert store.balance.get({"a": "USDT"}) == {
        "a": "USDT",
        "wb": "122607.35137903",
        "cw": "23.72469206",
    }
    position = store.position.get({"s": "ADAUSDT", "ps": "BOTH"})
    assert position == {
        "s": "ADAUSDT",
        "pa": "30",
        "ep": "0.385",
        "up": "0.76427700",
        "mt": None,  # v3 positionRisk has no marginType
        "iw": "0",
        "ps": "BOTH",
    }
    composite = store.compositeindex.get({"s": "DEFIUSDT"})
    assert composite is not None
    assert composite["p"] is None
    assert composite["c"][0] == {
        "b": "BAL",
        "q": "USDT",
        "w": "1.04406228",
        "W": "0.02783900",
        "i": None,
    }


async def test_coinm_initialize(served: Any) -> None:
    _, _, start = served
    base = await start("coinm_rest.json")
    store = BinanceCOINMDataStore()
    async with Client(redirects={"dapi.binance.com": base}) as client:
        api = "https://dapi.binance.com"
        await store.initialize(
            client.get(f"{api}/dapi/v1/balance"),
            client.get(f"{api}/dapi/v1/positionRisk"),
            client.get(
                f"{api}/dapi/v1/indexPriceKlines", params={"pair": "BTCUSD", "interval": "1m"}
            ),
            client.get(
                f"{api}/dapi/v1/markPriceKlines",
                params={"symbol": "BTCUSD_200626", "interval": "1m"},
            ),
        )
    assert store.balance.get({"a": "BTC"})["cw"] == "0.00241969"  # type: ignore[index]
    assert store.position.get({"s": "BTCUSD_201225", "ps": "BOTH"})["mt"] == "cross"  # type: ignore[index]
    assert store.indexpricekline.get({"t": 1591256400000, "s": "BTCUSD", "i": "1m"}) is not None
    assert (
        store.markpricekline.get({"t": 1591256460000, "s": "BTCUSD_200626", "i": "1m"}) is not None
    )


async def test_initialize_rejects_what_it_cannot_use(served: Any) -> None:
    _, _, start = served
    base = await start("spot_rest.json")
    store = BinanceSpotDataStore()
    async with Client(redirects={"api.binance.com": base}) as client:
        with pytest.raises(ValueError, match="symbol"):
            await store.initialize(client.get("https://api.binance.com/api/v3/depth"))
        with pytest.raises(ValueError, match="does not know the endpoint"):
            await store.initialize(client.get("https://api.binance.com/api/v3/exchangeInfo"))
