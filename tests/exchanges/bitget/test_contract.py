"""Bitget v2 and v1 collections under the collection contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from _contract import CollectionContract, ContractCase, load_messages

from datastores._cli._target import Target
from datastores.exchanges.bitget.cli import target
from datastores.exchanges.bitget.store import BitgetV2DataStore
from datastores.exchanges.bitget.store_v1 import BitgetDataStore

DATA = Path(__file__).parent / "data"


class TestBitgetV2Contract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        arg = {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"}
        return ContractCase(
            BitgetV2DataStore,
            load_messages(DATA / "v2_public.jsonl"),
            "wss://ws.bitget.com/v2/ws/public",
            malformed=[{"action": "update", "arg": arg, "data": "x"}],
            live=target("BTCUSDT"),
        )


class TestBitgetV1Contract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        arg = {"instType": "mc", "channel": "books", "instId": "BTCUSDT"}
        return ContractCase(
            BitgetDataStore,
            load_messages(DATA / "v1_stream.jsonl"),
            "wss://ws.bitget.com/mix/v1/stream",
            malformed=[{"action": "update", "arg": arg, "data": "x"}],
            live=Target(
                exchange="bitget",
                label="Bitget v1 mix",
                symbol="BTCUSDT",
                ws_url="wss://ws.bitget.com/mix/v1/stream",
                snapshot_url=None,
                store_class="datastores.exchanges.bitget.store_v1:BitgetDataStore",
                fake_venue="bitget",
                subscribe={"op": "subscribe", "args": [arg]},
                fake_symbol="USDT-FUTURES:BTCUSDT",
                checksum=True,
            ),
        )
