"""The Phemex book rule: periodic snapshots compared with the book (counted and
reported when they differ), the monotonic sequence, recovery by subscribing again."""

from __future__ import annotations

import asyncio
from typing import Any

from datastores import ChangeBatch, IntegrityEvent, PhemexDataStore
from datastores._integrity import BookDelta, MonotonicRule, Verdict


def book(kind: str, sequence: int, asks: list[Any], bids: list[Any], depth: int = 30) -> Any:
    return {
        "orderbook_p": {"asks": asks, "bids": bids},
        "depth": depth,
        "sequence": sequence,
        "symbol": "BTCUSDT",
        "type": kind,
    }


class WS:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    async def send_json(self, obj: Any, auth: Any = None) -> None:
        self.sent.append(obj)


def test_monotonic_rule() -> None:
    rule = MonotonicRule()
    delta = BookDelta(5, 5, None, [], [])
    assert rule.follow(4, delta) is Verdict.APPLY
    assert rule.follow(1, delta) is Verdict.APPLY  # no contiguity: never a gap
    assert rule.follow(5, delta) is Verdict.STALE
    assert rule.bridge(9, delta) is Verdict.STALE


def test_an_equal_periodic_snapshot_counts_nothing() -> None:
    store = PhemexDataStore()
    store.onmessage(book("snapshot", 1, [["10", "1"]], [["9", "1"]]))
    store.onmessage(book("incremental", 5, [["11", "2"]], []))
    store.onmessage(book("snapshot", 9, [["10", "1"], ["11", "2"]], [["9", "1"]]))
    status = store.orderbook.status("BTCUSDT")
    assert (status.synced, status.checksum_failures, status.last_update_id) == (True, 0, 9)
    assert store.orderbook.snapshot_mismatches("BTCUSDT") == 0


def test_a_differing_periodic_snapshot_is_counted_reported_and_heals_the_book() -> None:
    store = PhemexDataStore()
    events: list[IntegrityEvent] = []

    def observe(batch: ChangeBatch) -> None:
        events.extend(c for c in batch.changes if isinstance(c, IntegrityEvent))

    store.onmessage(book("snapshot", 1, [["10", "1"], ["12", "1"]], [["9", "1"]]))
    store.add_observer(observe)
    # the incremental deleting 12 was lost: nothing can tell, until the snapshot
    store.onmessage(book("incremental", 7, [["11", "2"]], []))
    events.clear()
    store.onmessage(book("snapshot", 9, [["10", "1"], ["11", "2"]], [["9", "1"]]))
    ob = store.orderbook
    status = ob.status("BTCUSDT")
    assert (status.synced, status.checksum_failures, ob.snapshot_mismatches("BTCUSDT")) == (
        True,
        1,
        1,
    )
    assert status.last_error == "checksum: periodic snapshot differs at 1 levels"
    assert ob.levels("BTCUSDT") == ([["10", "1"], ["11", "2"]], [["9", "1"]])
    assert [(e.event, e.reason, e.synced) for e in events] == [
        ("unsynced", "checksum", False),
        ("synced", None, True),
    ]
    assert status.resyncs == 0  # the snapshot was there: nothing to request


def test_the_comparison_looks_at_the_subscribed_depth_only() -> None:
    store = PhemexDataStore()
    asks = [[str(10 + i), "1"] for i in range(3)]
    store.onmessage(book("snapshot", 1, asks, [], depth=1))
    store.onmessage(book("snapshot", 2, [*asks, ["50", "1"]], [], depth=1))
    assert store.orderbook.snapshot_mismatches("BTCUSDT") == 0
    assert store.orderbook.levels("BTCUSDT") == ([["10", "1"]], [])


async def test_a_malformed_increment_unsyncs_and_the_book_subscribes_again() -> None:
    store = PhemexDataStore()
    ws = WS()
    store.onmessage(book("snapshot", 1, [["10", "1"]], [["9", "1"]]), ws)
    store.onmessage(book("incremental", 2, [["x", "1"]], []), ws)
    ob = store.orderbook
    assert not ob.is_synced("BTCUSDT")
    assert ob.status("BTCUSDT").errors == 1
    for _ in range(5):
        if ws.sent:
            break
        await asyncio.sleep(0)
    assert ws.sent == [{"id": 3000001, "method": "orderbook_p.subscribe", "params": ["BTCUSDT"]}]
    store.onmessage(book("incremental", 3, [["11", "1"]], []), ws)  # dropped while unsynced
    store.onmessage(book("snapshot", 4, [["10", "3"]], [["9", "1"]]), ws)
    assert ob.is_synced("BTCUSDT")
    assert ob.levels("BTCUSDT") == ([["10", "3"]], [["9", "1"]])
    assert store._resubscribe.awaiting_snapshot == frozenset()
    await store.aclose()


def test_resubscription_requests_follow_the_subscribed_depth() -> None:
    from datastores.exchanges.phemex.store import _subscription

    assert _subscription("book", "BTCUSD", 0) == {
        "method": "orderbook.subscribe",
        "params": ["BTCUSD", True],
    }
    assert _subscription("orderbook_p", "BTCUSDT", 5)["params"] == ["BTCUSDT", False, 5]
    assert _subscription("book", "sBTCUSDT", 30)["params"] == ["sBTCUSDT"]
