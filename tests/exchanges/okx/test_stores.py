"""OKXDataStore: every channel, nested stores, initialize(), events, bad input."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from datastores._client import Client
from datastores._errors import AuthenticationError, ExchangeAPIError, RateLimitError
from datastores.exchanges.okx.store import OKXDataStore

from ._support import FakeWS, book_msg, levels_of, load, lv, rest_server


def replay(store: OKXDataStore, name: str, ws: Any = None) -> None:
    for msg in load(name):
        store.onmessage(msg, ws)


# ------------------------------------------------------------ public channels


def test_public_channels_land_in_their_documented_stores() -> None:
    store = OKXDataStore()
    replay(store, "public.json")
    assert {i["instId"] for i in store.instruments} == {"BTC-USDT", "ETH-USDT"}
    # tickers merge by instId: the second push wins.
    assert len(store.tickers) == 1
    assert store.tickers.get({"instId": "BTC-USDT"})["last"] == "10000.1"  # type: ignore[index]
    assert store.openinterest.get({"instId": "LTC-USD-SWAP"})["oi"] == "5000"  # type: ignore[index]
    # candles: one item per (channel, instId, ts), updated until confirmed.
    day = store.candle.get({"channel": "candle1D", "instId": "BTC-USDT", "ts": "1597026383085"})
    assert day == {
        "channel": "candle1D",
        "instId": "BTC-USDT",
        "ts": "1597026383085",
        "o": "8533.02",
        "h": "8560",
        "l": "8527.17",
        "c": "8559.5",
        "vol": "45300",
        "volCcy": "530",
        "volCcyQuote": "5530",
        "confirm": "1",
    }
    assert len(store.candle) == 2  # candle1D and candle1m
    mark = store.markpricecandle.find({"channel": "mark-price-candle1m"})
    assert mark == [
        {
            "channel": "mark-price-candle1m",
            "instId": "BTC-USD-190628",
            "ts": "1597026383085",
            "o": "3.721",
            "h": "3.743",
            "l": "3.677",
            "c": "3.708",
            "confirm": "1",
        }
    ]
    assert store.indexcandle.find()[0]["channel"] == "index-candle30m"
    assert [t["tradeId"] for t in store.trades] == ["130639474", "130639475"]
    assert store.estimatedprice.get({"instId": "BTC-USD-170310"})["settlePx"] == "200"  # type: ignore[index]
    assert store.markprice.get({"instId": "BTC-USDT"})["markPx"] == "42310.6"  # type: ignore[index]
    assert store.pricelimit.get({"instId": "LTC-USD-190628"})["sellLmt"] == "300"  # type: ignore[index]
    assert store.optsummary.get({"instId": "BTC-USD-241013-70000-P"})["fwdPx"] == "62604.6993093463"  # type: ignore[index]
    assert store.fundingrate.get({"instId": "BTC-USD-SWAP"})["fundingRate"] == "0.0001875391284828"  # type: ignore[index]
    assert store.indextickers.get({"instId": "BTC-USDT"})["idxPx"] == "0.1"  # type: ignore[index]
    assert store.status.find()[0]["title"] == "Trading account WebSocket system upgrade"
    # A channel without a dedicated store goes to a generic one instead of raising.
    assert store["trades-all"].find() == load("public.json")[-4]["data"]
    stats = store.statistics()
    assert store.generic_channels == ("fills", "trades-all")
    assert store.error_events == 1
    assert store.dropped_messages == 0
    assert stats.handler_errors == 0
    # The store names of the reference library resolve too.
    for name in (
        "open-interest",
        "estimated-price",
        "mark-price",
        "price-limit",
        "opt-summary",
        "funding-rate",
        "index-tickers",
        "index-candle",
        "mark-price-candle",
    ):
        assert name in store


# ----------------------------------------------------------- private channels


def test_private_channels_and_nested_stores() -> None:
    store = OKXDataStore()
    replay(store, "private.json")
    # account: the latest summary; details merged per currency across pushes.
    assert [a["totalEq"] for a in store.account] == ["41600.01"]
    assert {d["ccy"]: d["eq"] for d in store.account.details} == {"BTC": "1", "USDT": "4975.69"}
    # positions by instId/mgnMode/posSide: long updated, short kept.
    long = store.positions.get(
        {"instId": "ETH-USD-210430", "mgnMode": "isolated", "posSide": "long"}
    )
    short = store.positions.get(
        {"instId": "ETH-USD-210430", "mgnMode": "isolated", "posSide": "short"}
    )
    assert long is not None
    assert long["pos"] == "3"
    assert long["upl"] == "0.01"
    assert short is not None
    assert short["pos"] == "2"
    # balance_and_position: raw pushes, plus merged balance and position stores.
    assert [i["eventType"] for i in store.balance_and_position] == ["snapshot", "filled"]
    assert {b["ccy"]: b["cashBal"] for b in store.balance_and_position.balance} == {
        "BTC": "0.99",
        "USDT": "100",
    }
    position = store.balance_and_position.position.find()
    assert len(position) == 1
    assert position[0]["pos"] == "12"
    assert position[0]["tradeId"] == "3"
    # orders: partially filled kept (updated), canceled removed.
    assert [o["ordId"] for o in store.orders] == ["312269865356374016"]
    assert store.orders.find()[0]["state"] == "partially_filled"
    # orders-algo: live kept, effective removed; algo-advance: live kept.
    assert [o["algoId"] for o in store.ordersalgo] == ["1234"]
    assert [o["algoId"] for o in store.algoadvance] == ["355056228680335360"]
    assert store.liquidationwarning.get({"instId": "ETH-USD-210430"})["mgnRatio"] == "0.01"  # type: ignore[index]
    assert store.accountgreeks.get({"ccy": "BTC"})["deltaBS"] == "1.1246665401944310"  # type: ignore[index]
    assert [f["tradeId"] for f in store.fills] == ["12345"]
    stats = store.statistics()
    assert store.dropped_messages == 0
    assert store.ignored_messages == 1
    assert stats.dropped == {}
    assert stats.unhandled == {"<websocket api reply>": 1}


def test_order_without_state_never_deletes_a_live_order() -> None:
    store = OKXDataStore()
    store.onmessage({"arg": {"channel": "orders"}, "data": [{"ordId": "1", "state": "live"}]})
    store.onmessage({"arg": {"channel": "orders"}, "data": [{"ordId": "1"}]})
    assert [o["ordId"] for o in store.orders] == ["1"]
    assert store.orders.dropped == 1


# ------------------------------------------------------------------ initialize


async def test_initialize_seeds_orders_and_algo_orders_from_rest() -> None:
    async with (
        rest_server() as server,
        Client(apis={}, redirects={"www.okx.com": server.base}) as client,
    ):
        store = OKXDataStore()
        server.responses = [(200, load("rest_orders_pending.json"))]
        await store.initialize(client.get("https://www.okx.com/api/v5/trade/orders-pending"))
        server.responses = [(200, load("rest_orders_algo_pending.json"))]
        await store.initialize(
            client.get(
                "https://www.okx.com/api/v5/trade/orders-algo-pending",
                params={"ordType": "conditional,iceberg,twap"},
            )
        )
        assert store.client is client
        assert [o["ordId"] for o in store.orders] == [
            "301835739059335168",
            "301835739059335169",
        ]
        assert [o["algoId"] for o in store.ordersalgo] == ["1234"]
        assert [o["algoId"] for o in store.algoadvance] == [
            "355056228680335360",
            "355056228680335361",
        ]
        # A WS push then closes one of the seeded orders.
        store.onmessage(
            {
                "arg": {"channel": "orders"},
                "data": [{"ordId": "301835739059335168", "state": "filled"}],
            }
        )
        assert [o["ordId"] for o in store.orders] == ["301835739059335169"]


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (
            200,
            {"code": "51000", "msg": "Parameter instType error", "data": []},
            ExchangeAPIError,
            "51000",
        ),
        (200, {"code": "50011", "msg": "Too Many Requests", "data": []}, RateLimitError, "50011"),
        (401, {"code": "50113", "msg": "Invalid Sign", "data": []}, AuthenticationError, "50113"),
    ],
)
async def test_initialize_raises_on_an_okx_error_code(
    status: int, body: dict[str, Any], error: type[ExchangeAPIError], code: str
) -> None:
    async with rest_server() as server:
        server.responses = [(status, body)]
        async with Client(apis={}, redirects={"www.okx.com": server.base}) as client:
            store = OKXDataStore()
            with pytest.raises(error) as info:
                await store.initialize(
                    client.get("https://www.okx.com/api/v5/trade/orders-pending")
                )
            assert info.value.code == code
            assert info.value.endpoint == "GET /api/v5/trade/orders-pending"
            assert body["msg"] in str(info.value)
            assert len(store.orders) == 0


async def test_initialize_rejects_an_unknown_endpoint() -> None:
    async with rest_server() as server:
        server.responses = [(200, {"code": "0", "msg": "", "data": []})]
        async with Client(apis={}, redirects={"www.okx.com": server.base}) as client:
            with pytest.raises(ValueError, match="/api/v5/account/balance"):
                await OKXDataStore().initialize(
                    client.get("https://www.okx.com/api/v5/account/balance")
                )


async def test_initialize_book_snapshot_then_ws_updates_bridge() -> None:
    async with rest_server() as server:
        server.responses = [(200, load("rest_books.json"))]
        async with Client(apis={}, redirects={"www.okx.com": server.base}) as client:
            store = OKXDataStore()
            await store.initialize(
                client.get(
                    "https://www.okx.com/api/v5/market/books",
                    params={"instId": "BTC-USDT-SWAP", "sz": "400"},
                )
            )
            assert store.books.status("BTC-USDT-SWAP").last_update_id == 1004
            replay(store, "books_no_snapshot.json", FakeWS())
            status = store.books.status("BTC-USDT-SWAP")
            assert status.synced
            assert status.last_update_id == 1011
            assert status.gaps == 0
            assert len(server.requests) == 1  # no automatic refetch was needed


# ----------------------------------------------------------- events, bad input


def test_events_are_handled_without_raising(caplog: pytest.LogCaptureFixture) -> None:
    store = OKXDataStore()
    with caplog.at_level(logging.DEBUG, "datastores.exchanges.okx"):
        for msg in [
            {"event": "login", "code": "0", "msg": "", "connId": "1"},
            {
                "event": "subscribe",
                "arg": {"channel": "tickers", "instId": "BTC-USDT"},
                "connId": "1",
            },
            {"event": "unsubscribe", "arg": {"channel": "books", "instId": "NOPE"}, "connId": "1"},
            {"event": "channel-conn-count", "channel": "orders", "connCount": "2", "connId": "1"},
            {
                "event": "channel-conn-count-error",
                "channel": "orders",
                "connCount": "30",
                "connId": "1",
            },
            {
                "event": "notice",
                "code": "64008",
                "msg": "The connection will soon be closed.",
                "connId": "1",
            },
            {"event": "error", "code": "60012", "msg": "Invalid request", "connId": "1"},
            {"event": "something-new", "connId": "1"},
        ]:
            store.onmessage(msg)
    assert store.error_events == 1
    stats = store.statistics()
    assert store.error_events == 1
    assert store.ignored_messages == 1
    assert stats.handler_errors == 0
    messages = [r.getMessage() for r in caplog.records]
    assert any("64008" in m for m in messages)
    assert any("60012" in m for m in messages)


def test_error_event_echoing_a_login_never_logs_secrets(caplog: pytest.LogCaptureFixture) -> None:
    store = OKXDataStore()
    echo = (
        'Invalid request: {"op":"login","args":[{"apiKey":"KEY-123","passphrase":"PASS-456",'
        '"timestamp":"1","sign":"SIG-789"}]}'
    )
    with caplog.at_level(logging.DEBUG):
        store.onmessage({"event": "error", "code": "60009", "msg": echo, "connId": "1"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "60009" in text
    for secret in ("KEY-123", "PASS-456", "SIG-789"):
        assert secret not in text


@pytest.mark.parametrize(
    "msg",
    [
        "pong",
        ["not", "an", "object"],
        {"data": [{"x": 1}]},
        {"arg": "books", "data": []},
        {"arg": {"instId": "BTC-USDT"}, "data": []},
        {"arg": {"channel": "tickers", "instId": "BTC-USDT"}, "data": {"last": "1"}},
        {"arg": {"channel": "books", "instId": "BTC-USDT"}, "action": "snapshot"},
        {"arg": {"channel": "books"}, "action": "snapshot", "data": []},
        {"arg": {"channel": "candle1m", "instId": "BTC-USDT"}, "data": "x"},
    ],
)
def test_malformed_messages_are_dropped_and_counted(msg: Any) -> None:
    store = OKXDataStore()
    store.onmessage(
        book_msg("books", "BTC-USDT", "snapshot", [lv("2", "1")], [lv("1", "1")], prev=-1, seq=1)
    )
    store.onmessage(
        {
            "arg": {"channel": "tickers", "instId": "BTC-USDT"},
            "data": [{"instId": "BTC-USDT", "last": "5"}],
        }
    )
    store.onmessage(msg)
    stats = store.statistics()
    assert store.dropped_messages == 1
    assert stats.handler_errors == 0
    assert store.dropped_messages == 1
    assert store.books.status("BTC-USDT").synced
    assert levels_of(store.books, "BTC-USDT") == ([lv("2", "1")], [lv("1", "1")])
    assert [t["last"] for t in store.tickers] == ["5"]


def test_bad_items_inside_a_message_are_dropped_the_rest_applied() -> None:
    store = OKXDataStore()
    store.onmessage({"arg": {"channel": "tickers"}, "data": [7, {"instId": "A", "last": "1"}]})
    store.onmessage(
        {
            "arg": {"channel": "candle1m", "instId": "A"},
            "data": [{"o": 1}, ["1", "2", "3", "4", "5"]],
        }
    )
    assert [t["instId"] for t in store.tickers] == ["A"]
    assert [c["ts"] for c in store.candle] == ["1"]
    assert store.dropped_messages == 2


@pytest.mark.parametrize(
    "item",
    [
        {"asks": [["x", "1", "0", "1"]], "bids": [], "prevSeqId": 1, "seqId": 2},
        {"asks": [["2"]], "bids": [], "prevSeqId": 1, "seqId": 2},
        {"asks": "oops", "bids": [], "prevSeqId": 1, "seqId": 2},
        {"asks": [], "bids": [], "prevSeqId": 1, "seqId": "two"},
        "not an object",
    ],
)
async def test_malformed_book_update_marks_the_book_unsynced(item: Any) -> None:
    store = OKXDataStore()
    ws = FakeWS()
    store.onmessage(
        book_msg("books", "X", "snapshot", [lv("2", "1")], [lv("1", "1")], prev=-1, seq=1), ws
    )
    store.onmessage(
        {"arg": {"channel": "books", "instId": "X"}, "action": "update", "data": [item]}, ws
    )
    status = store.books.status("X")
    assert not status.synced
    assert status.errors == 1
    assert status.resyncs == 1
    store.books._check()
    await store.aclose()


def test_unknown_book_action_is_an_error_not_a_crash() -> None:
    store = OKXDataStore()
    store.onmessage(book_msg("books", "X", "snapshot", [lv("2", "1")], [], prev=-1, seq=1))
    store.onmessage(book_msg("books", "X", "partial", [lv("3", "1")], [], prev=1, seq=2))
    status = store.books.status("X")
    assert not status.synced
    assert status.errors == 1
    assert status.last_error is not None
    assert "partial" in status.last_error


def test_generic_channels_are_bounded() -> None:
    store = OKXDataStore()
    cap = store.max_dynamic_stores
    for i in range(cap + 5):
        store.onmessage({"arg": {"channel": f"junk-{i}"}, "data": [{"n": i}]})
    stats = store.statistics()
    assert len(store.generic_channels) == 1 + cap  # `fills` is declared, not made on the fly
    assert store.dropped_messages == 5
    assert stats.dropped == {"too many stores made on the fly (max_dynamic_stores)": 5}
    assert store["junk-0"].find() == [{"n": 0}]
    assert "junk-70" not in store


def test_pybotters_style_usage_ports_unchanged() -> None:
    """The documented reference-library calls keep working on the same data."""
    store = OKXDataStore()
    replay(store, "books.json")
    top = store.books.sorted({"instId": "BTC-USDT"}, limit=1)
    assert top["asks"][0] == {
        "instId": "BTC-USDT",
        "side": "asks",
        "px": "8477",
        "sz": "7",
        "liqSz": "0",
        "ordSz": "2",
    }
    assert top["bids"][0]["px"] == "8476.97"
    assert store.books.find({"instId": "ETH-USDT", "side": "bids"})[0]["px"] == "111.05"
    assert store["books"] is store.books
