"""PhemexDataStore fed the documented message shapes (``data/``): every store's items,
keys and the book rules (snapshot replaces, increments by price, zero deletes,
stale sequences dropped, truncation to the subscribed depth)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _contract import load_messages

from datastores import PhemexDataStore

DATA = Path(__file__).parent / "data"


def fed(name: str) -> PhemexDataStore:
    store = PhemexDataStore()
    for message in load_messages(DATA / name):
        store.onmessage(message)
        store.orderbook._check()
    return store


def test_coin_m_book_snapshot_increments_zero_deletes_and_stale_drops() -> None:
    store = fed("public.jsonl")
    book = store.orderbook
    sides = book.sorted({"symbol": "BTCUSD"})
    assert [(i["priceEp"], i["qty"]) for i in sides["asks"]] == [
        (87700500, 7),
        (87710000, 200000),
        (87715000, 5),
    ]
    assert [(i["priceEp"], i["qty"]) for i in sides["bids"]] == [
        (87700000, 2100000),
        (87695000, 3),
        (87690000, 40),
    ]
    assert sides["asks"][0] == {"symbol": "BTCUSD", "side": "asks", "priceEp": 87700500, "qty": 7}
    status = book.status("BTCUSD")
    assert status.synced
    assert status.last_update_id == 79437160
    assert status.stale == 1  # the replayed sequence 79437150
    assert book.timestamp == 1590046066400000000


def test_usdsm_book_keeps_the_price_strings() -> None:
    book = fed("public.jsonl").orderbook
    sides = book.sorted({"symbol": "BTCUSDT"})
    assert [(i["priceEp"], i["qty"]) for i in sides["asks"]] == [("65000.2", "1.25")]
    assert [(i["priceEp"], i["qty"]) for i in sides["bids"]] == [
        ("65000.05", "0.3"),
        ("65000", "2"),
        ("64999.9", "0.001"),
    ]
    assert book.status("BTCUSDT").last_update_id == 79437171


def test_trades_of_one_timestamp_are_all_kept_and_a_resent_snapshot_does_not_duplicate() -> None:
    store = fed("public.jsonl")
    trades = store.trade.find({"symbol": "BTCUSD"})
    assert [(t["timestamp"], t["n"], t["qty"]) for t in trades] == [
        (1573716997000000000, 0, 10),
        (1573716998128563500, 0, 56),
        (1573716998128563500, 1, 56),
        (1573716999000000000, 0, 3),
    ]
    snapshot = load_messages(DATA / "public.jsonl")[7]
    assert snapshot["type"] == "snapshot"
    assert "trades" in snapshot
    store.onmessage(snapshot)  # after a reconnect
    assert len(store.trade.find({"symbol": "BTCUSD"})) == 4
    assert store.trade.find({"symbol": "BTCUSDT"}) == [
        {
            "symbol": "BTCUSDT",
            "timestamp": 1573716999100000000,
            "side": "Buy",
            "priceEp": "65000.1",
            "qty": "0.01",
            "n": 0,
        }
    ]


def test_klines_tickers_and_24h_statistics() -> None:
    store = fed("public.jsonl")
    kline = store.kline.get({"symbol": "BTCUSD", "timestamp": 1590019200, "interval": 86400})
    assert kline is not None
    assert kline["closeEp"] == 95165000
    assert kline["turnoverEv"] == 399302
    kline_p = store.kline.get({"symbol": "BTCUSDT", "timestamp": 1590019200, "interval": 60})
    assert kline_p is not None
    assert kline_p["closeRp"] == "65005"
    assert kline_p["volumeRq"] == "12.5"
    assert store.ticker.get({"symbol": ".BTC"}) == {
        "last": 93385,
        "scale": 4,
        "symbol": ".BTC",
        "timestamp": 1590046066000000000,
    }
    tick_p = store.ticker.get({"symbol": ".BTCUSDT"})
    assert tick_p is not None
    assert tick_p["last"] == "65000.5"
    market = store.market24h.get({"symbol": "BTCUSD"})
    assert market is not None
    assert market["close"] == 87425000
    packed: Any = store.market24h.get({"symbol": "BTCUSDT"})
    assert packed["lastRp"] == "65000"
    assert packed["turnoverRv"] == "802345678.9"


def test_replies_are_not_stored_and_unknown_channels_are_counted() -> None:
    stats = fed("public.jsonl").statistics()
    assert stats.handler_errors == 0
    assert stats.dropped == {}
    assert stats.unhandled == {"error 6001": 1, "brand_new_channel": 1}


def test_aop_snapshot_replaces_and_order_statuses() -> None:
    store = fed("private.jsonl")
    orders = {o["orderID"]: o for o in store.orders}
    # the stale order was canceled; the replaced one lives on with its new price;
    # Untriggered is kept; the USDⓈ-M order filled; the spot s1 closed, s2 open
    assert sorted(orders) == ["ab90a08c-b728-4b6b-97c4-36fa497335bf", "c3", "s2"]
    assert orders["ab90a08c-b728-4b6b-97c4-36fa497335bf"]["priceEp"] == 87650000
    assert orders["ab90a08c-b728-4b6b-97c4-36fa497335bf"]["side"] == "Buy"  # merged
    account = store.accounts.get({"accountID": 675340001, "currency": "BTC"})
    assert account is not None
    assert account["accountBalanceEv"] == 100000024
    usdt = store.accounts.get({"accountID": 675340003, "currency": "USDT"})
    assert usdt is not None
    assert usdt["accountBalanceRv"] == "1000.5"
    # COIN-M position: found without posSide, as in pybotters
    assert store.positions.get({"accountID": 675340001, "symbol": "BTCUSD"}) is not None
    # hedged USDⓈ-M: long and short are two positions
    hedged = store.positions.find({"accountID": 675340003, "symbol": "BTCUSDT"})
    assert {(p["posSide"], p["sizeRq"]) for p in hedged} == {("Long", "0.02"), ("Short", "0.02")}
    wallet = store.wallets.get({"userID": 67534, "currency": "BTC"})
    assert wallet is not None
    assert wallet["balanceEv"] == 1000100000
    assert wallet["lockedTradingBalanceEv"] == 0  # merged into the snapshot's row
    assert len(store.wallets) == 2
    assert store.statistics().dropped == {}


def test_an_aop_snapshot_forgets_orders_of_its_accounts_that_it_does_not_list() -> None:
    store = fed("private.jsonl")
    store.onmessage(
        {
            "accounts": [{"accountID": 675340001, "currency": "BTC", "accountBalanceEv": 1}],
            "orders": [],
            "positions": [],
            "sequence": 90,
            "type": "snapshot",
        }
    )
    assert sorted(o["orderID"] for o in store.orders) == ["s2"]
    assert store.positions.find({"accountID": 675340001}) == []
    assert len(store.positions.find({"accountID": 675340003})) == 2


@pytest.mark.parametrize(
    ("depth", "held"),
    [(5, 10), (0, 41)],
)
def test_the_book_is_truncated_to_the_subscribed_depth(depth: int, held: int) -> None:
    store = PhemexDataStore()
    asks = [[f"{100 + i}", "1"] for i in range(20)]
    bids = [[f"{99 - i}", "1"] for i in range(20)]
    store.onmessage(
        {
            "orderbook_p": {"asks": asks, "bids": bids},
            "depth": depth,
            "sequence": 1,
            "symbol": "X",
            "type": "snapshot",
        }
    )
    # a better level enters: the worst one leaves when the book is capped
    store.onmessage(
        {
            "orderbook_p": {"asks": [["99.5", "2"]], "bids": []},
            "depth": depth,
            "sequence": 2,
            "symbol": "X",
            "type": "incremental",
        }
    )
    asks_held, bids_held = store.orderbook.levels("X")
    assert len(asks_held) + len(bids_held) == held
    assert asks_held[0] == ["99.5", "2"]
    store.orderbook._check()


async def test_initialize_fills_klines_from_the_rest_endpoints() -> None:
    from _contract import ContractResponse

    store = PhemexDataStore()
    coin_m = {"code": 0, "msg": "OK", "data": {"total": -1, "rows": [[1590019200, 60] + [1] * 7]}}
    usdsm = {"code": 0, "msg": "OK", "data": {"rows": [[1590019260, 60] + ["2"] * 7]}}
    await store.initialize(
        ContractResponse.get(
            "https://api.phemex.com/exchange/public/md/v2/kline?symbol=BTCUSD&resolution=60", coin_m
        ),  # type: ignore[arg-type]
        ContractResponse.get(
            "https://api.phemex.com/exchange/public/md/v2/kline/last?symbol=BTCUSDT&resolution=60",
            usdsm,
        ),  # type: ignore[arg-type]
    )
    coin = store.kline.get({"symbol": "BTCUSD", "timestamp": 1590019200, "interval": 60})
    assert coin is not None
    assert coin["closeEp"] == 1
    usdt = store.kline.get({"symbol": "BTCUSDT", "timestamp": 1590019260, "interval": 60})
    assert usdt is not None
    assert usdt["closeRp"] == "2"
    with pytest.raises(ValueError, match="symbol"):
        await store.initialize(
            ContractResponse.get("https://api.phemex.com/exchange/public/md/kline", coin_m)  # type: ignore[arg-type]
        )
