"""``datastores replay``: feed a recording through a store and print what it ends with."""

from __future__ import annotations

import argparse
import asyncio

from .._errors import ConfigurationError
from .._orderbook import OrderBookStore
from .._view import format_number
from ..apps.record import read_recording, replay
from ._targets import load_store_class

__all__ = ["run"]


def _store_name(args: argparse.Namespace) -> str:
    if args.store:
        return str(args.store)
    for record in read_recording(args.file):
        store = record.get("store") if record.get("kind") == "meta" else None
        if isinstance(store, str):
            return store
        break
    raise ConfigurationError(
        f"{args.file} does not name its store; pass one, e.g. BinanceSpotDataStore"
    )


async def _replay(args: argparse.Namespace) -> int:
    collection = load_store_class(_store_name(args))()
    stats = await replay(args.file, collection, speed=args.speed)
    print(
        f"replayed {stats.messages} messages, {stats.responses} REST responses, "
        f"{stats.reconnects} reconnects ({stats.span:.1f} s recorded) "
        f"into {type(collection).__name__}"
    )
    for name, store in collection.stores.items():
        if isinstance(store, OrderBookStore):
            for symbol in store.symbols:
                status = store.status(symbol)
                ask, bid = store.best(symbol)
                best_bid = format_number(bid[store._PRICE]) if bid else "-"
                best_ask = format_number(ask[store._PRICE]) if ask else "-"
                print(
                    f"{name} {symbol}: synced={'yes' if status.synced else 'no'} "
                    f"levels={status.bids + status.asks} best_bid={best_bid} "
                    f"best_ask={best_ask} updates={status.updates} gaps={status.gaps} "
                    f"resyncs={status.resyncs}"
                )
        elif len(store):
            print(f"{name}: {len(store)} items")
    return 0


def run(args: argparse.Namespace) -> int:
    """``datastores replay``."""
    try:
        return asyncio.run(_replay(args))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot replay {args.file}: {exc}") from exc
