"""OKXDataStore under the collection contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from _contract import BookModel, CollectionContract, ContractCase, load_messages
from hypothesis import strategies as st
from test_book_models import OKX_OPS, okx_model

from datastores.exchanges.okx.cli import target
from datastores.exchanges.okx.store import OKXDataStore

DATA = Path(__file__).parent / "data"


class TestOKXContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        samples = [*load_messages(DATA / "public.json"), *load_messages(DATA / "books.json")]
        return ContractCase(
            OKXDataStore,
            samples,
            "wss://ws.okx.com:8443/ws/v5/public",
            malformed=[
                {"arg": {"channel": "books", "instId": "BTC-USDT"}, "action": "update", "data": "x"}
            ],
            live=target("BTC-USDT"),
            book_model=BookModel(
                st.tuples(st.integers(0, 2**32 - 1), OKX_OPS), lambda ex: okx_model(*ex)
            ),
        )
