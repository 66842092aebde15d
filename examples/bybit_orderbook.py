"""Bybit public data: a verified order book and the latest trades, printed live.

Run:  python examples/bybit_orderbook.py [SYMBOL] [CATEGORY]
(no API key needed; CATEGORY is spot, linear or inverse, default linear).

The book shows its integrity state: `synced` turns False on a sequence gap and
back to True once the store has resubscribed and received a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import sys

import datastores


async def main(symbol: str, category: str) -> None:
    store = datastores.BybitDataStore()
    async with datastores.Client() as client:
        await client.ws_connect(
            f"wss://stream.bybit.com/v5/public/{category}",
            send_json={
                "op": "subscribe",
                "args": [f"orderbook.50.{symbol}", f"publicTrade.{symbol}"],
            },
            hdlr_json=store.onmessage,
        )
        while True:
            await store.orderbook.wait()
            book = store.orderbook.sorted({"s": symbol}, limit=5)
            status = store.orderbook.status(symbol)
            trades = store.trade.find({"s": symbol})[-3:]
            print("\033[2J\033[H", end="")  # clear the terminal
            print(f"{symbol} ({category})  synced={status.synced}  u={status.last_update_id}")
            print(f"updates={status.updates} gaps={status.gaps} resyncs={status.resyncs}")
            for ask in reversed(book["a"]):
                print(f"        {ask['p']:>12} {ask['v']:>12}")
            for bid in book["b"]:
                print(f"{bid['v']:>12} {bid['p']:>12}")
            for trade in trades:
                print(f"trade {trade['S']:<4} {trade['v']:>10} @ {trade['p']}")


if __name__ == "__main__":
    args = sys.argv[1:]
    try:
        asyncio.run(main(args[0] if args else "BTCUSDT", args[1] if len(args) > 1 else "linear"))
    except KeyboardInterrupt:
        pass
