"""Binance fake venues: signed REST, listenKeys, user streams, scripted private events."""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from datastores import _json
from datastores._client import Client
from datastores.testing import FakeExchange
from datastores.testing.profiles.binance.profile import binance_signature


def _ws(fake: FakeExchange, venue: str, path: str) -> str:
    return "ws" + fake.venues[venue].url[4:] + path


async def test_signed_rest_through_the_real_client(fake: FakeExchange) -> None:
    fake.set_balance("USDT", "1000.5", "2", venue="binance-spot")
    order = fake.place_order("BTCUSDT", "BUY", "0.01", "60000", venue="binance-spot")
    async with Client(apis=fake.apis, redirects=fake.redirects) as client:
        account = await client.fetch("GET", "https://api.binance.com/api/v3/account")
        assert account.response.status == 200
        assert account.data["balances"] == [{"asset": "USDT", "free": "1000.5", "locked": "2"}]
        orders = await client.fetch(
            "GET", "https://api.binance.com/api/v3/openOrders", params={"symbol": "BTCUSDT"}
        )
        assert [o["orderId"] for o in orders.data] == [order.order_id]
        assert orders.data[0]["origQty"] == "0.01"
        assert orders.data[0]["status"] == "NEW"
        fake.set_position("BTCUSDT", "-0.5", "64000", venue="binance-usdsm")
        positions = await client.fetch("GET", "https://fapi.binance.com/fapi/v2/positionRisk")
        assert positions.data[0]["positionAmt"] == "-0.5"
    async with Client(apis={"binance": ["fake-api-key", "bad"]}, redirects=fake.redirects) as bad:
        refused = await bad.fetch("GET", "https://api.binance.com/api/v3/account")
        assert (refused.response.status, refused.data["code"]) == (400, -1022)
    async with Client(apis={"binance": ["who", "bad"]}, redirects=fake.redirects) as bad:
        refused = await bad.fetch("GET", "https://fapi.binance.com/fapi/v2/balance")
        assert (refused.response.status, refused.data["code"]) == (401, -2015)


async def test_signed_rest_checks_timestamp_and_key_header(
    fake: FakeExchange, session: aiohttp.ClientSession
) -> None:
    base = fake.venues["binance-spot"].url
    old = int(time.time() * 1000) - 60_000
    query = f"timestamp={old}"
    signed = f"{query}&signature={binance_signature('fake-api-secret', query)}"
    headers = {"X-MBX-APIKEY": "fake-api-key"}
    async with session.get(f"{base}/api/v3/account?{signed}", headers=headers) as r:
        assert (await r.json())["code"] == -1021
    async with session.get(f"{base}/api/v3/account?{signed}") as r:
        assert (r.status, (await r.json())["code"]) == (401, -2014)
    async with session.get(f"{base}/api/v3/account?{query}", headers=headers) as r:
        assert (await r.json())["code"] == -1102


async def test_futures_listen_key_stream_and_scripted_events(
    fake: FakeExchange, session: aiohttp.ClientSession
) -> None:
    venue = "binance-usdsm"
    base = fake.venues[venue].url
    async with session.post(base + "/fapi/v1/listenKey") as r:
        assert (r.status, (await r.json())["code"]) == (401, -2014)
    headers = {"X-MBX-APIKEY": "fake-api-key"}
    async with session.post(base + "/fapi/v1/listenKey", headers=headers) as r:
        key = (await r.json())["listenKey"]
    async with session.post(base + "/fapi/v1/listenKey", headers=headers) as r:
        assert (await r.json())["listenKey"] == key  # an active key is returned again
    async with session.ws_connect(_ws(fake, venue, f"/ws/{key}")) as ws:
        await fake.wait_for_connections(1)
        order = fake.place_order("ETHUSDT", "SELL", "2", "3300", venue=venue)
        fake.fill_order(order.order_id, "0.5", "3301")
        fake.fill_order(order.order_id)
        other = fake.place_order("ETHUSDT", "BUY", "1", "3000", venue=venue)
        fake.cancel_order(other.order_id)
        fake.set_balance("USDT", "500", venue=venue)
        fake.set_position("ETHUSDT", "-2", "3300.75", venue=venue)
        events = [await ws.receive_json() for _ in range(7)]
        updates = [e["o"] for e in events[:5]]
        assert [(u["x"], u["X"]) for u in updates] == [
            ("NEW", "NEW"),
            ("TRADE", "PARTIALLY_FILLED"),
            ("TRADE", "FILLED"),
            ("NEW", "NEW"),
            ("CANCELED", "CANCELED"),
        ]
        assert (updates[1]["l"], updates[1]["L"], updates[1]["z"]) == ("0.5", "3301", "0.5")
        assert (updates[2]["l"], updates[2]["z"]) == ("1.5", "2")
        assert events[5]["a"]["B"] == [{"a": "USDT", "wb": "500", "cw": "500", "bc": "0"}]
        assert events[6]["a"]["P"][0]["pa"] == "-2"
        assert fake.expire_listen_key(venue=venue) == [key]
        expired = await ws.receive_json()
        assert expired == {"e": "listenKeyExpired", "E": expired["E"], "listenKey": key}
        assert (await ws.receive()).type == aiohttp.WSMsgType.CLOSE
    async with session.put(base + "/fapi/v1/listenKey", headers=headers) as r:
        assert (r.status, (await r.json())["code"]) == (400, -1125)


def _ws_api_request(params: dict[str, Any], secret: str, request_id: int = 1) -> dict[str, Any]:
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
    signed = {**params, "signature": binance_signature(secret, payload)}
    return {"id": request_id, "method": "userDataStream.subscribe.signature", "params": signed}


async def test_spot_user_data_over_the_websocket_api(
    fake: FakeExchange, session: aiohttp.ClientSession
) -> None:
    async with session.ws_connect(_ws(fake, "binance-spot", "/ws-api/v3")) as ws:
        params = {"apiKey": "fake-api-key", "timestamp": int(time.time() * 1000)}
        await ws.send_json(_ws_api_request(params, "wrong-secret", 1))
        refused = await ws.receive_json()
        assert refused["status"] == 400
        assert refused["error"]["code"] == -1022
        await ws.send_json(_ws_api_request(params, "fake-api-secret", 2))
        assert await ws.receive_json() == {
            "id": 2,
            "status": 200,
            "result": {"subscriptionId": 0},
        }
        order = fake.place_order("BTCUSDT", "BUY", "0.1", "64000", venue="binance-spot")
        fake.fill_order(order.order_id)
        fake.set_balance("BTC", "0.1", venue="binance-spot")
        new, filled, balance = [await ws.receive_json() for _ in range(3)]
    assert new["subscriptionId"] == 0
    assert (new["event"]["e"], new["event"]["x"], new["event"]["i"]) == (
        "executionReport",
        "NEW",
        order.order_id,
    )
    assert (filled["event"]["X"], filled["event"]["l"]) == ("FILLED", "0.1")
    assert balance["event"]["e"] == "outboundAccountPosition"
    assert balance["event"]["B"] == [{"a": "BTC", "f": "0.1", "l": "0"}]
    assert _json.loads(_json.dumps(balance)) == balance
