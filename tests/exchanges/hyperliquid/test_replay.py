"""Replay of documented Hyperliquid message shapes through HyperliquidDataStore."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from _contract import ContractWS, load_messages

from datastores.exchanges.hyperliquid.store import HyperliquidDataStore

DATA = Path(__file__).parent / "data"
USER = "0x1111111111111111111111111111111111111111"
WS = "wss://api.hyperliquid.xyz/ws"


def replay(store: HyperliquidDataStore, name: str, ws: Any = None) -> None:
    ws = ws or ContractWS(WS)
    for message in load_messages(DATA / name):
        store.onmessage(copy.deepcopy(message), ws)


def test_public_stores() -> None:
    store = HyperliquidDataStore()
    replay(store, "public.jsonl")
    assert store.all_mids.get({"coin": "BTC"}) == {"coin": "BTC", "px": "30000.5"}
    assert len(store.all_mids) == 3
    # the second BTC frame replaced the first: 30002 is gone, 30003 came
    assert store.l2_book.sorted({"coin": "BTC"}) == {
        "A": [
            {"coin": "BTC", "side": "A", "px": "30001.0", "sz": "0.8", "n": 2},
            {"coin": "BTC", "side": "A", "px": "30003.0", "sz": "1.0", "n": 1},
        ],
        "B": [
            {"coin": "BTC", "side": "B", "px": "30000.0", "sz": "1.1", "n": 2},
            {"coin": "BTC", "side": "B", "px": "29999.0", "sz": "0.2", "n": 1},
        ],
    }
    status = store.l2_book.status("BTC")
    assert status.synced
    assert status.last_update_id == 1700000000600
    assert status.verifiable is False
    assert "no sequence" in status.rule
    assert store.l2_book.time == 1700000000650
    store.l2_book._check()
    # the trade resent (tid 102) is kept once
    assert [t["tid"] for t in store.trades.find()] == [101, 102]
    bbo = store.bbo.get({"coin": "BTC"})
    assert bbo is not None
    assert bbo["time"] == 1700000000702
    candles = store.candle.find()
    assert len(candles) == 1
    assert candles[0]["c"] == "30000.5"
    ctx = store.active_asset_ctx.get({"coin": "BTC"})
    assert ctx is not None
    assert ctx["markPx"] == "30000.4"
    assert store.notification.find() == [{"notification": "Order filled"}]
    assert store.statistics().dropped == {}
    assert store.unhandled == {}


def test_user_stores() -> None:
    store = HyperliquidDataStore()
    replay(store, "user.jsonl")
    orders = {(o["coin"], o["oid"]): o["status"] for o in store.order_updates.find()}
    # filled and canceled left; triggered stays (a triggered TP/SL may rest)
    assert orders == {("BTC", 201): "open", ("BTC", 204): "triggered"}
    assert [(f["tid"], f["user"]) for f in store.user_fills.find()] == [
        (90, USER),
        (91, USER),
        (101, USER),
    ]
    assert [e["type"] for e in store.user_events.find()] == ["fills", "funding"]
    assert store.user_events.find()[1]["usdc"] == "-0.12"
    assert len(store.user_fundings) == 1
    assert store.user_fundings.find()[0]["user"] == USER
    assert store.user_non_funding_ledger_updates.find()[0]["delta"]["type"] == "deposit"
    assert store.active_asset_data.get({"user": USER, "coin": "BTC"}) is not None
    position = store.positions.get({"coin": "BTC"})
    assert position is not None
    assert position["szi"] == "0.3"
    assert position["type"] == "oneWay"
    state = store.clearinghouse_state.find()
    assert len(state) == 1
    assert state[0]["withdrawable"] == "550.0"
    assert state[0]["user"] == USER
    assert store.user_twap_slice_fills.find()[0]["twapId"] == 7
    assert store.user_twap_history.find()[0]["status"] == {"status": "activated"}


def test_snapshots_after_a_reconnect_do_not_duplicate() -> None:
    store = HyperliquidDataStore()
    ws = ContractWS(WS)
    replay(store, "user.jsonl", ws)
    store.on_reconnect(ws)
    replay(store, "user_reconnect.jsonl", ws)
    # 90, 91, 101 once each; 105 (filled while disconnected) added
    assert sorted(f["tid"] for f in store.user_fills.find()) == [90, 91, 101, 105]
    assert len(store.user_fundings) == 1
    assert len(store.user_non_funding_ledger_updates) == 1


def test_snapshot_replaces_only_its_user() -> None:
    store = HyperliquidDataStore()
    other = "0x9999999999999999999999999999999999999999"
    fill = {"coin": "BTC", "px": "1", "sz": "1", "side": "B", "time": 1, "hash": "0x", "oid": 1}
    for user, tid in ((USER, 1), (other, 2)):
        store.onmessage(
            {
                "channel": "userFundings",
                "data": {"isSnapshot": True, "user": user, "fundings": [{**fill, "tid": tid}]},
            }
        )
    store.onmessage(
        {"channel": "userFundings", "data": {"isSnapshot": True, "user": USER, "fundings": []}}
    )
    assert [f["user"] for f in store.user_fundings.find()] == [other]


def test_open_orders_push_replaces_orders() -> None:
    store = HyperliquidDataStore()
    replay(store, "user.jsonl")
    order = {
        "coin": "SOL", "side": "B", "limitPx": "20.0", "sz": "1.0", "oid": 301,
        "timestamp": 1700000002000, "origSz": "1.0",
    }  # fmt: skip
    store.onmessage({"channel": "openOrders", "data": {"dex": "", "user": USER, "orders": [order]}})
    assert [(o["oid"], o["status"]) for o in store.order_updates.find()] == [(301, "open")]


def test_unknown_status_ends_the_order() -> None:
    store = HyperliquidDataStore()
    replay(store, "user.jsonl")
    store.onmessage(
        {
            "channel": "orderUpdates",
            "data": [
                {
                    "order": {"coin": "BTC", "side": "B", "limitPx": "29000.0", "sz": "0.5",
                              "oid": 201, "timestamp": 1, "origSz": "0.5"},
                    "status": "someFutureCanceledStatus",
                    "statusTimestamp": 2,
                }
            ],
        }
    )  # fmt: skip
    assert store.order_updates.get({"coin": "BTC", "oid": 201}) is None
    assert store.handler_errors == 0


def test_stale_frame_is_dropped_and_counted() -> None:
    store = HyperliquidDataStore()
    replay(store, "public.jsonl")
    old = {"coin": "BTC", "time": 1, "levels": [[{"px": "1.0", "sz": "1", "n": 1}], []]}
    store.onmessage({"channel": "l2Book", "data": old})
    status = store.l2_book.status("BTC")
    assert status.stale == 1
    assert status.synced
    assert status.bids == 2


def test_reconnect_unsyncs_until_the_next_frame() -> None:
    store = HyperliquidDataStore()
    ws = ContractWS(WS)
    replay(store, "public.jsonl", ws)
    store.on_reconnect(ws)
    assert not store.l2_book.is_synced("BTC")
    frame = {"coin": "BTC", "time": 1700000005000, "levels": [[], [{"px": "2", "sz": "1", "n": 1}]]}
    store.onmessage({"channel": "l2Book", "data": frame}, ws)
    assert store.l2_book.is_synced("BTC")
    assert store.l2_book.levels("BTC") == ([["2", "1", 1]], [])


def test_unknown_and_error_channels_are_counted() -> None:
    store = HyperliquidDataStore()
    store.onmessage({"channel": "webData3", "data": {}})
    store.onmessage({"channel": "error", "data": "Already subscribed: {...}"})
    store.onmessage({"channel": "subscriptionResponse", "data": {}})
    assert store.unhandled == {"webData3": 1, "error": 1}
    assert store.handler_errors == 0
