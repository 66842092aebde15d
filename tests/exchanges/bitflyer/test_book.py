"""bitFlyer's book rule under random streams (hypothesis): the exchange's book, its diffs
(some lost, some losing a deletion) and periodic snapshots.

The promises: a snapshot makes the book equal the exchange's; with nothing lost since
the last snapshot the book equals the exchange's and stays synced; a synced book is
never crossed; after a reconnect nothing is applied until the next snapshot.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datastores import bitFlyerDataStore

PC = "BTC_JPY"
OPS = st.lists(
    st.sampled_from(["diff"] * 6 + ["lose", "lose_deletion", "snapshot", "reconnect"]),
    max_size=60,
)


def note(channel: str, message: Any) -> dict[str, Any]:
    params = {"channel": channel, "message": message}
    return {"jsonrpc": "2.0", "method": "channelMessage", "params": params}


def run(seed: int, ops: list[str]) -> None:
    rng = random.Random(seed)
    bids = {float(p): float(rng.randint(1, 9)) for p in range(90, 100)}
    asks = {float(p): float(rng.randint(1, 9)) for p in range(101, 111)}
    store = bitFlyerDataStore()
    store.board.resync_hook = lambda symbol: None  # the stream brings the snapshots
    ws = object()
    clean = False  # nothing lost since the last snapshot on this connection

    def mid() -> float:
        return (max(bids) + min(asks)) / 2

    def levels(book: dict[float, float]) -> list[dict[str, float]]:
        return [{"price": p, "size": s} for p, s in book.items()]

    def snapshot() -> None:
        nonlocal clean
        message = {"mid_price": mid(), "bids": levels(bids), "asks": levels(asks)}
        store.onmessage(note(f"lightning_board_snapshot_{PC}", message), ws)
        clean = True
        assert store.board.is_synced(PC)
        assert local() == (asks, bids)

    def local() -> tuple[dict[float, float], dict[float, float]]:
        a, b = store.board.levels(PC)
        return {p: s for p, s in a}, {p: s for p, s in b}

    def step(op: str) -> None:
        nonlocal clean
        changes: dict[str, list[dict[str, float]]] = {"bids": [], "asks": []}
        for _ in range(rng.randint(1, 3)):
            side, book = rng.choice([("bids", bids), ("asks", asks)])
            price = float(rng.randint(90, 99) if side == "bids" else rng.randint(101, 110))
            if price in book and len(book) > 1 and rng.random() < 0.4:
                del book[price]
                if op != "lose_deletion":
                    changes[side].append({"price": price, "size": 0})
                else:
                    clean = False
            else:
                book[price] = float(rng.randint(1, 9))
                changes[side].append({"price": price, "size": book[price]})
        if op == "lose":
            clean = False
            return
        store.onmessage(note(f"lightning_board_{PC}", {"mid_price": mid(), **changes}), ws)

    for op in ops:
        if op == "snapshot":
            snapshot()
        elif op == "reconnect":
            store.on_reconnect(ws)
            clean = False
            before = local()
            step("diff")
            assert local() == before  # not applied before the new snapshot
        else:
            step(op)
        store.board._check()
        status = store.board.status(PC)
        if clean:
            assert status.synced
            assert local() == (asks, bids)
        if status.synced and asks and bids:
            a, b = local()
            assert not a or not b or max(b) < min(a)
    snapshot()  # the next periodic snapshot heals everything


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1), ops=OPS)
def test_snapshots_heal_and_a_clean_stream_stays_exact(seed: int, ops: list[str]) -> None:
    run(seed, ops)
