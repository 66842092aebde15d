"""KuCoin messages in their documented shapes (``data/``) through KuCoinDataStore:
the book rules (per-row sequence filter, price-0 rows, stale snapshots, futures +1,
UTA snapshot and deltas), the other stores, bullets and the counters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _contract import ContractResponse, load_messages

from datastores import KuCoinDataStore
from datastores.exchanges.kucoin._bullet import parse_bullet

DATA = Path(__file__).parent / "data"
SPOT_SNAPSHOT = "https://api.kucoin.com/api/v3/market/orderbook/level2?symbol=BTC-USDT"
FUTURES_SNAPSHOT = "https://api-futures.kucoin.com/api/v1/level2/snapshot?symbol=XBTUSDTM"


def feed(store: KuCoinDataStore, name: str) -> None:
    for msg in load_messages(DATA / name):
        store.onmessage(msg)


def snapshot(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def sides(store: KuCoinDataStore, symbol: str) -> tuple[dict[Any, Any], dict[Any, Any]]:
    asks, bids = store.orderbook.levels(symbol)
    return {lv[0]: lv[1] for lv in asks}, {lv[0]: lv[1] for lv in bids}


def spot_update(start: int, end: int, asks: list[Any], bids: list[Any]) -> dict[str, Any]:
    data = {"changes": {"asks": asks, "bids": bids}, "sequenceStart": start}
    data |= {"sequenceEnd": end, "symbol": "BTC-USDT", "time": 1}
    return {"type": "message", "topic": "/market/level2:BTC-USDT", "data": data}


def futures_change(sequence: int, change: str) -> dict[str, Any]:
    data = {"sequence": sequence, "change": change, "timestamp": 1}
    return {"type": "message", "topic": "/contractMarket/level2:XBTUSDTM", "data": data}


async def test_spot_book_bridges_the_snapshot_with_the_per_row_filter() -> None:
    store = KuCoinDataStore()
    store.orderbook.resync_hook = lambda symbol: None
    # An update the snapshot (sequence 1000) half covers: rows 999..1001.
    store.onmessage(spot_update(999, 1001, [["30000.5", "9", "999"], ["30002.0", "1", "1001"]], []))
    feed(store, "spot_public.jsonl")
    assert not store.orderbook.is_synced("BTC-USDT")
    assert store.orderbook.status("BTC-USDT").buffered == 3
    await store.initialize(ContractResponse.get(SPOT_SNAPSHOT, snapshot("spot_snapshot.json")))
    status = store.orderbook.status("BTC-USDT")
    assert status.synced
    assert status.last_update_id == 1004
    asks, bids = sides(store, "BTC-USDT")
    # Row 999 was older than the snapshot: its size 9 is not applied; 30000.5 was then
    # deleted at 1003; the price-0 row at 1004 only advanced the sequence.
    assert asks == {"30001.0": "2.0", "30002.0": "1"}
    assert bids == {"30000.1": "0.3", "30000.0": "1.2", "29999.5": "0.4"}
    assert store.orderbook.sorted({"symbol": "BTC-USDT"}, limit=1)["asks"] == [
        {"symbol": "BTC-USDT", "side": "asks", "price": "30001.0", "size": "2.0"}
    ]
    # Overlapping ranges are accepted (start <= last + 1), a gap is not.
    store.onmessage(spot_update(1004, 1005, [["30003.0", "1", "1005"]], []))
    assert store.orderbook.status("BTC-USDT").last_update_id == 1005
    store.onmessage(spot_update(1007, 1008, [], []))
    status = store.orderbook.status("BTC-USDT")
    assert not status.synced
    assert status.gaps == 1
    store.orderbook._check()


async def test_a_snapshot_older_than_the_stream_is_fetched_again() -> None:
    store = KuCoinDataStore()
    asked: list[str] = []
    store.orderbook.resync_hook = asked.append
    store.onmessage(spot_update(1005, 1006, [["30000.5", "1", "1006"]], []))
    await store.initialize(ContractResponse.get(SPOT_SNAPSHOT, snapshot("spot_snapshot.json")))
    status = store.orderbook.status("BTC-USDT")
    assert not status.synced
    assert status.gaps == 0
    assert status.buffered == 1
    assert "stale snapshot" in (status.last_error or "")
    assert asked == ["BTC-USDT", "BTC-USDT"]  # buffered while unsynced, then the refetch


def test_start_after_end_is_not_applied() -> None:
    store = KuCoinDataStore()
    store.orderbook._replace("BTC-USDT", [["1", "1"]], [], 100)
    store.onmessage(spot_update(101, 99, [["2", "1", "99"]], []))  # edited capture
    assert store.orderbook.status("BTC-USDT").stale == 1
    assert sides(store, "BTC-USDT")[0] == {"1": "1"}
    store.onmessage(spot_update(105, 104, [], []))
    assert store.orderbook.status("BTC-USDT").gaps == 1


async def test_futures_book_follows_sequence_plus_one() -> None:
    store = KuCoinDataStore()
    store.orderbook.resync_hook = lambda symbol: None
    store.onmessage(futures_change(499, "1,sell,1"))  # before the snapshot: stale then
    feed(store, "futures_public.jsonl")
    data = snapshot("futures_snapshot.json")
    await store.initialize(ContractResponse.get(FUTURES_SNAPSHOT, data))
    status = store.orderbook.status("XBTUSDTM")
    assert status.synced
    assert status.last_update_id == 502
    assert status.stale == 1
    asks, bids = sides(store, "XBTUSDTM")
    # The snapshot's numbers are written as the stream writes them.
    assert asks == {"30000.5": "12", "30001.0": "5"}
    assert bids == {"29999.5": "795"}  # 29999.0 deleted by sequence 502
    store.onmessage(futures_change(503, "29998,buy,7"))
    assert store.orderbook.status("XBTUSDTM").last_update_id == 503
    store.onmessage(futures_change(505, "29997,buy,7"))
    assert store.orderbook.status("XBTUSDTM").gaps == 1
    store.onmessage(futures_change(506, "29997,middle,7"))
    assert store.statistics().dropped == {"unreadable level2 change": 1}


def test_uta_snapshot_then_deltas() -> None:
    store = KuCoinDataStore()
    feed(store, "uta.jsonl")
    status = store.orderbook.status("BTC-USDT")
    assert status.synced
    assert status.last_update_id == 203
    assert sides(store, "BTC-USDT") == (
        {"30001.0": "2.0"},
        {"30000.2": "0.5", "30000.0": "1.0"},
    )
    # depth 5: a whole book in orderbook5
    assert store.orderbook5.sorted({"symbol": "XBTUSDTM"})["bids"][0]["price"] == "29999.5"
    base = {"T": "obu.SPOT", "dp": "increment@10ms", "t": "delta", "P": 1}
    store.onmessage(base | {"d": {"s": "BTC-USDT", "O": 205, "C": 206, "a": [], "b": []}})
    assert store.orderbook.status("BTC-USDT").gaps == 1
    # A delta while unsynced is not buffered: the resubscription's snapshot replaces all.
    store.onmessage(base | {"d": {"s": "BTC-USDT", "O": 207, "C": 207, "a": [], "b": []}})
    assert store.orderbook.status("BTC-USDT").buffered == 0
    assert sum(store.unhandled.values()) == 0


def test_public_stores() -> None:
    store = KuCoinDataStore()
    feed(store, "spot_public.jsonl")
    feed(store, "futures_public.jsonl")
    assert store.ticker.get({"symbol": "BTC-USDT"})["price"] == "30000.2"  # type: ignore[index]
    assert store.ticker.get({"symbol": "ETH-USDT"})["bestBid"] == "2000.0"  # type: ignore[index]
    assert store.ticker.get({"symbol": "XBTUSDTM"}) is not None
    assert store.symbolsnapshot.get({"symbol": "BTC-USDT"}) is not None
    # Only the closed candle is stored; the open one is latest().
    assert [k["timestamp"] for k in store.kline] == [1700000000]
    latest = store.kline.latest("BTC-USDT", "1min")
    assert latest is not None
    assert latest["close"] == "30000.4"
    assert {e["tradeId"] for e in store.execution} == {"6e2c1c7a-1", "5ce24c16b210233c36ee321d"}
    top = store.orderbook5.sorted({"symbol": "BTC-USDT"})
    assert [lv["price"] for lv in top["asks"]] == ["30000.5", "30000.6"]
    assert top["asks"][0]["timestamp"] == 1700000000500
    assert store.orderbook5.status("XBTUSDTM").last_update_id == 502
    assert len(store.orderbook50.find({"symbol": "BTC-USDT"})) == 2
    assert store.indexprice.get({"symbol": "BTC-USDT"})["value"] == 30000.3  # type: ignore[index]
    assert store.markprice.get({"symbol": "BTC-USDT"}) is not None
    assert len(store.transactionstats) == 1
    assert len(store.instrument) == 1
    assert len(store.announcements) == 1
    stats = store.statistics()
    assert stats.dropped == {}
    assert stats.unhandled == {}
    assert stats.handler_errors == 0


def test_private_stores() -> None:
    store = KuCoinDataStore()
    feed(store, "private.jsonl")
    order = store.orders.get({"orderId": "o-1"})
    assert order is not None
    assert order["remainSize"] == "0.06"
    assert order["filledSize"] == "0.04"
    assert store.orders.get({"orderId": "o-2"}) is None  # canceled
    assert store.orderevents.get({"orderId": "o-2"})["type"] == "canceled"  # type: ignore[index]
    assert store.orders.get({"orderId": "fo-1"}) is not None
    balance = store.balance.get({"accountId": "acc-usdt"})
    assert balance is not None
    assert balance["available"] == "997.1"
    position = store.positions.get({"symbol": "XBTUSDTM"})
    assert position is not None
    assert (position["side"], position["currentQty"], position["markPrice"]) == ("BUY", 3, 29020)
    assert len(store.balanceevents) == 1
    assert store.marginorders.get({"orderId": "lo-1"}) is not None
    # A closing position event removes it; an unknown order type is counted, not raised.
    close = {"symbol": "XBTUSDTM", "currentQty": 0, "isOpen": False, "changeReason": "x"}
    store.onmessage(
        {"type": "message", "topic": "/contract/position:XBTUSDTM", "subject": "position.change"}
        | {"data": close}
    )
    assert store.positions.get({"symbol": "XBTUSDTM"}) is None
    odd = {"orderId": "o-1", "type": "brand-new-type", "status": "open"}
    store.onmessage({"type": "message", "topic": "/spotMarket/tradeOrdersV2", "data": odd})
    assert store.statistics().dropped == {"order event of an unknown type": 1}
    assert store.handler_errors == 0


def test_unknown_topics_and_replies_are_counted_never_raised() -> None:
    store = KuCoinDataStore()
    store.onmessage({"type": "message", "topic": "/market/level3:BTC-USDT", "data": {}})
    store.onmessage({"T": "kline.SPOT", "P": 1, "d": {"s": "BTC-USDT"}})
    store.onmessage({"type": "error", "code": 404, "data": "topic does not exist"})
    store.onmessage({"id": "x", "result": False, "message": "refused"})
    store.onmessage({"type": "pong", "id": "p"})
    store.onmessage([1, 2])
    store.onmessage({"hello": 1})
    stats = store.statistics()
    assert stats.unhandled == {"/market/level3": 1, "kline.SPOT": 1}
    assert stats.dropped == {"message is not an object": 1, "message without a topic": 1}
    assert stats.handler_errors == 0


async def test_bullet_from_initialize_builds_the_endpoint() -> None:
    store = KuCoinDataStore()
    with pytest.raises(RuntimeError):
        _ = store.endpoint
    response = ContractResponse("POST", _url("https://api.kucoin.com/api/v1/bullet-public"), None)
    object.__setattr__(response, "data", snapshot("bullet_public.json"))
    await store.initialize(response)
    endpoint = store.endpoint
    assert endpoint.startswith("wss://ws-api-spot.kucoin.com/?token=fake-public-token-1")
    assert "acceptUserMessage=true" in endpoint
    assert "connectId=" in endpoint
    bullet = store.bullet()
    assert bullet is not None
    assert bullet.ping_interval == 18.0
    assert not bullet.futures
    assert "fake-public-token" not in repr(bullet)
    with pytest.raises(ValueError, match="not a bullet response"):
        parse_bullet({"token": "t", "instanceServers": []}, private=False, futures=False, now=0)


def _url(text: str) -> Any:
    from yarl import URL

    return URL(text)
