"""Binance public data: a verified order book and the latest trades, printed live.

Run:  python examples/binance_orderbook.py [SYMBOL] [MARKET] [--fake] [--seconds N]
(no API key needed; MARKET is spot, usdsm or coinm, default spot; COIN-M symbols
look like BTCUSD_PERP; --fake runs it offline against the built-in fake exchange).

The store fetches the REST depth snapshot itself (through the client it is given)
and follows Binance's documented procedure: diffs are buffered until the snapshot,
bridged to it, then checked one by one. `synced` turns False on a gap or a
reconnect and back to True once a fresh snapshot has been applied.
"""

from __future__ import annotations

import argparse
import sys

from _example import add_options, run, session

import datastores

STORES = {
    "spot": datastores.BinanceSpotDataStore,
    "usdsm": datastores.BinanceUSDSMDataStore,
    "coinm": datastores.BinanceCOINMDataStore,
}


def stream_urls(symbol: str, market: str) -> list[str]:
    name = symbol.lower()
    if market == "spot":
        return [f"wss://stream.binance.com:9443/stream?streams={name}@depth@100ms/{name}@aggTrade"]
    if market == "usdsm":
        # USDⓈ-M routes streams by path: depth on /public, trades on /market.
        return [
            f"wss://fstream.binance.com/public/stream?streams={name}@depth@100ms",
            f"wss://fstream.binance.com/market/stream?streams={name}@aggTrade",
        ]
    return [f"wss://dstream.binance.com/stream?streams={name}@depth@100ms/{name}@aggTrade"]


async def main(symbol: str, market: str, args: argparse.Namespace) -> None:
    store = STORES[market]()
    async with session(args, f"binance-{market}", symbols=[symbol]) as current:
        client = current.client
        store.client = client  # used for depth snapshots (unsigned), resyncs included
        for url in stream_urls(symbol, market):
            await client.ws_connect(url, hdlr_json=store.onmessage)
        while True:
            await store.orderbook.wait()
            status = store.orderbook.status(symbol)
            book = store.orderbook.sorted({"s": symbol}, limit=5)
            trades = store.trade.find({"s": symbol})[-3:]
            print("\033[2J\033[H", end="")  # clear the terminal
            print(f"{symbol} ({market})  synced={status.synced}  u={status.last_update_id}")
            print(
                f"updates={status.updates} gaps={status.gaps} resyncs={status.resyncs} "
                f"stale={status.stale} buffered={status.buffered}"
            )
            if not status.synced:
                print(f"waiting for a snapshot ({status.last_error or 'starting'})")
                continue
            for ask in reversed(book["a"]):
                print(f"        {ask['p']:>14} {ask['q']:>14}")
            for bid in book["b"]:
                print(f"{bid['q']:>14} {bid['p']:>14}")
            for trade in trades:
                side = "SELL" if trade["m"] else "BUY"
                print(f"trade {side:<4} {trade['q']:>12} @ {trade['p']}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("symbol", nargs="?", default="BTCUSDT", help="e.g. BTCUSDT")
    parser.add_argument("market", nargs="?", default="spot", choices=sorted(STORES))
    return add_options(parser).parse_args()


if __name__ == "__main__":
    args = parse_args()
    sys.exit(run(lambda: main(args.symbol.upper(), args.market, args), args))
