"""bitbank replays from documented message shapes: the depth recipe (whole replaces,
newer diffs replayed, stale diffs dropped, diffs before the first whole kept), raw
``42[...]`` text, tickers, trades, circuit-break info, and the private stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _contract import ContractResponse, load_messages

from datastores import ExchangeAPIError, bitbankDataStore, bitbankPrivateDataStore

DATA = Path(__file__).parent / "data"


def room(name: str, data: object) -> list[object]:
    return ["message", {"room_name": name, "message": {"data": data}}]


def whole(seq: int, asks: list[list[str]], bids: list[list[str]], pair: str = "btc_jpy") -> Any:
    data = {"asks": asks, "bids": bids, "timestamp": seq, "sequenceId": str(seq)}
    return room(f"depth_whole_{pair}", data)


def diff(seq: int, a: list[list[str]], b: list[list[str]], pair: str = "btc_jpy") -> Any:
    return room(f"depth_diff_{pair}", {"a": a, "b": b, "t": seq, "s": str(seq)})


def book(store: bitbankDataStore, pair: str = "btc_jpy") -> tuple[list[Any], list[Any]]:
    asks, bids = store.depth.levels(pair)
    return [list(level) for level in asks], [list(level) for level in bids]


def test_public_replay_keeps_the_documented_recipe() -> None:
    store = bitbankDataStore()
    for message in load_messages(DATA / "public.jsonl"):
        store.onmessage(message, None)
        store.depth._check()
    # 998 was older than the first whole and dropped; 1004 (kept before the whole)
    # replayed; 1006 arrived after 1009 and was dropped as stale; the second whole
    # (1009) replaced the book and replayed 1013; 1020 applied.
    assert book(store) == (
        [["6000200", "0.3"], ["6000250", "1.0"], ["6000300", "0.5"]],
        [["6000050", "0.4"], ["5999900", "0.7"]],
    )
    status = store.depth.status("btc_jpy")
    assert status.synced
    assert not status.verifiable
    assert status.last_update_id == 1020
    assert status.stale == 1
    assert store.depth.sorted({"pair": "btc_jpy"}, limit=1)["bids"] == [
        {"pair": "btc_jpy", "side": "bids", "price": "6000050", "amount": "0.4"}
    ]
    assert store.depth.timestamp == 1700000000200
    assert book(store, "eth_jpy") == ([["300010", "1.5"]], [["300000", "2.5"]])
    assert store.ticker.get({"pair": "btc_jpy"})["last"] == "6000200"  # type: ignore[index]
    assert [t["transaction_id"] for t in store.transactions.find({"pair": "btc_jpy"})] == [
        1001,
        1002,
    ]
    info = store.circuit_break_info.get({"pair": "btc_jpy"})
    assert info is not None
    assert info["mode"] == "NONE"
    assert store.statistics().dropped == {}
    assert store.statistics().unhandled == {}


def test_raw_socket_io_text_gives_the_same_stores() -> None:
    events, raw = bitbankDataStore(), bitbankDataStore()
    for message in load_messages(DATA / "public.jsonl"):
        events.onmessage(message, None)
        raw.onmessage("42" + json.dumps(message), None)
    for control in ('0{"sid":"x","pingInterval":25000}', "40", "2", "3"):
        raw.onmessage(control, None)
    assert book(raw) == book(events)
    assert raw.ticker.find() == events.ticker.find()
    assert raw.statistics().dropped == {}


def test_a_delayed_whole_keeps_the_newer_diffs_applied_before_it() -> None:
    store = bitbankDataStore()
    store.onmessage(whole(100, [["10", "1"]], [["9", "1"]]), None)
    store.onmessage(diff(105, [["11", "2"]], []), None)
    store.onmessage(diff(110, [], [["9", "0"], ["8", "3"]]), None)
    # the next whole was taken at 105 and arrives after 110: 110 is replayed on it
    store.onmessage(whole(105, [["10", "1"], ["11", "2"]], [["9", "1"]]), None)
    assert book(store) == ([["10", "1"], ["11", "2"]], [["8", "3"]])
    assert store.depth.status("btc_jpy").last_update_id == 110
    # a whole older than the last one applied is dropped
    store.onmessage(whole(101, [["50", "1"]], []), None)
    assert book(store) == ([["10", "1"], ["11", "2"]], [["8", "3"]])


def test_diffs_before_the_first_whole_wait_for_it() -> None:
    store = bitbankDataStore()
    store.onmessage(diff(7, [["12", "1"]], []), None)
    store.onmessage(diff(9, [["13", "1"]], []), None)
    assert not store.depth.is_synced("btc_jpy")
    assert len(store.depth) == 0
    assert store.depth.kept("btc_jpy") == 2
    store.onmessage(whole(8, [["10", "1"]], [["9", "1"]]), None)
    assert book(store) == ([["10", "1"], ["13", "1"]], [["9", "1"]])  # 7 <= 8: covered
    assert store.depth.is_synced("btc_jpy")
    assert store.depth.kept("btc_jpy") == 1


def test_a_lost_diff_is_unsynced_until_a_whole_covers_it() -> None:
    store = bitbankDataStore()
    store.onmessage(whole(10, [["10", "1"]], [["9", "1"]]), None)
    store.onmessage(diff(20, [["10", "x"]], []), None)  # unusable levels
    assert not store.depth.is_synced("btc_jpy")
    assert sum(store.statistics().dropped.values()) == 1
    store.onmessage(diff(25, [["11", "1"]], []), None)
    store.onmessage(whole(15, [["10", "2"]], [["9", "1"]]), None)  # older than the loss
    assert not store.depth.is_synced("btc_jpy")
    assert book(store) == ([["10", "2"], ["11", "1"]], [["9", "1"]])
    store.onmessage(whole(22, [["10", "3"]], [["9", "1"]]), None)
    assert store.depth.is_synced("btc_jpy")
    assert book(store) == ([["10", "3"], ["11", "1"]], [["9", "1"]])
    # a diff without a readable s: bounded by the next diff's s
    store.onmessage(room("depth_diff_btc_jpy", {"a": [], "b": [], "s": None}), None)
    store.onmessage(diff(30, [], [["8", "1"]]), None)
    store.onmessage(whole(28, [["10", "3"]], [["9", "1"]]), None)
    assert not store.depth.is_synced("btc_jpy")
    store.onmessage(whole(30, [["10", "3"]], [["9", "1"], ["8", "1"]]), None)
    assert store.depth.is_synced("btc_jpy")
    store.depth._check()


def test_reconnect_unsyncs_and_waits_for_the_new_connections_whole() -> None:
    store = bitbankDataStore()
    old, new = object(), object()
    store.onmessage(whole(10, [["10", "1"]], [["9", "1"]]), old)
    store.onmessage(whole(11, [["300", "1"]], [], pair="eth_jpy"), old)
    store.on_reconnect(old)
    assert not store.depth.is_synced("btc_jpy")
    assert not store.depth.is_synced("eth_jpy")
    store.onmessage(diff(40, [["12", "1"]], []), new)
    assert not store.depth.is_synced("btc_jpy")
    store.onmessage(whole(35, [["10", "1"]], [["9", "2"]]), new)
    assert store.depth.is_synced("btc_jpy")
    assert book(store) == ([["10", "1"], ["12", "1"]], [["9", "2"]])
    store.on_reconnect(new)
    assert not store.depth.is_synced("btc_jpy")


def test_unknown_rooms_and_events_are_counted() -> None:
    store = bitbankDataStore()
    store.onmessage(room("lending_btc_jpy", {}), None)
    store.onmessage(["welcome", {}], None)
    store.onmessage('42["message", oops', None)
    stats = store.statistics()
    assert stats.unhandled == {"lending_btc_jpy": 1, "event welcome": 1}
    assert sum(stats.dropped.values()) == 1


def test_private_replay() -> None:
    store = bitbankPrivateDataStore()
    for message in load_messages(DATA / "private.jsonl"):
        store.onmessage(message, None)
    asset = store.asset.get({"asset": "jpy"})
    assert asset is not None
    assert asset["free_amount"] == "900000.0000"
    # 11 filled (a late PARTIALLY_FILLED did not bring it back), 12 invalidated
    assert store.spot_order.find() == []
    assert [t["trade_id"] for t in store.spot_trade.find()] == [501]
    position = store.margin_position.get({"pair": "btc_jpy", "position_side": "long"})
    assert position is not None
    assert position["open"] == "0.01"
    assert store.margin_payable.find() == [{"amount": "0"}]
    assert store.margin_notice.find()[0]["type"] == "MARGIN_CALL"
    assert store.dealer_order.get({"order_id": 7}) is not None
    assert store.withdrawal.get({"uuid": "w-1"}) is not None
    assert store.deposit.get({"uuid": "d-1"}) is not None
    assert store.statistics().dropped == {}
    assert store.statistics().unhandled == {}


def test_private_orders_keep_the_most_advanced_status() -> None:
    store = bitbankPrivateDataStore()
    messages = load_messages(DATA / "private.jsonl")
    for message in messages[:6]:  # ...PARTIALLY_FILLED, then a late UNFILLED
        store.onmessage(message, None)
    order = store.spot_order.get({"order_id": 11})
    assert order is not None
    assert order["status"] == "PARTIALLY_FILLED"
    stop = store.spot_order.get({"order_id": 12})
    assert stop is not None
    assert stop["status"] == "INACTIVE"
    # the whole PubNub message works too (its "d" is the payload)
    store.onmessage({"a": "1", "f": 0, "c": "ch", "d": messages[13]}, None)
    assert store.spot_order.get({"order_id": 11}) is None


async def test_private_initialize_replaces_and_rejects_errors() -> None:
    store = bitbankPrivateDataStore()
    store.onmessage(json.loads((DATA / "private.jsonl").read_text().splitlines()[1]), None)
    order = {"order_id": 21, "pair": "btc_jpy", "status": "UNFILLED", "remaining_amount": "1"}
    await store.initialize(
        ContractResponse.get(  # type: ignore[arg-type]
            "https://api.bitbank.cc/v1/user/spot/active_orders",
            {"success": 1, "data": {"orders": [order]}},
        ),
        ContractResponse.get(  # type: ignore[arg-type]
            "https://api.bitbank.cc/v1/user/assets",
            {"success": 1, "data": {"assets": [{"asset": "btc", "free_amount": "1"}]}},
        ),
        ContractResponse.get(  # type: ignore[arg-type]
            "https://api.bitbank.cc/v1/user/margin/positions",
            {"success": 1, "data": {"positions": [{"pair": "btc_jpy", "position_side": "long"}]}},
        ),
    )
    assert [o["order_id"] for o in store.spot_order.find()] == [21]
    assert [a["asset"] for a in store.asset.find()] == ["btc"]
    assert len(store.margin_position) == 1
    with pytest.raises(ExchangeAPIError) as raised:
        await store.initialize(
            ContractResponse.get(  # type: ignore[arg-type]
                "https://api.bitbank.cc/v1/user/assets", {"success": 0, "data": {"code": 20001}}
            )
        )
    assert raised.value.code == 20001
