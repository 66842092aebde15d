"""bitbankDataStore and bitbankPrivateDataStore under the collection contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _contract import CollectionContract, ContractCase, load_messages
from _e2e import until

from datastores import Client, DataStoreCollection
from datastores.exchanges.bitbank.cli import target
from datastores.exchanges.bitbank.private import bitbankPrivateDataStore
from datastores.exchanges.bitbank.store import bitbankDataStore
from datastores.helpers.bitbank import PrivateStream
from datastores.testing import FakeExchange

DATA = Path(__file__).parent / "data"
WS = "wss://stream.bitbank.cc/socket.io/?EIO=4&transport=websocket"


def room(name: str, data: object) -> list[object]:
    return ["message", {"room_name": name, "message": {"data": data}}]


class TestBitbankPublicContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        return ContractCase(
            bitbankDataStore,
            load_messages(DATA / "public.jsonl"),
            WS,
            malformed=[
                room("depth_diff_btc_jpy", {"a": "x", "b": [], "t": 1, "s": "2000"}),
                room("depth_diff_btc_jpy", {"a": [["1"]], "b": [], "t": 1, "s": "2001"}),
                room("depth_diff_btc_jpy", {"a": [], "b": [], "t": 1, "s": None}),
                room("depth_whole_btc_jpy", {"asks": [], "bids": [], "sequenceId": "x"}),
                room("depth_whole_btc_jpy", {"asks": 5, "bids": [], "sequenceId": "3000"}),
                room("transactions_btc_jpy", {"transactions": "x"}),
                room("ticker_btc_jpy", None),
                ["message", {"message": {}}],
                ["other-event", {}],
                room("unknown_room_btc_jpy", {}),
                {"not": "an event"},
                "42[not json",
            ],
            live=target("btc_jpy"),
            # a lost depth_diff cannot be detected (one s counter for every pair,
            # no checksum): the next depth_whole repairs the book
            fault=None,
        )


async def pubnub_session(
    case: ContractCase, fake: FakeExchange, client: Client, collection: DataStoreCollection
) -> None:
    """The close check's session: the private stream is PubNub long-polls, not a
    socket. :class:`PrivateStream` against the fake, subscribed, seeded and polling,
    with a poll in flight and the token renewal pending at close."""
    profile: Any = fake.profile
    profile.poll_timeout = 30.0  # a poll is in flight at close
    stream = PrivateStream(client, collection, renew_interval=600.0)
    assert stream.start()
    await until(lambda: stream.polls >= 1 and len(profile.private.polls) >= 2)


class TestBitbankPrivateContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        return ContractCase(
            bitbankPrivateDataStore,
            load_messages(DATA / "private.jsonl"),
            "wss://contract.invalid/pubnub",
            malformed=[
                {"method": "asset_update", "params": "x"},
                {"method": "spot_order", "params": [{"no": "id"}]},
                {"method": "spot_order_invalidation", "params": {"order_id": "x"}},
                {"method": "margin_position_update", "params": [1]},
                {"method": "unknown_method", "params": []},
                {"params": []},
                [],
            ],
            live=target("btc_jpy"),
            fault=None,
            session=pubnub_session,
        )

    async def test_books_go_unsynced_when_their_connection_reconnects(
        self, case: ContractCase
    ) -> None:
        """No book: the private stream is PubNub, not a socket with books."""
        collection = case.create()
        collection.on_reconnect(None)
        assert list(collection.stores)
        assert not any(hasattr(store, "is_synced") for store in collection.stores.values())
