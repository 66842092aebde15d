"""bitFlyer's collection fed the documented message shapes (``data/``), then REST responses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _contract import ContractResponse, load_messages

from datastores import bitFlyerDataStore

DATA = Path(__file__).parent / "data"
PC = "FX_BTC_JPY"


def note(channel: str, message: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "channelMessage",
        "params": {"channel": channel, "message": message},
    }


def levels(pairs: list[tuple[float, float]]) -> list[dict[str, float]]:
    return [{"price": p, "size": s} for p, s in pairs]


def snapshot(bids: list[tuple[float, float]], asks: list[tuple[float, float]], mid: float) -> Any:
    return note(
        f"lightning_board_snapshot_{PC}",
        {"mid_price": mid, "bids": levels(bids), "asks": levels(asks)},
    )


def diff(bids: list[tuple[float, float]], asks: list[tuple[float, float]], mid: float) -> Any:
    return note(
        f"lightning_board_{PC}", {"mid_price": mid, "bids": levels(bids), "asks": levels(asks)}
    )


def replay(name: str, store: bitFlyerDataStore | None = None) -> bitFlyerDataStore:
    store = store or bitFlyerDataStore()
    for message in load_messages(DATA / name):
        store.onmessage(message)  # ws=None, as in a replay: the board still fills
        store.board._check()
    return store


def test_public_replay_builds_the_board_ticker_and_executions() -> None:
    store = replay("public.jsonl")
    board = store.board.sorted({"product_code": PC})
    assert board == {
        "asks": [
            {"product_code": PC, "side": "asks", "price": 5002000, "size": 2.0},
            {"product_code": PC, "side": "asks", "price": 5003000, "size": 0.1},
        ],
        "bids": [
            {"product_code": PC, "side": "bids", "price": 4999000, "size": 0.7},
            {"product_code": PC, "side": "bids", "price": 4998000, "size": 1.2},
        ],
    }
    # The diff sent before the snapshot (bid 4990000) was not applied.
    assert store.board.get({"product_code": PC, "side": "bids", "price": 4990000}) is None
    assert store.board.mid_price == {PC: 5000500}
    status = store.board.status(PC)
    assert status.synced
    assert (status.last_update_id, status.gaps, status.checksum_failures) == (1, 0, 0)
    assert store.board.sorted({"product_code": PC}, limit=1)["asks"][0]["price"] == 5002000
    ticker = store.ticker.get({"product_code": PC})
    assert ticker is not None
    assert ticker["ltp"] == 5001000
    assert [e["id"] for e in store.executions] == [39361]
    assert store.executions.find()[0]["product_code"] == PC
    stats = store.statistics()
    assert (stats.dropped, stats.unhandled, stats.handler_errors) == ({}, {}, 0)


def test_private_replay_follows_orders_and_positions() -> None:
    store = replay("private.jsonl")
    assert len(store.childorderevents) == 9
    # Filled (the first two), cancelled (the fourth): gone. CANCEL_FAILED kept the third.
    assert [o["child_order_acceptance_id"] for o in store.childorders] == [
        "JRF20190411-000003-000003"
    ]
    # IFD: the COMPLETE of leg 1 only triggers leg 2, the parent order stays.
    parent = store.parentorders.get({"parent_order_acceptance_id": "JRF20190411-100001-000001"})
    assert parent is not None
    assert parent["parent_order_state"] == "ACTIVE"
    assert len(store.parentorderevents) == 3
    # Bought 0.01 @ 4999000 and 0.01 @ 5000000, sold 0.015: 0.005 left @ 5000000.
    assert store.positions.find() == [
        {"product_code": PC, "side": "BUY", "price": 5000000, "size": 0.005, "commission": 0}
        | {"sfd": 0}
    ]


def test_partial_execution_keeps_size_and_tracks_outstanding() -> None:
    store = bitFlyerDataStore()
    key = {"child_order_acceptance_id": "A1"}
    event = {"product_code": PC, **key, "child_order_id": "C1", "side": "BUY"}
    store.onmessage(
        note("child_order_events", [{**event, "event_type": "ORDER", "price": 100, "size": 0.3}])
    )
    fill = {**event, "event_type": "EXECUTION", "price": 100, "size": 0.1}
    store.onmessage(
        note(
            "child_order_events",
            [fill, fill, {"bogus": True}],
        )
    )
    order = store.childorders.get(key)
    assert order is not None
    assert order["size"] == 0.3  # the order's size, not what remains
    assert order["executed_size"] == 0.2
    assert "outstanding_size" in order
    assert store.statistics().dropped == {"child order events: an event without an event_type": 1}
    store.onmessage(note("child_order_events", [{**event, "event_type": "ORDER_FAILED"}]))
    assert store.childorders.get(key) is None


def test_closing_more_than_the_position_flips_it_and_books_the_profit() -> None:
    store = bitFlyerDataStore()
    execution = {"product_code": PC, "event_type": "EXECUTION", "commission": 0, "sfd": 0}
    store.collateral._insert([{"collateral": 100000, "open_position_pnl": 0}])
    store.onmessage(
        note(
            "child_order_events",
            [
                {**execution, "child_order_acceptance_id": "B", "side": "BUY", "price": 1000}
                | {"size": 0.5},
                {**execution, "child_order_acceptance_id": "S", "side": "SELL", "price": 1101}
                | {"size": 0.75},
            ],
        )
    )
    # 0.5 closed (+50.5 JPY, rounded down for a SELL), 0.25 opens a short.
    assert [(p["side"], p["size"], p["price"]) for p in store.positions] == [("SELL", 0.25, 1101)]
    assert store.collateral.find()[0]["collateral"] == 100050
    store.onmessage(
        note(
            "child_order_events",
            [
                {**execution, "child_order_acceptance_id": "C", "side": "BUY", "price": 1100.5}
                | {"size": 0.25}
            ],
        )
    )
    assert store.positions.find() == []  # closed to zero: no lot of size 0 is left
    assert store.collateral.find()[0]["collateral"] == 100051  # +0.125, rounded up for a BUY


def test_spot_executions_move_the_balances_rest_listed() -> None:
    store = bitFlyerDataStore()
    store.balance._on_rest(
        [
            {"currency_code": "JPY", "amount": 1000000, "available": 1000000},
            {"currency_code": "BTC", "amount": 1.0, "available": 1.0},
        ]
    )
    execution = {"product_code": "BTC_JPY", "event_type": "EXECUTION", "sfd": 0}
    store.onmessage(
        note(
            "child_order_events",
            [{**execution, "side": "BUY", "price": 5000000.5, "size": 0.01, "commission": 0.0001}],
        )
    )
    assert store.balance.get({"currency_code": "BTC"}) == {
        "currency_code": "BTC",
        "amount": 1.0099,
        "available": None,
    }
    jpy = store.balance.get({"currency_code": "JPY"})
    assert jpy is not None
    assert jpy["amount"] == 1000000 - 50001
    assert store.positions.find() == []  # spot moves balances, not positions


def test_a_crossed_book_or_a_wrong_mid_price_waits_for_the_next_snapshot() -> None:
    store = bitFlyerDataStore()
    board = store.board
    store.onmessage(snapshot([(99, 1), (98, 1)], [(101, 1), (102, 1)], 100))
    store.onmessage(diff([(100, 2)], [], 100.5))
    assert board.is_synced(PC)
    # bitFlyer removed ask 101 but the diff lost the deletion: the next diff's mid
    # (102 + 100) / 2 disagrees with the local (100 + 101) / 2.
    store.onmessage(diff([(99, 3)], [], 101))
    status = board.status(PC)
    assert not status.synced
    assert status.checksum_failures == 1
    assert status.resyncs == 1
    assert "mid_price" in (status.last_error or "")
    store.onmessage(diff([(100.5, 1)], [], 101))  # still applied, still unsynced
    assert not board.is_synced(PC)
    assert board.status(PC).checksum_failures == 1  # one failure per episode
    store.onmessage(snapshot([(100.5, 1), (100, 2)], [(102, 1)], 101.25))
    assert board.is_synced(PC)
    assert board.levels(PC) == ([(102, 1)], [(100.5, 1), (100, 2)])
    # A crossed book (bid above the best ask) is a missed deletion too.
    store.onmessage(diff([(103, 1)], [], 102.5))
    status = board.status(PC)
    assert not status.synced
    assert status.gaps == 1
    assert "crossed" in (status.last_error or "")
    board._check()


def test_malformed_board_messages_are_dropped_and_counted() -> None:
    store = bitFlyerDataStore()
    store.onmessage(snapshot([(99, 1)], [(101, 1)], 100))
    store.onmessage(diff([(99, 2)], [], 100))
    store.onmessage(note(f"lightning_board_{PC}", {"mid_price": 1, "bids": [{"price": "x"}]}))
    assert not store.board.is_synced(PC)
    assert store.board.status(PC).errors == 1
    store.onmessage(note(f"lightning_board_snapshot_{PC}", {"bids": None, "asks": []}))
    store.onmessage(note("lightning_nope_BTC_JPY", {}))
    store.onmessage({"jsonrpc": "2.0", "method": "mystery"})
    store.onmessage("text")
    store.board._check()
    stats = store.statistics()
    assert stats.dropped == {
        "board diff with unreadable levels": 1,
        "board snapshot with unreadable levels": 1,
        "message is not an object": 1,
    }
    assert stats.unhandled == {"lightning_nope_BTC_JPY": 1, "method mystery": 1}
    assert store.board.levels(PC) == ([(101, 1)], [(99, 2)])


def test_a_reconnect_ignores_diffs_until_the_next_snapshot() -> None:
    store = bitFlyerDataStore()
    ws = object()
    store.onmessage(snapshot([(99, 1)], [(101, 1)], 100), ws)
    store.onmessage(snapshot([(99, 1)], [(101, 1)], 100), ws)
    assert store.board.status(PC).last_update_id == 2
    store.on_reconnect(ws)
    assert not store.board.is_synced(PC)
    store.onmessage(diff([(98, 1)], [], 99.5), ws)  # before the new connection's snapshot
    assert store.board.levels(PC) == ([(101, 1)], [(99, 1)])
    store.onmessage(snapshot([(98, 1)], [(101, 1)], 99.5), ws)
    status = store.board.status(PC)
    assert status.synced
    assert status.last_update_id == 1
    assert store.board.levels(PC) == ([(101, 1)], [(98, 1)])


async def test_initialize_loads_exact_values_per_product() -> None:
    store = bitFlyerDataStore()
    base = "https://api.bitflyer.com/v1/me"
    store.childorders._insert(
        [
            {"product_code": PC, "child_order_acceptance_id": "old"},
            {"product_code": "BTC_JPY", "child_order_acceptance_id": "other"},
        ]
    )
    await store.initialize(
        ContractResponse.get(
            f"{base}/getchildorders?product_code={PC}&child_order_state=ACTIVE",
            [
                {
                    "product_code": PC,
                    "child_order_acceptance_id": "A",
                    "child_order_state": "ACTIVE",
                },
                {
                    "product_code": PC,
                    "child_order_acceptance_id": "B",
                    "child_order_state": "COMPLETED",
                },
            ],
        ),  # type: ignore[arg-type]
        ContractResponse.get(
            f"{base}/getparentorders?product_code={PC}",
            [
                {
                    "product_code": PC,
                    "parent_order_acceptance_id": "P",
                    "parent_order_state": "ACTIVE",
                }
            ],
        ),  # type: ignore[arg-type]
        ContractResponse.get(
            f"{base}/getpositions?product_code={PC}",
            [{"product_code": PC, "side": "BUY", "price": 100, "size": 0.1, "commission": 0}],
        ),  # type: ignore[arg-type]
        ContractResponse.get(f"{base}/getcollateral", {"collateral": 5000, "keep_rate": 0}),  # type: ignore[arg-type]
        ContractResponse.get(
            f"{base}/getbalance", [{"currency_code": "JPY", "amount": 1, "available": 1}]
        ),  # type: ignore[arg-type]
    )
    assert sorted(o["child_order_acceptance_id"] for o in store.childorders) == ["A", "other"]
    assert [o["parent_order_acceptance_id"] for o in store.parentorders] == ["P"]
    assert [p["size"] for p in store.positions] == [0.1]
    assert store.collateral.find() == [{"collateral": 5000, "keep_rate": 0}]
    assert store.balance.get({"currency_code": "JPY"}) is not None
    with pytest.raises(ValueError, match="does not know the endpoint"):
        await store.initialize(ContractResponse.get(f"{base}/nope", []))  # type: ignore[arg-type]
