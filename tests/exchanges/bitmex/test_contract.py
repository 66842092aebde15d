"""BitMEXDataStore under the collection contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from _contract import CollectionContract, ContractCase, load_messages

from datastores.exchanges.bitmex.cli import target
from datastores.exchanges.bitmex.store import BitMEXDataStore

DATA = Path(__file__).parent / "data"


class TestBitMEXContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        samples = [*load_messages(DATA / "public.jsonl"), *load_messages(DATA / "private.jsonl")]
        return ContractCase(
            BitMEXDataStore,
            samples,
            "wss://ws.bitmex.com/realtime",
            malformed=[
                {"table": "orderBookL2", "action": "update", "data": "x"},
                {"table": "orderBookL2", "action": "insert", "data": [{"symbol": "XBTUSD"}]},
                {"table": "orderBookL2", "action": "explode", "data": []},
                {"table": "trade", "action": "insert", "data": [1, 2]},
                {"table": "orderBook10", "action": "update", "data": [{"symbol": "X"}]},
                {"table": 5, "action": "insert", "data": []},
                ["not", "an", "object"],
            ],
            live=target("XBTUSD"),
        )
