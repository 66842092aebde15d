"""Binance spot, USDS-M and COIN-M collections under the collection contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from _contract import CollectionContract, ContractCase, load_messages

from datastores.exchanges.binance.store import (
    BinanceCOINMDataStore,
    BinanceSpotDataStore,
    BinanceUSDSMDataStore,
)

DATA = Path(__file__).parent / "data"


class TestSpotContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        samples = [
            *load_messages(DATA / "spot_public.jsonl"),
            *load_messages(DATA / "spot_depth.jsonl"),
        ]
        return ContractCase(
            BinanceSpotDataStore,
            samples,
            "wss://stream.binance.com:9443/ws",
            malformed=[{"e": "contract-unknown-event", "E": 1}],
        )


class TestUSDSMContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        samples = [
            *load_messages(DATA / "usdsm_public.jsonl"),
            *load_messages(DATA / "usdsm_depth.jsonl"),
        ]
        return ContractCase(BinanceUSDSMDataStore, samples, "wss://fstream.binance.com/ws")


class TestCOINMContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        return ContractCase(
            BinanceCOINMDataStore,
            load_messages(DATA / "coinm_public.jsonl"),
            "wss://dstream.binance.com/ws",
        )
