"""Bybit private state: live orders, positions and wallet, bootstrapped over REST.

Run:  DATASTORES_APIS=apis.json python examples/bybit_private.py
with apis.json = {"bybit": ["API_KEY", "API_SECRET"]} (use "bybit_testnet" and the
testnet hosts below to try it without real funds).

The WebSocket subscription comes first so no change is missed between the REST
answers and the stream; initialize() then loads what existed before.
"""

from __future__ import annotations

import asyncio

import datastores

REST = "https://api.bybit.com"
PRIVATE_WS = "wss://stream.bybit.com/v5/private"


async def main() -> None:
    store = datastores.BybitDataStore()
    async with datastores.Client() as client:
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
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
