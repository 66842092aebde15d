"""Bybit public data: a verified order book and the latest trades, printed live.

Run:  python examples/bybit_orderbook.py [SYMBOL] [CATEGORY] [--fake] [--seconds N]
(no API key needed; CATEGORY is spot, linear or inverse, default linear; --fake runs
it offline against the built-in fake exchange, spot or linear).

The book shows its integrity state: `synced` turns False on a sequence gap and
back to True once the store has resubscribed and received a fresh snapshot.
"""

from __future__ import annotations

import argparse
import sys

from _example import add_options, run, session

import datastores


async def main(symbol: str, category: str, args: argparse.Namespace) -> None:
    store = datastores.BybitDataStore()
    async with session(args, f"bybit-{category}", symbols=[symbol]) as current:
        await current.client.ws_connect(
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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("symbol", nargs="?", default="BTCUSDT", help="e.g. BTCUSDT")
    parser.add_argument(
        "category", nargs="?", default="linear", choices=["spot", "linear", "inverse"]
    )
    return add_options(parser).parse_args()


if __name__ == "__main__":
    args = parse_args()
    sys.exit(run(lambda: main(args.symbol.upper(), args.category, args), args))
