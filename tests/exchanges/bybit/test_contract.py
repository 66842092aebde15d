"""BybitDataStore under the collection contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from _contract import CollectionContract, ContractCase, load_messages

from datastores.exchanges.bybit.store import BybitDataStore

DATA = Path(__file__).parent / "data"


class TestBybitContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        samples = [*load_messages(DATA / "public.json"), *load_messages(DATA / "orderbook_50.json")]
        return ContractCase(
            BybitDataStore,
            samples,
            "wss://stream.bybit.com/v5/public/linear",
            malformed=[{"topic": "orderbook.50.BTCUSDT", "type": "delta", "ts": 1, "data": "x"}],
        )
