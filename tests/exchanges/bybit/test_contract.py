"""BybitDataStore under the collection contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from _contract import BookModel, CollectionContract, ContractCase, load_messages
from hypothesis import strategies as st
from test_book_models import BYBIT_DEPTH_OPS, BYBIT_FULL_OPS, bybit_depth_model, bybit_full_model

from datastores.exchanges.bybit.cli import target
from datastores.exchanges.bybit.store import BybitDataStore

DATA = Path(__file__).parent / "data"
SEEDS = st.integers(0, 2**32 - 1)

#: the N-level book (WebSocket snapshots) and the full book (REST snapshot, strict ``u``)
BOOK_MODEL = BookModel(
    st.one_of(
        st.tuples(
            st.just("depth"), SEEDS, st.sampled_from([1, 50]), st.booleans(), BYBIT_DEPTH_OPS
        ),
        st.tuples(st.just("full"), SEEDS, BYBIT_FULL_OPS),
    ),
    lambda example: (
        bybit_depth_model(*example[1:]) if example[0] == "depth" else bybit_full_model(*example[1:])
    ),
)


class TestBybitContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        samples = [*load_messages(DATA / "public.json"), *load_messages(DATA / "orderbook_50.json")]
        return ContractCase(
            BybitDataStore,
            samples,
            "wss://stream.bybit.com/v5/public/linear",
            malformed=[{"topic": "orderbook.50.BTCUSDT", "type": "delta", "ts": 1, "data": "x"}],
            live=target("BTCUSDT"),
            book_model=BOOK_MODEL,
        )
