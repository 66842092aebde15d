"""PhemexDataStore under the collection contract, with a random-stream model of its
book rule (snapshots replace, increments by price, a sequence that only increases)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from _contract import BookModel, CollectionContract, ContractCase, load_messages
from hypothesis import strategies as st
from test_book_models import change, corrupt, sides

from datastores import PhemexDataStore
from datastores.exchanges.phemex.cli import target

DATA = Path(__file__).parent / "data"
OPS = st.lists(
    st.sampled_from(["update"] * 6 + ["lose", "duplicate", "snapshot", "reconnect", "bad"]),
    max_size=60,
)


def book_model(seed: int, ops: list[str]) -> None:
    """The exchange's whole book (``[symbol, true]``), published as increments with a
    shared, increasing but not contiguous ``sequence``, and snapshots (on subscription
    and periodically). A lost increment cannot be seen; the promise is:

    * synced with nothing lost since the last snapshot: the book equals the exchange's;
    * every snapshot leaves the book equal to it, and is counted as a mismatch exactly
      when the synced book it replaced differed from it;
    * duplicates (an old sequence) change nothing.
    """
    rng = random.Random(seed)
    store = PhemexDataStore()
    store.orderbook.resync_hook = lambda symbol: None  # the test sends the snapshots
    asks: dict[str, str] = {}
    bids: dict[str, str] = {}
    sequence = 100
    sent: list[dict[str, Any]] = []
    lost = False
    mismatches = 0

    def message(kind: str) -> dict[str, Any]:
        nonlocal sequence
        sequence += rng.randint(1, 5)  # other channels take numbers too
        if kind == "incremental":
            a, b = change(rng, asks, bids, rng.randint(1, 4))
        else:
            a = [[p, q] for p, q in asks.items()]
            b = [[p, q] for p, q in bids.items()]
        book = {"asks": a, "bids": b}
        return {"orderbook_p": book, "depth": 0, "sequence": sequence, "symbol": "X", "type": kind}

    def snapshot() -> None:
        nonlocal lost, mismatches
        ob = store.orderbook
        if ob.is_synced("X") and sides(ob.levels("X")) != (asks, bids):
            mismatches += 1
        store.onmessage(message("snapshot"))
        lost = False
        assert sides(ob.levels("X")) == (asks, bids)

    snapshot()
    for op in ops:
        if op in ("update", "bad"):
            msg = message("incremental")
            if op == "bad":
                corrupt(rng, msg, msg["orderbook_p"], rng.choice(["asks", "bids"]))
            sent.append(msg)
            store.onmessage(msg)
        elif op == "lose":
            message("incremental")
            lost = True
        elif op == "duplicate" and sent:
            before = store.orderbook.levels("X")
            store.onmessage(rng.choice(sent))
            assert store.orderbook.levels("X") == before
        elif op == "snapshot":
            snapshot()
        elif op == "reconnect":
            store.on_reconnect(None)
        store.orderbook._check()
        if store.orderbook.is_synced("X") and not lost:
            assert sides(store.orderbook.levels("X")) == (asks, bids)
        assert store.orderbook.snapshot_mismatches("X") == mismatches
    snapshot()
    store.onmessage(message("incremental"))
    assert store.orderbook.is_synced("X")
    assert sides(store.orderbook.levels("X")) == (asks, bids)
    assert store.orderbook.status("X").checksum_failures == mismatches


class TestPhemexContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        return ContractCase(
            PhemexDataStore,
            load_messages(DATA / "public.jsonl") + load_messages(DATA / "private.jsonl"),
            "wss://ws.phemex.com",
            malformed=[
                {"book": "x", "sequence": 1, "symbol": "BTCUSD", "type": "incremental"},
                {"book": {"asks": [], "bids": []}, "sequence": "1", "symbol": "BTCUSD"}
                | {"type": "incremental"},
                {"orderbook_p": {"asks": [], "bids": []}, "sequence": 9, "symbol": "BTCUSDT"}
                | {"type": "delta"},
                {"trades": {"x": 1}, "symbol": "BTCUSD", "sequence": 1, "type": "incremental"},
                {"trades_p": [[1, "Buy"]], "symbol": "BTCUSDT", "sequence": 1},
                {"kline": [["x"]], "symbol": "BTCUSD", "sequence": 1, "type": "snapshot"},
                {"tick": {"last": 1}},
                {"accounts": "x", "sequence": 1, "type": "incremental"},
                {"orders": [1, 2], "sequence": 1, "type": "incremental"},
                {"contract_unknown": {}, "symbol": "BTCUSD"},
                {"sequence": 1, "timestamp": 2},
            ],
            live=target("BTCUSDT"),
            fault="malformed",  # a lost increment starts nothing: it cannot be seen
            book_model=BookModel(
                st.tuples(st.integers(0, 2**32 - 1), OPS), lambda ex: book_model(*ex)
            ),
        )
