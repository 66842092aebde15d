"""Binance private state: open orders and balances (Spot), positions too (USDⓈ-M).

Run:  DATASTORES_APIS=apis.json python examples/binance_user_data.py [spot|usdsm]
with apis.json = {"binance": ["API_KEY", "API_SECRET"]} (an HMAC key; use the
"binancespot_testnet" / "binancefuture_testnet" names and the testnet hosts to try
it without real funds). Offline, without keys: add --fake (the built-in fake
exchange, whose scripted account gets a balance and an order after connecting).

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

import argparse
import asyncio
import sys

from _example import Session, add_options, run, session

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


async def script_fake_account(current: Session, market: str) -> None:
    """--fake: once the example is connected, the fake's account changes."""
    fake = current.fake
    assert fake is not None
    await fake.wait_for_connections(1)
    await asyncio.sleep(0.5)  # let initialize() answer first: the events come after it
    fake.set_balance("USDT", "1000")
    order = fake.place_order("BTCUSDT", "BUY", "0.010", "60000")
    if market == "usdsm":
        fake.set_position("BTCUSDT", "0.005", "60000")
    fake.fill_order(order.order_id, "0.005")


async def main(args: argparse.Namespace) -> None:
    async with session(args, f"binance-{args.market}", symbols=["BTCUSDT"]) as current:
        if current.fake is not None:
            current.script(script_fake_account(current, args.market))
        await (spot(current.client) if args.market == "spot" else usdsm(current.client))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("market", nargs="?", default="spot", choices=["spot", "usdsm"])
    args = add_options(parser).parse_args()
    sys.exit(run(lambda: main(args), args))
