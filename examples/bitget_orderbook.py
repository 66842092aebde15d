# /// script
# requires-python = ">=3.10"
# dependencies = ["datastores"]
# ///
"""Watch a Bitget (v2) order book, verified by checksum, and print its top levels.

    python examples/bitget_orderbook.py BTCUSDT                     # SPOT, full book
    python examples/bitget_orderbook.py BTCUSDT --inst-type USDT-FUTURES --depth 3
    python examples/bitget_orderbook.py ETHUSDT --channel books15 --count 20

Every update of the ``books`` channel is checked against Bitget's checksum and
``seq``; a mismatch marks the book unsynced and resubscribes it, and the status
line says so until the new snapshot arrives. Public data: no API key needed.
``--fake`` runs it offline against the built-in fake exchange; ``--url`` points it at
another server (the demo host).
"""

from __future__ import annotations

import argparse
import sys

from _example import add_options, run, session

from datastores import BitgetV2DataStore

PUBLIC_WS = "wss://ws.bitget.com/v2/ws/public"


def render(store: BitgetV2DataStore, inst_type: str, inst_id: str, depth: int) -> str:
    book = store.book
    top = book.sorted({"instType": inst_type, "instId": inst_id}, limit=depth)
    status = book.status(inst_id, inst_type=inst_type)
    lines = [
        f"{inst_type}:{inst_id}  synced={status.synced}  seq={status.last_update_id}  "
        f"updates={status.updates}  checksum_failures={status.checksum_failures}  "
        f"gaps={status.gaps}  resyncs={status.resyncs}"
    ]
    for ask in reversed(top["asks"]):
        lines.append(f"    ask {ask['price']:>14} {ask['amount']:>14}")
    for bid in top["bids"]:
        lines.append(f"    bid {bid['price']:>14} {bid['amount']:>14}")
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    store = BitgetV2DataStore()
    subscription = {"instType": args.inst_type, "channel": args.channel, "instId": args.inst_id}
    fake_symbol = f"{args.inst_type}:{args.inst_id}"  # the fake's "<instType>:<instId>"
    async with session(args, "bitget", symbols=[fake_symbol]) as current:
        client = current.client
        store.client = client  # pending resubscriptions end when the client closes
        # The subscription is re-sent after every reconnect; the store marks the
        # book unsynced on reconnect and the fresh snapshot resyncs it.
        await client.ws_connect(
            args.url,
            send_json={"op": "subscribe", "args": [subscription]},
            hdlr_json=store.onmessage,
        )
        shown = 0
        while args.count == 0 or shown < args.count:
            await store.book.wait()
            print(render(store, args.inst_type, args.inst_id, args.depth), flush=True)
            shown += 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inst_id", help="instrument, e.g. BTCUSDT")
    parser.add_argument("--inst-type", default="SPOT", help="SPOT, USDT-FUTURES, COIN-FUTURES...")
    parser.add_argument(
        "--channel", default="books", choices=["books", "books1", "books5", "books15"]
    )
    parser.add_argument("--depth", type=int, default=5, help="levels to print per side")
    parser.add_argument("--count", type=int, default=0, help="stop after N changes (0: never)")
    parser.add_argument("--url", default=PUBLIC_WS, help="WebSocket URL")
    return add_options(parser).parse_args()


if __name__ == "__main__":
    args = parse_args()
    sys.exit(run(lambda: main(args), args))
