"""The template against its fake exchange on loopback: the real Client, signing and store.

TODO(<x>): your URLs, subscriptions and symbols; the checks stay (synced, gap recovered,
equal to the fake's book, reconnect, signed request accepted and a wrong key refused).
"""

from __future__ import annotations

import pytest
from _e2e import until

from datastores import Client, DataStoreCollection
from datastores.exchanges._template.cli import target
from datastores.exchanges._template.store import ExampleDataStore
from datastores.testing import FakeExchange

pytestmark = pytest.mark.usefixtures("template_registered")

SYMBOL = "BTC-USD"
WS_URL = "wss://stream.example.invalid/ws"
SUBSCRIBE = [
    {"op": "subscribe", "channel": "book", "symbol": SYMBOL},
    {"op": "subscribe", "channel": "trade", "symbol": SYMBOL},
]


def book_equals_fake(store: ExampleDataStore, fake: FakeExchange) -> bool:
    sides = store.orderbook.sorted({"symbol": SYMBOL})
    bids = {level["price"]: level["size"] for level in sides["bid"]}
    asks = {level["price"]: level["size"] for level in sides["ask"]}
    return fake.book(SYMBOL).differences(bids, asks, depth=100) == []


async def test_book_syncs_recovers_from_a_gap_and_equals_the_fake() -> None:
    async with (
        FakeExchange("_template", seed=7, rate=0) as fake,
        Client(apis=fake.apis, redirects=fake.redirects) as client,
    ):
        store = ExampleDataStore()
        await client.ws_connect(WS_URL, send_json=SUBSCRIBE, hdlr_json=store.onmessage)
        await fake.wait_for_connections(1)
        book = store.orderbook
        await until(lambda: book.is_synced(SYMBOL))
        fake.tick(50)
        await until(lambda: book.status(SYMBOL).last_update_id == fake.book(SYMBOL).last_update_id)
        assert book_equals_fake(store, fake)
        assert len(store.trade) > 0

        fake.skip_sequence(SYMBOL)  # the next update is withheld: a gap
        fake.tick(5)
        await until(lambda: book.status(SYMBOL).gaps == 1)
        # Recovered by resubscribing: the fake answers with a new snapshot.
        await until(lambda: book.is_synced(SYMBOL))
        fake.tick(20)
        await until(lambda: book.status(SYMBOL).last_update_id == fake.book(SYMBOL).last_update_id)
        assert book_equals_fake(store, fake)
        status = book.status(SYMBOL)
        assert (status.gaps, status.resyncs) == (1, 1)
        book._check()

        fake.send_malformed(SYMBOL)
        fake.send_unknown_channel(SYMBOL)
        await until(lambda: store.statistics().unhandled.get("example-unknown") == 1)
        stats = DataStoreCollection.statistics(store)
        assert stats.dropped == {"book message with unreadable ids": 1}
        assert stats.handler_errors == 0


async def test_a_reconnect_unsyncs_the_book_and_the_resubscription_resyncs_it() -> None:
    async with (
        FakeExchange("_template", seed=8, rate=0) as fake,
        Client(apis=fake.apis, redirects=fake.redirects) as client,
    ):
        store = ExampleDataStore()
        await client.ws_connect(WS_URL, send_json=SUBSCRIBE, hdlr_json=store.onmessage)
        await fake.wait_for_connections(1)
        await until(lambda: store.orderbook.is_synced(SYMBOL))
        fake.drop_connections()
        await until(lambda: store.orderbook.status(SYMBOL).resyncs == 1)
        await fake.wait_for_connections(1)
        await until(lambda: store.orderbook.is_synced(SYMBOL))
        fake.tick(10)
        await until(
            lambda: (
                store.orderbook.status(SYMBOL).last_update_id == fake.book(SYMBOL).last_update_id
            )
        )
        assert book_equals_fake(store, fake)


async def test_signed_requests_pass_the_fakes_verifier() -> None:
    async with FakeExchange("_template", rate=0) as fake:
        fake.set_balance("USD", "1000.5")
        async with Client(apis=fake.apis, redirects=fake.redirects) as client:
            response = await client.fetch("GET", "https://api.example.invalid/api/v1/account?x=1")
            assert response.response.status == 200
            assert response.data["balances"] == [{"asset": "USD", "free": "1000.5", "locked": "0"}]
        wrong = {"example": [fake.api_key, "not-the-secret"]}
        async with Client(apis=wrong, redirects=fake.redirects) as client:
            response = await client.fetch("GET", "https://api.example.invalid/api/v1/account")
            assert response.response.status == 401
            assert response.data["code"] == 10001


def test_the_template_is_hidden_from_users() -> None:
    import datastores
    from datastores._cli._targets import TARGETS
    from datastores.exchanges import EXCHANGES
    from datastores.testing.profiles import EXCHANGES as FAKES
    from datastores.testing.profiles import FOLDERS, available, resolve_profiles

    assert "_template" not in EXCHANGES
    assert not any("example" in name.lower() for name in datastores.__all__)
    assert "_template" not in TARGETS
    assert "example" not in TARGETS
    assert "_template" not in FAKES
    assert "_template" not in FOLDERS
    assert "_template" not in available()
    # ...but served when named exactly, and its CLI target is a valid one.
    assert [p.name for p in resolve_profiles("_template")] == ["_template"]
    assert target("btc-usd").create_store().__class__ is ExampleDataStore
    assert target("btc-usd").ws_url.endswith(".invalid/ws")
