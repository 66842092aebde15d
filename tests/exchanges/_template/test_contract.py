"""The template's collection under the collection contract.

TODO(<x>): your collection(s), samples from ``data/``, malformed messages on your
channels, REST ``snapshots`` if your books start from one, your CLI target as ``live``,
and a model of your book's sequence rule (this one: ``first``/``last``, WebSocket snapshots).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from _contract import BookModel, CollectionContract, ContractCase, load_messages
from hypothesis import strategies as st
from test_book_models import HEAL_ROUNDS, change, corrupt, sides

from datastores.exchanges._template.cli import target
from datastores.exchanges._template.store import ExampleDataStore

DATA = Path(__file__).parent / "data"
OPS = st.lists(
    st.sampled_from(["update"] * 6 + ["lose", "duplicate", "snapshot", "reconnect", "bad"]),
    max_size=60,
)


def book_model(seed: int, ops: list[str]) -> None:
    """The exchange's whole book, published as ``first``/``last`` updates and snapshots
    on (re)subscription; the client's book equals it whenever it says it is synced."""
    rng = random.Random(seed)
    store = ExampleDataStore()
    store.orderbook.resync_hook = lambda symbol: None  # the test sends the snapshots
    asks: dict[str, str] = {}
    bids: dict[str, str] = {}
    last = 100
    history = {last: ({}, {})}
    sent: list[dict[str, Any]] = []

    def message(kind: str) -> dict[str, Any]:
        nonlocal last
        first = last + 1
        a: list[Any] = []
        b: list[Any] = []
        if kind == "update":
            a, b = change(rng, asks, bids, rng.randint(1, 4))
            last += len(a) + len(b)
            history[last] = (dict(asks), dict(bids))
        else:
            first = last
            a = [[p, q] for p, q in asks.items()]
            b = [[p, q] for p, q in bids.items()]
        data = {"first": first, "last": last, "asks": a, "bids": b}
        return {"channel": "book", "type": kind, "symbol": "X", "data": data}

    store.onmessage(message("snapshot"))
    for op in ops:
        if op in ("update", "bad"):
            msg = message("update")
            if op == "bad":
                corrupt(rng, msg, msg["data"], rng.choice(["asks", "bids"]))
            sent.append(msg)
            store.onmessage(msg)
        elif op == "lose":
            message("update")
        elif op == "duplicate" and sent:
            store.onmessage(rng.choice(sent))
        elif op == "snapshot":
            store.onmessage(message("snapshot"))
        elif op == "reconnect":
            store.on_reconnect(None)
        store.orderbook._check()
        status = store.orderbook.status("X")
        if status.synced:
            assert sides(store.orderbook.levels("X")) == history[status.last_update_id]
    for _ in range(HEAL_ROUNDS):
        store.onmessage(message("update"))
        if not store.orderbook.is_synced("X"):
            store.onmessage(message("snapshot"))  # the resubscription's snapshot
    store.onmessage(message("update"))
    assert store.orderbook.status("X").last_update_id == last
    assert sides(store.orderbook.levels("X")) == (asks, bids)


@pytest.mark.usefixtures("template_registered")
class TestTemplateContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        return ContractCase(
            ExampleDataStore,
            load_messages(DATA / "public.jsonl"),
            "wss://stream.example.invalid/ws",
            malformed=[
                {"channel": "book", "type": "update", "symbol": "BTC-USD", "data": "x"},
                {"channel": "book", "type": "update", "symbol": "BTC-USD"}
                | {"data": {"first": "1", "last": 2, "asks": [], "bids": []}},
                {"channel": "trade", "symbol": "BTC-USD", "data": {"id": 1}},
                {"channel": "contract-unknown", "symbol": "BTC-USD"},
            ],
            live=target("BTC-USD"),
            book_model=BookModel(
                st.tuples(st.integers(0, 2**32 - 1), OPS), lambda ex: book_model(*ex)
            ),
        )
