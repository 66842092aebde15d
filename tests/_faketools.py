"""Tools of the tests that run a store against a fake exchange over a real WebSocket:
let a book sync, then wait until it caught up with the fake and compare the books."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from datastores.testing import FakeExchange


async def settle(fake: FakeExchange, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Publish one update at a time until ``condition`` holds (a book only resyncs
    when diffs arrive)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        fake.tick(1)
        await fake.drain()
        await asyncio.sleep(0.005)


async def caught_up(store: Any, fake: FakeExchange, symbol: str, venue: str) -> list[str]:
    """Wait until the store has applied everything published, then compare books."""
    await fake.drain()
    truth = fake.book(symbol, venue=venue)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5.0
    while store.orderbook.status(symbol).last_update_id != truth.last_update_id:
        if loop.time() > deadline:
            raise AssertionError(
                f"store at {store.orderbook.status(symbol)}, exchange at {truth.last_update_id}"
            )
        await asyncio.sleep(0.002)
    store.orderbook._check()
    asks, bids = store.orderbook.levels(symbol)
    return truth.differences(dict(bids), dict(asks), 100)  # type: ignore[arg-type]
