"""Bybit private state: live orders, positions and wallet, bootstrapped over REST.

Run:  DATASTORES_APIS=apis.json python examples/bybit_private.py
with apis.json = {"bybit": ["API_KEY", "API_SECRET"]} (use "bybit_testnet" and the
testnet hosts below to try it without real funds). Offline, without keys: add
--fake (the built-in fake exchange, whose scripted account gets a balance, an
order and a position after connecting).

The WebSocket subscription comes first so no change is missed between the REST
answers and the stream; initialize() then loads what existed before.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from _example import Session, add_options, run, session

import datastores

REST = "https://api.bybit.com"
PRIVATE_WS = "wss://stream.bybit.com/v5/private"


async def script_fake_account(current: Session) -> None:
    """--fake: once the example is connected, the fake's account changes."""
    fake = current.fake
    assert fake is not None
    await fake.wait_for_connections(1)
    await asyncio.sleep(0.5)  # let initialize() answer first: the events come after it
    fake.set_balance("USDT", "1000")
    order = fake.place_order("BTCUSDT", "BUY", "0.010", "60000")
    fake.set_position("BTCUSDT", "0.005", "60000")
    fake.fill_order(order.order_id, "0.005")


async def main(args: argparse.Namespace) -> None:
    store = datastores.BybitDataStore()
    async with session(args, "bybit-linear", symbols=["BTCUSDT"]) as current:
        client = current.client
        if current.fake is not None:
            current.script(script_fake_account(current))
        await client.ws_connect(
            PRIVATE_WS,
            send_json={"op": "subscribe", "args": ["order", "execution", "position", "wallet"]},
            hdlr_json=store.onmessage,
        )
        await store.initialize(
            client.get(
                f"{REST}/v5/order/realtime", params={"category": "linear", "settleCoin": "USDT"}
            ),
            client.get(
                f"{REST}/v5/position/list", params={"category": "linear", "settleCoin": "USDT"}
            ),
            client.get(f"{REST}/v5/account/wallet-balance", params={"accountType": "UNIFIED"}),
        )
        while True:
            for order in store.order.find():
                print(
                    f"order {order['symbol']} {order['side']} {order['qty']} @ {order['price']} "
                    f"{order['orderStatus']} (filled {order.get('cumExecQty', '0')})"
                )
            for position in store.position.find():
                if position.get("size") not in ("0", ""):
                    print(f"position {position['symbol']} {position['side']} {position['size']}")
            wallet = store.wallet.get({"accountType": "UNIFIED"})
            if wallet is not None:
                print(f"equity {wallet.get('totalEquity')} USD")
            print("--")
            await store.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args = add_options(parser).parse_args()
    sys.exit(run(lambda: main(args), args))
