"""GMOCoinHelper's requests against the fake, the token rules, and the fake's request limit."""

from __future__ import annotations

import aiohttp
import pytest

from datastores import Client
from datastores.exchanges.gmocoin._rest import (
    GMOCoinResponseError,
    is_token_refused,
    token_of,
    with_token,
)
from datastores.exchanges.gmocoin.store import GMOCoinDataStore
from datastores.helpers import GMOCoinHelper
from datastores.helpers import GMOCoinResponseError as Exported
from datastores.testing import FakeExchange


def refusal(code: str) -> GMOCoinResponseError:
    return GMOCoinResponseError(endpoint="PUT /private/v1/ws-auth", status=1, code=code, message="")


def test_token_rules() -> None:
    assert Exported is GMOCoinResponseError
    assert isinstance(refusal("ERR-5106"), ValueError)
    assert is_token_refused(refusal("ERR-5106"))
    assert is_token_refused(refusal("ERR-9999"))
    for waiting in ("ERR-5201", "ERR-5202", "ERR-5003"):
        assert not is_token_refused(refusal(waiting))
    assert not is_token_refused(aiohttp.ClientError())
    url = "wss://api.coin.z.com/ws/private/v1/old"
    assert token_of(url) == "old"
    assert token_of("wss://api.coin.z.com/ws/public/v1") is None
    assert str(with_token(url, "new")) == "wss://api.coin.z.com/ws/private/v1/new"
    assert str(with_token(None, "t")) == "wss://api.coin.z.com/ws/private/v1/t"


async def test_create_extend_and_delete_against_the_fake() -> None:
    async with (
        FakeExchange("gmocoin", rate=0) as fake,
        Client(apis=fake.apis, redirects=fake.redirects) as client,
    ):
        helper = GMOCoinHelper(client)
        token = await helper.create_access_token()
        assert fake.profile.rest.token_valid(token)  # type: ignore[attr-defined]
        await helper.extend_access_token(token)
        await helper.delete_access_token(token)
        with pytest.raises(GMOCoinResponseError, match="ERR-5106") as refused:
            await helper.extend_access_token(token)
        assert is_token_refused(refused.value)
        assert token not in str(refused.value)
        fake.profile.start_maintenance()  # type: ignore[attr-defined]
        with pytest.raises(GMOCoinResponseError, match="ERR-5201") as waiting:
            await helper.create_access_token()
        assert not is_token_refused(waiting.value)
    wrong = {"gmocoin": ["fake-api-key", "not-the-secret"]}
    async with (
        FakeExchange("gmocoin", rate=0) as fake,
        Client(apis=wrong, redirects=fake.redirects) as client,
    ):
        with pytest.raises(GMOCoinResponseError, match="ERR-5010"):
            await GMOCoinHelper(client).create_access_token()


async def test_the_fake_refuses_a_second_request_within_a_second() -> None:
    async with FakeExchange("gmocoin", rate=0) as fake, aiohttp.ClientSession() as session:
        url = fake.redirects["api.coin.z.com"] + "/ws/public/v1"
        store = GMOCoinDataStore()
        async with session.ws_connect(url) as ws:  # no pacing: a burst of three
            for symbol in ("BTC_JPY", "BTC", "BTC"):
                await ws.send_json(
                    {"command": "subscribe", "channel": "orderbooks", "symbol": symbol}
                )
            for _ in range(3):
                store.onmessage(await ws.receive_json(timeout=5))
        assert fake.profile.rejected_requests == 2  # type: ignore[attr-defined]
        assert store.orderbooks.is_synced("BTC_JPY")
        assert store.statistics().unhandled == {"error ERR-5003": 2}
