"""Shared by the relay tests: a test collection, state digests, the invariant checker."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import _plaincollection

from datastores import DataStoreCollection, OrderBookStore
from datastores.apps.relay import Mirror, Relay

SYMBOLS = ("BTCUSDT", "ETH.USDT")  # a dot: escaped in the subject


class _Log(_plaincollection.Log):
    _MAXLEN = 5


class Plain(_plaincollection.Plain):
    """The shared test collection (``tests/_plaincollection.py``) with a longer log."""

    _LOG = _Log


def state_of(collection: DataStoreCollection) -> dict[str, Any]:
    """Everything a reader can see: items in order, book levels and verdicts."""
    state: dict[str, Any] = {}
    for name, store in collection.stores.items():
        if isinstance(store, OrderBookStore):
            state[name] = {
                symbol: (
                    [[list(level) for level in side] for side in store.levels(symbol)],
                    store.is_synced(symbol),
                )
                for symbol in store.symbols
                if store.levels(symbol) != ([], []) or store.is_synced(symbol)
            }
        elif len(store):
            state[name] = [dict(item) for item in store]
    return state


def random_message(rng: random.Random, step: int) -> dict[str, Any]:
    """One message of a busy, varied market (book updates most of the time)."""
    symbol = rng.choice(SYMBOLS)
    roll = rng.random()
    if roll < 0.05:
        levels = [[str(100 + i), str(rng.randint(1, 9))] for i in range(1, 6)]
        return {
            "op": "snapshot",
            "s": symbol,
            "a": levels,
            "b": [[str(100 - i), "1"] for i in range(1, 6)],
        }
    if roll < 0.55:
        price = str(
            rng.choice([101, 102, 103, 104, 105])
            if rng.random() < 0.5
            else rng.choice([95, 96, 97, 98, 99])
        )
        side = "a" if float(price) > 100 else "b"
        level = [price, str(rng.randint(0, 5))]
        return {
            "op": "delta",
            "s": symbol,
            "a": [level] if side == "a" else [],
            "b": [level] if side == "b" else [],
        }
    if roll < 0.7:
        return {"op": "insert", "data": [{"id": rng.randint(1, 8), "symbol": symbol, "v": step}]}
    if roll < 0.78:
        return {"op": "update", "data": [{"id": rng.randint(1, 8), "w": step}]}
    if roll < 0.83:
        return {"op": "delete", "data": [{"id": rng.randint(1, 8)}]}
    if roll < 0.84:
        return {"op": "clear"}
    if roll < 0.95:
        # Two symbols in one message: a batch of several runs, order kept.
        return {
            "op": "log",
            "data": [
                {"symbol": rng.choice(SYMBOLS), "n": step},
                {"symbol": rng.choice(SYMBOLS), "n": -step},
            ],
        }
    if roll < 0.97:
        return {
            "op": "new-store",
            "name": rng.choice(["extra", "more"]),
            "data": [{"k": step % 3, "n": step}],
        }
    return {"op": "invalidate"}


class Origin:
    """A collection with a relay, remembering its state at every relay sequence."""

    def __init__(
        self,
        relay_of: Callable[[DataStoreCollection], Relay],
        collection: DataStoreCollection | None = None,
    ) -> None:
        self.collection: Any = Plain() if collection is None else collection
        self._relay_of = relay_of
        self.relay = relay_of(self.collection)
        self.states: dict[int, dict[str, Any]] = {}
        self.step = 0

    async def start(self) -> None:
        self.states[0] = state_of(self.collection)
        await self.relay.start()
        # Added after the relay's observer: the relay has numbered the batch already.
        self.collection.add_observer(self._remember)
        self.states[self.relay.status().sequence] = state_of(self.collection)

    def _remember(self, batch: Any) -> None:
        self.states[self.relay.status().sequence] = state_of(self.collection)

    def feed(self, rng: random.Random, count: int) -> None:
        for _ in range(count):
            self.step += 1
            self.collection.onmessage(random_message(rng, self.step))

    async def run(self, rng: random.Random, seconds: float, burst: int = 5) -> None:
        """Feed ``burst`` messages every millisecond or so for ``seconds``."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            self.feed(rng, burst)
            await asyncio.sleep(0.002)

    async def start_when_ready(self, timeout: float) -> None:
        """:meth:`start`, retried while JetStream is not ready (a new cluster)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            try:
                await self.start()
                return
            except Exception:
                if loop.time() > end:
                    raise
                await self.relay.aclose()
                self.relay = self._relay_of(self.collection)
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        self.collection.remove_observer(self._remember)
        await self.relay.aclose()

    async def __aenter__(self) -> Origin:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class Watcher:
    """Checks, on every mirror change, that a synced mirror holds the origin's state."""

    def __init__(self, mirror: Mirror) -> None:
        self.mirror = mirror
        self.origins: list[Origin] = []
        self.checks = 0
        self.synced_checks = 0
        self.violations: list[str] = []
        self.max_pending = 0
        self.states: set[str] = set()
        mirror.add_listener(self)

    def follow(self, origin: Origin) -> None:
        self.origins.append(origin)

    def __call__(self, mirror: Mirror) -> None:
        self.checks += 1
        status = mirror.status()
        self.states.add(status.state)
        self.max_pending = max(self.max_pending, status.pending)
        books_synced = [
            (name, symbol)
            for name, store in mirror.collection.stores.items()
            if isinstance(store, OrderBookStore)
            for symbol in store.symbols
            if store.is_synced(symbol)
        ]
        if not status.synced:
            if books_synced:
                self.violations.append(f"mirror unsynced but books synced: {books_synced}")
            return
        self.synced_checks += 1
        origin = next((o for o in self.origins if o.relay.epoch == status.epoch), None)
        if origin is None:
            self.violations.append(f"synced to an unknown epoch {status.epoch}")
            return
        expected = origin.states.get(status.sequence)
        if expected is None:
            self.violations.append(f"synced at sequence {status.sequence}, never an origin state")
        elif state_of(mirror.collection) != expected:
            self.violations.append(f"synced at sequence {status.sequence} but states differ")


async def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait until ``condition()`` holds (polled), or fail."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError("condition never held")
        await asyncio.sleep(0.01)


async def converged(origin: Origin, mirror: Mirror, timeout: float = 15.0) -> None:
    """Wait for the mirror to be synced at the relay's last sequence, then compare."""
    await origin.relay.flush()

    def caught_up() -> bool:
        status = mirror.status()
        return (
            status.synced
            and status.epoch == origin.relay.epoch
            and status.sequence == origin.relay.status().sequence
        )

    await until(caught_up, timeout)
    assert state_of(mirror.collection) == state_of(origin.collection)
