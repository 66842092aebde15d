"""Binance spot, USDS-M and COIN-M collections under the collection contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _contract import BookModel, CollectionContract, ContractCase, ContractResponse, load_messages
from hypothesis import strategies as st
from test_book_models import BINANCE_OPS, binance_diff_model

from datastores._cli._target import Target
from datastores.exchanges.binance.cli import target
from datastores.exchanges.binance.store import (
    BinanceCOINMDataStore,
    BinanceSpotDataStore,
    BinanceUSDSMDataStore,
)

DATA = Path(__file__).parent / "data"
SEEDS = st.integers(0, 2**32 - 1)


def _model(futures: bool, create: type) -> BookModel:
    return BookModel(
        st.tuples(SEEDS, BINANCE_OPS),
        lambda example: binance_diff_model(example[0], futures, example[1], create),
    )


def _futures_target(label: str, symbol: str, ws: str, rest: str, store: str, venue: str) -> Target:
    return Target(
        exchange="binance",
        label=label,
        symbol=symbol,
        ws_url=f"wss://{ws}/ws/{symbol.lower()}@depth@100ms",
        snapshot_url=f"https://{rest}?symbol={symbol}&limit=1000",
        store_class=f"datastores.exchanges.binance.store:{store}",
        fake_venue=venue,
    )


class TestSpotContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        samples = [
            *load_messages(DATA / "spot_public.jsonl"),
            *load_messages(DATA / "spot_depth.jsonl"),
        ]
        snapshot = json.loads((DATA / "spot_depth_snapshot.json").read_text())
        return ContractCase(
            BinanceSpotDataStore,
            samples,
            "wss://stream.binance.com:9443/ws",
            malformed=[{"e": "contract-unknown-event", "E": 1}],
            snapshots=[
                ContractResponse.get(
                    "https://api.binance.com/api/v3/depth?symbol=BNBBTC&limit=1000", snapshot
                )
            ],
            live=target("BTCUSDT"),
            book_model=_model(False, BinanceSpotDataStore),
        )


class TestUSDSMContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        samples = [
            *load_messages(DATA / "usdsm_public.jsonl"),
            *load_messages(DATA / "usdsm_depth.jsonl"),
        ]
        snapshot = json.loads((DATA / "usdsm_depth_snapshot.json").read_text())
        return ContractCase(
            BinanceUSDSMDataStore,
            samples,
            "wss://fstream.binance.com/ws",
            malformed=[
                {"e": "contract-unknown-event", "E": 1},
                # ids that are not numbers: the diff is lost (counted, the book resyncs)
                {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": "x", "u": "y", "pu": "z"}
                | {"a": [], "b": []},
            ],
            snapshots=[
                ContractResponse.get(
                    "https://fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT&limit=1000", snapshot
                )
            ],
            live=_futures_target(
                "Binance USDS-M",
                "BTCUSDT",
                "fstream.binance.com",
                "fapi.binance.com/fapi/v1/depth",
                "BinanceUSDSMDataStore",
                "binance-usdsm",
            ),
            book_model=_model(True, BinanceUSDSMDataStore),
        )


class TestCOINMContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        # Bridges the sample's depthUpdate (U=17285681 <= 17285690 <= u=17285702).
        snapshot = {
            "lastUpdateId": 17285690,
            "E": 1591270260000,
            "T": 1591270259990,
            "symbol": "BTCUSD_200626",
            "pair": "BTCUSD",
            "bids": [["9517.0", "3"]],
            "asks": [["9519.0", "2"]],
        }
        return ContractCase(
            BinanceCOINMDataStore,
            load_messages(DATA / "coinm_public.jsonl"),
            "wss://dstream.binance.com/ws",
            malformed=[
                {"e": "contract-unknown-event", "E": 1},
                {"e": "depthUpdate", "E": 1, "s": "BTCUSD_200626", "ps": "BTCUSD", "U": None}
                | {"u": "y", "pu": [], "a": [], "b": []},
            ],
            snapshots=[
                ContractResponse.get(
                    "https://dapi.binance.com/dapi/v1/depth?symbol=BTCUSD_200626&limit=1000",
                    snapshot,
                )
            ],
            live=_futures_target(
                "Binance COIN-M",
                "BTCUSD_PERP",
                "dstream.binance.com",
                "dapi.binance.com/dapi/v1/depth",
                "BinanceCOINMDataStore",
                "binance-coinm",
            ),
            book_model=_model(True, BinanceCOINMDataStore),
        )
