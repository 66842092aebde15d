"""CoincheckDataStore under the collection contract, with a random-stream model of the
sequenced book (``sequence_number`` + REST snapshots ``?version=1.0``)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from _contract import BookModel, CollectionContract, ContractCase, ContractResponse, load_messages
from hypothesis import strategies as st
from test_book_models import HEAL_ROUNDS, change, sides
from yarl import URL

from datastores.exchanges.coincheck.cli import target
from datastores.exchanges.coincheck.store import CoincheckDataStore

DATA = Path(__file__).parent / "data"
BOOKS = "https://coincheck.com/api/order_books"
OPS = st.lists(
    st.sampled_from(
        ["diff"] * 6 + ["lose", "duplicate", "snapshot", "old snapshot", "reconnect", "bad"]
    ),
    max_size=60,
)


def book_model(seed: int, ops: list[str]) -> None:
    """The exchange's book published as numbered diffs (rows of both amounts) and REST
    snapshots at any number (older ones too); whenever the client's book says it is
    synced it equals the exchange's book at its ``last_update_id``."""
    rng = random.Random(seed)
    store = CoincheckDataStore()
    asked: list[str] = []
    store.orderbook.resync_hook = asked.append  # the test hands in the snapshots
    asks: dict[str, str] = {}
    bids: dict[str, str] = {}
    sequence = 100
    history = {sequence: ({}, {})}
    sent: list[Any] = []
    url = URL(f"{BOOKS}?pair=X&version=1.0")

    def diff() -> list[Any]:
        nonlocal sequence
        a, b = change(rng, asks, bids, rng.randint(1, 4))
        sequence += 1
        history[sequence] = (dict(asks), dict(bids))
        upper = [{"rate": p, "ask_amount": q} for p, q in a]
        lower = [{"rate": p, "bid_amount": q} for p, q in b]
        return ["X", {"sequence_number": sequence, "upper": upper, "lower": lower}]

    def snapshot(at: int) -> dict[str, Any]:
        old_asks, old_bids = history[at]
        return {
            "sequence_number": at,
            "upper": [{"rate": p, "ask_amount": q, "bid_amount": "0"} for p, q in old_asks.items()],
            "lower": [{"rate": p, "ask_amount": "0", "bid_amount": q} for p, q in old_bids.items()],
        }

    for op in ops:
        if op in ("diff", "bad"):
            msg = diff()
            if op == "bad":
                rows = msg[1]["upper"] or msg[1]["lower"]
                rows.append(rng.choice([{"rate": "x", "ask_amount": "1"}, {"rate": None}, 5]))
            sent.append(msg)
            store.onmessage(msg)
        elif op == "lose":
            diff()
        elif op == "duplicate" and sent:
            store.onmessage(rng.choice(sent))
        elif op in ("snapshot", "old snapshot"):
            at = sequence if op == "snapshot" else rng.choice(list(history))
            store._install("X", url, snapshot(at))
        elif op == "reconnect":
            store.on_reconnect(None)
        store.orderbook._check()
        status = store.orderbook.status("X")
        if status.synced:
            assert sides(store.orderbook.levels("X")) == history[status.last_update_id]
    for _ in range(HEAL_ROUNDS):
        store.onmessage(diff())
        if not store.orderbook.is_synced("X"):
            store._install("X", url, snapshot(sequence))
    store.onmessage(diff())
    assert store.orderbook.status("X").last_update_id == sequence
    assert sides(store.orderbook.levels("X")) == (asks, bids)


class TestCoincheckContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        legacy = json.loads((DATA / "order_books.json").read_text())
        sequenced = json.loads((DATA / "order_books_v1.json").read_text())
        return ContractCase(
            CoincheckDataStore,
            load_messages(DATA / "public.jsonl"),
            "wss://ws-api.coincheck.com/",
            malformed=[
                ["eth_jpy", {"sequence_number": "x", "upper": [], "lower": []}],
                ["eth_jpy", {"sequence_number": 104, "upper": [{"rate": []}], "lower": []}],
                ["btc_jpy", "not a payload"],
                ["btc_jpy", {"last_update_at": "1"}],
                [["1663318663", "1"]],
                [5, 6],
                {"type": "contract-unknown"},
                "text",
            ],
            snapshots=[
                ContractResponse.get(f"{BOOKS}?pair=btc_jpy", legacy),
                ContractResponse.get(f"{BOOKS}?pair=eth_jpy&version=1.0", sequenced),
            ],
            live=target("btc_jpy"),
            book_model=BookModel(
                st.tuples(st.integers(0, 2**32 - 1), OPS), lambda ex: book_model(*ex)
            ),
        )
