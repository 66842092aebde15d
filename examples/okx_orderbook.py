# /// script
# requires-python = ">=3.10"
# dependencies = ["datastores"]
# ///
"""Watch an OKX order book, verified by seqId (and checksum), and print its top levels.

    python examples/okx_orderbook.py BTC-USDT                       # books, 400 levels
    python examples/okx_orderbook.py BTC-USDT-SWAP --channel books5 --depth 3
    python examples/okx_orderbook.py ETH-USDT --with-bbo --count 20  # books + bbo-tbt
    python examples/okx_orderbook.py BTC-USDT --demo                 # demo trading market

Every update is checked against the previous one (``prevSeqId == last seqId``;
keep-alives and sequence resets after maintenance are allowed) and against
OKX's checksum while it is non-zero. A break marks the book unsynced and starts
a recovery (resubscribe, or a REST snapshot now that OKX is removing the
initial WebSocket snapshot); the status line says so until the book is whole
again. Public data: no API key needed. ``--fake`` runs it offline against the
built-in fake exchange; ``--url`` points it at another server.
"""

from __future__ import annotations

import argparse
import sys

from _example import add_options, run, session

from datastores import OKXDataStore

PUBLIC_WS = "wss://ws.okx.com:8443/ws/v5/public"
DEMO_WS = "wss://wspap.okx.com:8443/ws/v5/public"


def render(store: OKXDataStore, inst_id: str, depth: int) -> str:
    book = store.books
    top = book.sorted({"instId": inst_id}, limit=depth)
    status = book.status(inst_id)
    lines = [
        f"{inst_id} via {store.book_channel(inst_id)}  synced={status.synced}  "
        f"seqId={status.last_update_id}  updates={status.updates}  gaps={status.gaps}  "
        f"checksum_failures={status.checksum_failures}  resyncs={status.resyncs}"
        + (f"  ({status.last_error})" if not status.synced and status.last_error else "")
    ]
    for ask in reversed(top["asks"]):
        lines.append(f"    ask {ask['px']:>14} {ask['sz']:>14}")
    for bid in top["bids"]:
        lines.append(f"    bid {bid['px']:>14} {bid['sz']:>14}")
    bbo = store.books_by_channel.get("bbo-tbt")
    if bbo is not None:
        ask, bid = bbo.best(inst_id)
        if ask is not None and bid is not None:
            lines.append(f"    bbo-tbt {bid['px']} / {ask['px']}")
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    store = OKXDataStore()
    url = args.url or (DEMO_WS if args.demo else PUBLIC_WS)
    subscriptions = [{"channel": args.channel, "instId": args.inst_id}]
    if args.with_bbo:
        subscriptions.insert(0, {"channel": "bbo-tbt", "instId": args.inst_id})
    async with session(args, "okx-demo" if args.demo else "okx", symbols=[args.inst_id]) as current:
        client = current.client
        # The store fetches REST snapshots through this client when a subscription
        # starts without a WebSocket snapshot; its tasks end when the client closes.
        store.client = client
        # Subscriptions are re-sent after every reconnect; the store marks the
        # books of the lost connection unsynced and the new data resyncs them.
        await client.ws_connect(
            url,
            send_json={"op": "subscribe", "args": subscriptions},
            hdlr_json=store.onmessage,
        )
        shown = 0
        while args.count == 0 or shown < args.count:
            await store.books.wait()
            print(render(store, args.inst_id, args.depth), flush=True)
            shown += 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inst_id", help="instrument, e.g. BTC-USDT or BTC-USDT-SWAP")
    parser.add_argument(
        "--channel",
        default="books",
        choices=["books", "books5", "bbo-tbt", "books50-l2-tbt", "books-l2-tbt"],
        help="book channel (the tbt channels need a VIP account and credentials)",
    )
    parser.add_argument("--with-bbo", action="store_true", help="also subscribe to bbo-tbt")
    parser.add_argument("--depth", type=int, default=5, help="levels to print per side")
    parser.add_argument("--count", type=int, default=0, help="stop after N changes (0: never)")
    parser.add_argument("--demo", action="store_true", help="demo trading (wspap.okx.com)")
    parser.add_argument("--url", default=None, help="WebSocket URL (overrides --demo)")
    return add_options(parser).parse_args()


if __name__ == "__main__":
    args = parse_args()
    sys.exit(run(lambda: main(args), args))
