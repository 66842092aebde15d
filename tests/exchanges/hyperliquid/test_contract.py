"""HyperliquidDataStore under the collection contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from _contract import CollectionContract, ContractCase, load_messages

from datastores.exchanges.hyperliquid.cli import target
from datastores.exchanges.hyperliquid.store import HyperliquidDataStore

DATA = Path(__file__).parent / "data"


class TestHyperliquidContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        samples = [*load_messages(DATA / "public.jsonl"), *load_messages(DATA / "user.jsonl")]
        return ContractCase(
            HyperliquidDataStore,
            samples,
            "wss://api.hyperliquid.xyz/ws",
            malformed=[
                {"channel": "l2Book", "data": {"coin": "BTC", "time": 1, "levels": "x"}},
                {
                    "channel": "l2Book",
                    "data": {"coin": "BTC", "time": 2, "levels": [[{"px": "1"}], []]},
                },
                {"channel": "userFills", "data": {"user": "0x1", "fills": "x"}},
                {"channel": "allMids", "data": []},
                {"channel": "trades"},
                {"no": "channel"},
                {"channel": "webData3", "data": {}},
            ],
            live=target("BTC"),
            fault=None,  # whole l2Book frames: no sequence, no checksum
        )
