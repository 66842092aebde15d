"""KuCoinDataStore under the collection contract, and a random-stream model of the spot
level2 book (REST snapshot, ``sequenceStart``/``sequenceEnd``, per-row sequences)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from _contract import (
    BookModel,
    CollectionContract,
    ContractCase,
    ContractResponse,
    load_messages,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from test_book_models import HEAL_ROUNDS, change, corrupt, sides

from datastores import KuCoinDataStore
from datastores.exchanges.kucoin.cli import target

DATA = Path(__file__).parent / "data"
OPS = st.lists(
    st.sampled_from(["update"] * 6 + ["lose", "duplicate", "snapshot", "reconnect", "bad"]),
    max_size=60,
)


def spot_model(seed: int, ops: list[str]) -> None:
    """The exchange's whole book, published as level2 updates whose rows carry their own
    sequence, and REST snapshots; the client's book equals it whenever it says it is
    synced, and heals once snapshots come."""
    rng = random.Random(seed)
    store = KuCoinDataStore()
    store.orderbook.resync_hook = lambda symbol: None  # the model sends the snapshots
    asks: dict[str, str] = {}
    bids: dict[str, str] = {}
    last = 1000
    history = {last: ({}, {})}
    sent: list[dict[str, Any]] = []

    def update() -> dict[str, Any]:
        nonlocal last
        a, b = change(rng, asks, bids, rng.randint(1, 4))
        start = seq = last + 1
        rows: dict[str, list[Any]] = {"asks": [], "bids": []}
        for key, levels in (("asks", a), ("bids", b)):
            for level in levels:
                rows[key].append([*level, str(seq)])
                seq += 1
        if rng.random() < 0.1:  # a price-0 row only advances the sequence
            rows["bids"].append(["0", "0", str(seq)])
            seq += 1
        last = seq - 1
        history[last] = (dict(asks), dict(bids))
        data = {"changes": rows, "sequenceStart": start, "sequenceEnd": last, "symbol": "X"}
        return {"type": "message", "topic": "/market/level2:X", "data": data}

    def snapshot() -> None:
        data = {
            "sequence": str(last),
            "asks": [[p, q] for p, q in asks.items()],
            "bids": [[p, q] for p, q in bids.items()],
        }
        store.orderbook._on_rest_snapshot("X", data)

    snapshot()
    for op in ops:
        if op in ("update", "bad"):
            msg = update()
            if op == "bad":
                corrupt(rng, msg, msg["data"]["changes"], rng.choice(["asks", "bids"]))
            sent.append(msg)
            store.onmessage(msg)
        elif op == "lose":
            update()
        elif op == "duplicate" and sent:
            store.onmessage(rng.choice(sent))
        elif op == "snapshot":
            snapshot()
        elif op == "reconnect":
            store.orderbook._invalidate("X", "reconnect")
        store.orderbook._check()
        status = store.orderbook.status("X")
        if status.synced:
            assert sides(store.orderbook.levels("X")) == history[status.last_update_id]
    for _ in range(HEAL_ROUNDS):
        store.onmessage(update())
        if not store.orderbook.is_synced("X"):
            snapshot()  # the refetched REST snapshot
    store.onmessage(update())
    assert store.orderbook.status("X").last_update_id == last
    assert sides(store.orderbook.levels("X")) == (asks, bids)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), OPS)
def test_spot_book_is_the_exchange_book_whenever_synced(seed: int, ops: list[str]) -> None:
    spot_model(seed, ops)


def _snapshot(name: str) -> Any:
    return json.loads((DATA / name).read_text())


class TestKuCoinContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        samples = [
            msg
            for name in ("spot_public.jsonl", "futures_public.jsonl", "private.jsonl", "uta.jsonl")
            for msg in load_messages(DATA / name)
        ]
        level2 = {"type": "message", "topic": "/market/level2:BTC-USDT"}
        return ContractCase(
            KuCoinDataStore,
            samples,
            "wss://ws-api-spot.kucoin.com/?token=t&connectId=c",
            malformed=[
                level2 | {"data": "x"},
                level2 | {"data": {"sequenceStart": "a", "sequenceEnd": 2, "changes": {}}},
                {"type": "message", "topic": "/contractMarket/level2:XBTUSDTM"}
                | {"data": {"sequence": 9, "change": "1,up,2"}},
                {"type": "message", "topic": "/market/match:BTC-USDT", "data": {"price": "1"}},
                {"T": "obu.SPOT", "t": "delta", "d": {"O": 1}},
                {"type": "message", "topic": "/spotMarket/tradeOrdersV2", "data": {"x": 1}},
            ],
            snapshots=[
                ContractResponse.get(
                    "https://api.kucoin.com/api/v3/market/orderbook/level2?symbol=BTC-USDT",
                    _snapshot("spot_snapshot.json"),
                ),
                ContractResponse.get(
                    "https://api-futures.kucoin.com/api/v1/level2/snapshot?symbol=XBTUSDTM",
                    _snapshot("futures_snapshot.json"),
                ),
            ],
            live=target("BTC-USDT"),
            book_model=BookModel(
                st.tuples(st.integers(0, 2**32 - 1), OPS), lambda ex: spot_model(*ex)
            ),
        )
