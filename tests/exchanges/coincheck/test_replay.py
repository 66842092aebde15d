"""Coincheck stores fed the documented message shapes (``data/``): trades, both book
channels with their REST snapshots, private order and execution events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _contract import ContractResponse, load_messages

from datastores import CoincheckDataStore, CoincheckPrivateDataStore, ExchangeAPIError

DATA = Path(__file__).parent / "data"
BOOKS = "https://coincheck.com/api/order_books"
OPENS = "https://coincheck.com/api/exchange/orders/opens"


def public(name: str) -> list[Any]:
    return load_messages(DATA / name)


def snapshot(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def book_of(store: CoincheckDataStore, pair: str) -> tuple[dict[str, str], dict[str, str]]:
    asks, bids = store.orderbook.levels(pair)
    return {a[0]: a[1] for a in asks}, {b[0]: b[1] for b in bids}


def new_store() -> tuple[CoincheckDataStore, list[str]]:
    store = CoincheckDataStore()
    asked: list[str] = []
    store.orderbook.resync_hook = asked.append
    return store, asked


def test_trades_are_named_by_position() -> None:
    store, _ = new_store()
    for message in public("public.jsonl"):
        store.onmessage(message)
    trades = store.trades.find()
    assert [t["id"] for t in trades] == ["2357062", "2357068", "2357070"]
    assert trades[0] == {
        "timestamp": "1663318663", "id": "2357062", "pair": "btc_jpy", "rate": "2820896.0",
        "amount": "5.0", "side": "sell", "taker_id": "1193401", "maker_id": "2078767",
        "itayose_id": None,
    }  # fmt: skip
    assert "itayose_id" not in trades[2]
    assert store.statistics().dropped == {}


async def test_legacy_book_is_seeded_from_rest_and_cannot_be_verified() -> None:
    store, asked = new_store()
    messages = [m for m in public("public.jsonl") if m[0] == "btc_jpy"]
    store.onmessage(messages[0])
    # Before the seed a diff cannot be placed: dropped, counted, a seed asked for.
    assert asked == ["btc_jpy"]
    status = store.orderbook.status("btc_jpy")
    assert (status.synced, status.stale, status.verifiable) == (False, 1, False)
    assert store.orderbook.mode("btc_jpy") == "legacy"
    await store.initialize(
        ContractResponse.get(f"{BOOKS}?pair=btc_jpy", snapshot("order_books.json"))
    )
    assert store.orderbook.initialized["btc_jpy"]
    store.onmessage(messages[1])
    asks, bids = book_of(store, "btc_jpy")
    assert asks == {"2821000.0": "0.2", "2823000.0": "0.1", "2824000.0": "1.0"}
    assert bids == {"2820000.0": "0.3", "2819000.0": "0.1", "2818000.0": "1.2", "2817000.0": "2.0"}
    status = store.orderbook.status("btc_jpy")
    assert status.synced
    assert not status.verifiable
    assert store.orderbook.last_update_at_of("btc_jpy") == "1663318665"
    assert store.orderbook.sorted({"pair": "btc_jpy"}, limit=1) == {
        "asks": [{"pair": "btc_jpy", "side": "asks", "rate": "2821000.0", "amount": "0.2"}],
        "bids": [{"pair": "btc_jpy", "side": "bids", "rate": "2820000.0", "amount": "0.3"}],
    }
    store.orderbook._check()


async def test_sequenced_book_buffers_until_the_snapshot_then_follows_the_sequence() -> None:
    store, asked = new_store()
    messages = [m for m in public("public.jsonl") if m[0] == "eth_jpy"]
    for message in messages:
        store.onmessage(message)
    assert asked == ["eth_jpy"]
    assert store.orderbook.status("eth_jpy").buffered == 3
    # The snapshot (101) covers the first diff; 102 and 103 are replayed on top.
    url = f"{BOOKS}?pair=eth_jpy&version=1.0"
    await store.initialize(ContractResponse.get(url, snapshot("order_books_v1.json")))
    status = store.orderbook.status("eth_jpy")
    assert (status.synced, status.verifiable, status.last_update_id) == (True, True, 103)
    assert status.stale == 1
    asks, bids = book_of(store, "eth_jpy")
    assert asks == {"190001.0": "1.2", "190010.0": "3.0"}
    assert bids == {"189990.0": "1.0", "189991.0": "0.3", "189980.0": "0.4"}
    # A repeated diff is stale; a skipped number is a gap and asks for a snapshot.
    store.onmessage(messages[-1])
    assert store.orderbook.status("eth_jpy").stale == 2
    diff = ["eth_jpy", {"sequence_number": 105, "upper": [], "lower": []}]
    store.onmessage(diff)
    status = store.orderbook.status("eth_jpy")
    assert (status.synced, status.gaps) == (False, 1)
    assert asked == ["eth_jpy", "eth_jpy"]
    store.orderbook._check()


async def test_a_snapshot_older_than_the_buffer_is_fetched_again_not_a_gap() -> None:
    store, asked = new_store()
    store.onmessage(["eth_jpy", {"sequence_number": 110, "upper": [], "lower": []}])
    url = f"{BOOKS}?pair=eth_jpy&version=1.0"
    await store.initialize(ContractResponse.get(url, snapshot("order_books_v1.json")))
    status = store.orderbook.status("eth_jpy")
    assert (status.synced, status.gaps, status.buffered) == (False, 0, 1)
    assert len(asked) == 2


async def test_initialize_pair_defaults_and_errors() -> None:
    store, _ = new_store()
    await store.initialize(ContractResponse.get(BOOKS, snapshot("order_books.json")))
    assert store.orderbook.is_synced("btc_jpy")
    data = {**snapshot("order_books_v1.json"), "pair": "eth_jpy"}
    # A sequenced answer is recognised by its number even without version=1.0.
    await store.initialize(ContractResponse.get(BOOKS, data))
    assert store.orderbook.mode("eth_jpy") == "sequenced"
    with pytest.raises(ExchangeAPIError, match="invalid pair"):
        await store.initialize(
            ContractResponse.get(f"{BOOKS}?pair=x", {"success": False, "error": "invalid pair"})
        )
    with pytest.raises(ValueError, match="not an order-book snapshot"):
        await store.initialize(ContractResponse.get(f"{BOOKS}?pair=btc_jpy", {"asks": 1}))


def test_malformed_sequenced_diff_is_counted_and_unsyncs() -> None:
    store, asked = new_store()
    store.onmessage(["eth_jpy", {"sequence_number": "x", "upper": []}])
    store.onmessage(["eth_jpy", {"sequence_number": 5, "upper": [{"rate": None}]}])
    store.onmessage(["eth_jpy", {"sequence_number": 6, "upper": "rows"}])
    store.onmessage(["eth_jpy"])
    store.onmessage(["eth_jpy", {"nothing": 1}])
    store.onmessage({"type": "unknown"})
    store.onmessage(5)
    stats = store.statistics()
    assert stats.handler_errors == 0
    assert stats.dropped["unreadable limit-range-orderbook diff"] == 3
    assert sum(stats.dropped.values()) == 6
    assert sum(stats.unhandled.values()) == 1
    assert store.orderbook.status("eth_jpy").errors == 3
    assert asked == ["eth_jpy"]


def test_a_pair_on_the_sequenced_channel_ignores_legacy_diffs() -> None:
    store, _ = new_store()
    store.onmessage(["eth_jpy", {"sequence_number": 1, "upper": [], "lower": []}])
    store.onmessage(["eth_jpy", {"asks": [["1.0", "1"]], "bids": []}])
    assert store.statistics().dropped == {"legacy order-book diff for a sequenced pair": 1}
    assert store.orderbook.mode("eth_jpy") == "sequenced"


# ------------------------------------------------------------------- private


def test_private_events_update_orders_fed_from_responses() -> None:
    store = CoincheckPrivateDataStore()
    store.order.feed_response(
        {"success": True, "id": 1001, "rate": "4000000.0", "amount": "0.5",
         "order_type": "buy", "pair": "btc_jpy", "market_buy_amount": None}
    )  # fmt: skip
    store.order.feed_response(
        {"success": True, "id": 1002, "rate": None, "amount": None, "order_type": "market_buy",
         "pair": "btc_jpy", "market_buy_amount": "10000.0"}
    )  # fmt: skip
    store.order.feed_response({"success": False, "error": "invalid"})
    messages = load_messages(DATA / "private.jsonl")
    for message in messages[:4]:
        store.onmessage(message)
    first = store.order.get({"id": 1001, "pair": "btc_jpy"})
    assert first is not None
    assert first["pending_amount"] == "0.3"
    second = store.order.get({"id": 1002, "pair": "btc_jpy"})
    assert second is not None
    assert second["pending_market_buy_amount"] == "6000.0"
    for message in messages[4:]:
        store.onmessage(message)
    assert store.order.get({"id": 1001, "pair": "btc_jpy"}) is None
    assert [e["id"] for e in store.execution.find()] == [5001, 5002]
    assert store["order-events"] is store.order
    assert store["execution-events"] is store.execution
    assert store.statistics().dropped == {}


def test_an_event_for_an_order_placed_elsewhere_is_kept() -> None:
    store = CoincheckPrivateDataStore()
    store.onmessage(load_messages(DATA / "private.jsonl")[1])
    order = store.order.get({"id": 1001, "pair": "btc_jpy"})
    assert order is not None
    assert "pending_amount" not in order
    store.onmessage({"channel": "order-events", "id": 7, "pair": "btc_jpy", "order_event": "NEW?"})
    store.onmessage({"channel": "order-events", "pair": "btc_jpy"})
    store.onmessage({"channel": "execution-events", "id": 1})
    store.onmessage({"channel": "balance-events"})
    store.onmessage({"success": False, "error": "bad signature"})
    store.onmessage(["not", "an", "object"])
    stats = store.statistics()
    assert stats.unhandled == {"order_event NEW?": 1, "balance-events": 1}
    assert sum(stats.dropped.values()) == 4


async def test_private_initialize_loads_open_orders() -> None:
    store = CoincheckPrivateDataStore()
    store.order.feed_response({"success": True, "id": 1, "pair": "btc_jpy", "amount": "1"})
    orders = [
        {"id": 202835, "order_type": "buy", "rate": 26890, "pair": "btc_jpy",
         "pending_amount": "0.5527", "pending_market_buy_amount": None,
         "stop_loss_rate": None, "created_at": "2015-01-10T05:55:38.000Z"},
    ]  # fmt: skip
    await store.initialize(ContractResponse.get(OPENS, {"success": True, "orders": orders}))
    assert store.order.find() == orders
    with pytest.raises(ExchangeAPIError):
        await store.initialize(ContractResponse.get(OPENS, {"success": False, "error": "x"}))
    with pytest.raises(ValueError, match="unknown"):
        await store.initialize(ContractResponse.get("https://coincheck.com/api/unknown", {}))
