"""GMOCoinDataStore under the collection contract, and its book rule under random frames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _contract import CollectionContract, ContractCase, load_messages
from _e2e import until
from hypothesis import given, settings
from hypothesis import strategies as st

from datastores import Client, DataStoreCollection
from datastores.exchanges.gmocoin.cli import target
from datastores.exchanges.gmocoin.store import GMOCoinDataStore
from datastores.testing import FakeExchange

DATA = Path(__file__).parent / "data"
SYMBOL = "BTC_JPY"


async def token_and_malformed_frame(
    case: ContractCase, fake: FakeExchange, client: Client, collection: DataStoreCollection
) -> None:
    """The close check's session, with the fault a GMO Coin book can see.

    A withheld frame (the contract's sequence fault) is invisible here: every frame
    is a whole book and carries no sequence. A malformed frame is seen: the book
    goes unsynced and its recovery is counted. The private token's keepalive runs
    too (fetched first, as a private session does), so it is in flight at close.
    """
    live = case.live
    assert live is not None
    assert isinstance(collection, GMOCoinDataStore)
    await collection.initialize(client.post("https://api.coin.z.com/private/v1/ws-auth"))
    await client.ws_connect(live.ws_url, send_json=live.subscribe, hdlr_json=collection.onmessage)
    await fake.wait_for_connections(1)
    book = collection.orderbooks
    await until(lambda: book.is_synced(SYMBOL))
    fake.send_malformed(SYMBOL)
    await until(lambda: book.status(SYMBOL).resyncs == 1)
    assert collection._background.running()  # the token keepalive


class TestGMOCoinContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        return ContractCase(
            GMOCoinDataStore,
            load_messages(DATA / "public.jsonl") + load_messages(DATA / "private.jsonl"),
            "wss://api.coin.z.com/ws/public/v1",
            malformed=[
                {"channel": "orderbooks", "symbol": "BTC", "asks": "x", "bids": []},
                {"channel": "orderbooks", "symbol": "BTC", "asks": [{"price": "1"}], "bids": []},
                {"channel": "orderbooks", "symbol": "BTC", "asks": [], "bids": [{"price": 5}]},
                {"channel": "orderbooks", "asks": [], "bids": []},
                {"channel": "trades", "price": 1},
                {"channel": "ticker"},
                {"channel": "orderEvents", "orderId": None},
                {"channel": "executionEvents", "orderId": 1},
                {"channel": "positionEvents", "positionId": [1]},
                {"channel": "positionSummaryEvents", "symbol": "BTC_JPY"},
                {"channel": "gmocoin-unknown", "symbol": "BTC"},
                {"error": "ERR-5003 Request too many."},
            ],
            live=target(SYMBOL),
            session=token_and_malformed_frame,
        )


prices = st.integers(1, 40)
frames = st.lists(
    st.tuples(
        st.sampled_from(["good", "good", "good", "crossed", "bad", "reconnect"]),
        st.lists(prices, max_size=6, unique=True),
        st.lists(prices, max_size=6, unique=True),
    ),
    max_size=30,
)


def frame(asks: list[int], bids: list[int], number: int) -> dict[str, Any]:
    return {
        "channel": "orderbooks",
        "symbol": SYMBOL,
        "asks": [{"price": str(p), "size": str(number % 7 + 1)} for p in sorted(asks)],
        "bids": [{"price": str(p), "size": "1"} for p in sorted(bids, reverse=True)],
        "timestamp": f"2026-01-01T00:00:{number % 60:02d}.{number:03d}Z",
    }


@settings(max_examples=80, deadline=None)
@given(frames)
def test_the_book_is_the_last_good_frame_whenever_it_says_synced(stream: list[Any]) -> None:
    """Whole frames, some crossed or unreadable, and reconnects: when synced, the
    book is exactly the last frame applied; a good frame always syncs it again."""
    store = GMOCoinDataStore()
    ws = object()
    expected: tuple[dict[str, str], dict[str, str]] | None = None
    for number, (kind, asks, bids) in enumerate(stream):
        if kind == "reconnect":
            store.on_reconnect(ws)
            ws = object()
            assert not store.orderbooks.is_synced(SYMBOL) or expected is None
            continue
        if kind == "good":
            asks = [p + 40 for p in asks]  # strictly above every bid: never crossed
        elif kind == "crossed":
            asks, bids = [*asks, 20], [*bids, 20]
        message = frame(asks, bids, number)
        if kind == "bad":
            message["bids"] = [{"price": "x", "size": "1"}]
        store.onmessage(message, ws)
        store.orderbooks._check()
        if kind == "good":
            expected = (
                {a["price"]: a["size"] for a in message["asks"]},
                {b["price"]: b["size"] for b in message["bids"]},
            )
            assert store.orderbooks.is_synced(SYMBOL)
        else:
            assert not store.orderbooks.is_synced(SYMBOL)
        if store.orderbooks.is_synced(SYMBOL):
            asks_now, bids_now = store.orderbooks.levels(SYMBOL)
            assert ({p: s for p, s in asks_now}, {p: s for p, s in bids_now}) == expected
