"""Binance private state: open orders and balances (Spot), positions too (USDⓈ-M).

Run:  DATASTORES_APIS=apis.json python examples/binance_user_data.py [spot|usdsm]
with apis.json = {"binance": ["API_KEY", "API_SECRET"]} (an HMAC key; use the
"binancespot_testnet" / "binancefuture_testnet" names and the testnet hosts to try
it without real funds).

Spot (Binance retired Spot listenKeys in 2026): the user data stream is a
subscription on the WebSocket API. The request below is sent with empty params;
the WebSocketApp signs it (apiKey, timestamp, signature) and sends it again after
every reconnect. Binance answers {"result": {"subscriptionId": N}} and then pushes
{"subscriptionId": N, "event": {...}}, which the store routes like stream events.

USDⓈ-M: initialize() with POST /fapi/v1/listenKey stores store.listenkey and starts
the keepalive (PUT every 30 minutes). If the key expires, the store creates a new
one and, because store.listenkey_app is set, points the app's URL at it and makes
it reconnect.

In both cases the stream is opened before the REST requests, so no change falls
between the REST answers and the first event.
"""

from __future__ import annotations

import asyncio
import sys

import datastores


async def spot(client: datastores.Client) -> None:
    store = datastores.BinanceSpotDataStore()
    await client.ws_connect(
        "wss://ws-api.binance.com:443/ws-api/v3",
        send_json={"id": 1, "method": "userDataStream.subscribe.signature", "params": {}},
        hdlr_json=store.onmessage,
    )
    await store.initialize(
        client.get("https://api.binance.com/api/v3/account"),
        client.get("https://api.binance.com/api/v3/openOrders"),
    )
    while True:
        for order in store.order.find():
            print(
                f"order {order['s']} {order['S']} {order['q']} @ {order['p']} "
                f"{order.get('X')} (filled {order['z']})"
            )
        for balance in store.account.find():
            if float(balance["f"]) or float(balance["l"]):
                print(f"balance {balance['a']} free {balance['f']} locked {balance['l']}")
        print("--")
        await store.order.wait()


async def usdsm(client: datastores.Client) -> None:
    store = datastores.BinanceUSDSMDataStore()
    rest = "https://fapi.binance.com"
    await store.initialize(client.post(f"{rest}/fapi/v1/listenKey"))
    app = await client.ws_connect(
        f"wss://fstream.binance.com/private/ws/{store.listenkey}", hdlr_json=store.onmessage
    )
    store.listenkey_app = app
    await store.initialize(
        client.get(f"{rest}/fapi/v1/openOrders"),
        client.get(f"{rest}/fapi/v3/balance"),
        client.get(f"{rest}/fapi/v3/positionRisk"),
    )
    while True:
        for order in store.order.find():
            print(f"order {order['s']} {order['S']} {order['q']} @ {order['p']} {order['X']}")
        for position in store.position.find():
            if float(position["pa"]):
                print(
                    f"position {position['s']} {position['ps']} {position['pa']} @ {position['ep']}"
                )
        for balance in store.balance.find():
            print(f"balance {balance['a']} wallet {balance['wb']}")
        print("--")
        await store.wait()


async def main(market: str) -> None:
    async with datastores.Client() as client:
        await (spot(client) if market == "spot" else usdsm(client))


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "spot"))
    except KeyboardInterrupt:
        pass
