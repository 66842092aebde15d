"""A seeded market generator: a random-walk order book with trades, one per symbol.

The fake exchanges (:mod:`datastores.testing.fake`) publish what this module
generates; tests compare a client's book with :meth:`MarketGenerator.book`, the
exchange's truth.

Prices and sizes are integers internally (ticks and lots) and are formatted to
strings exactly once, with a fixed number of decimals, so a price string always
means the same level (``"65000.01000000"``), as on a real exchange.

Determinism: the same :class:`MarketConfig` and seed give the same sequence of
:class:`MarketUpdate` values, on every platform (``random.Random`` seeded with a
string is stable across Python versions and processes).

Cost: one :meth:`MarketGenerator.step` is O(k log n) for k level changes (k is
1..``max_changes``, 20 by default) on a book of n levels per side.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from sortedcontainers import SortedList

__all__ = [
    "BookChange",
    "FakeBook",
    "MarketConfig",
    "MarketGenerator",
    "MarketUpdate",
    "Trade",
]

Side = Literal["bid", "ask"]


@dataclass(frozen=True, slots=True)
class MarketConfig:
    """How one symbol's market looks.

    Attributes:
        symbol: the exchange's spelling (``"BTCUSDT"``).
        tick_size: price increment, as a decimal string (``"0.01"``).
        lot_size: size increment, as a decimal string (``"0.00001"``).
        start_price: the initial mid price, as a decimal string.
        levels: price levels per side at start (and the depth the book hovers around).
        price_decimals: decimals printed in prices (default: those of ``tick_size``;
            Binance spot prints 8 whatever the tick).
        size_decimals: decimals printed in sizes (default: those of ``lot_size``).
        max_changes: most level changes in one update (at least one per update).
        delete_ratio: share of level changes that delete a level.
        move_probability: probability that an update moves the market one level
            (an aggressive trade takes the best level on one side).
        trade_probability: probability that an update carries a passive trade at
            the top of the book (it reduces the best level's size).
    """

    symbol: str
    tick_size: str = "0.01"
    lot_size: str = "0.00001"
    start_price: str = "65000"
    levels: int = 2000
    price_decimals: int | None = None
    size_decimals: int | None = None
    max_changes: int = 20
    delete_ratio: float = 0.2
    move_probability: float = 0.2
    trade_probability: float = 0.3


@dataclass(frozen=True, slots=True)
class BookChange:
    """One level change: ``size == "0"`` (formatted zero) deletes the level."""

    side: Side
    price: str
    size: str


@dataclass(frozen=True, slots=True)
class Trade:
    """One trade. ``buyer_is_maker``: the resting order was a bid (the taker sold)."""

    trade_id: int
    price: str
    size: str
    buyer_is_maker: bool


@dataclass(frozen=True, slots=True)
class MarketUpdate:
    """One book update as the exchange sequences it.

    Update ids cover ``first_id..last_id`` (one id per level change, like
    Binance's ``U``/``u``); ``prev_id`` is the previous update's ``last_id``
    (Binance futures ``pu``).
    """

    symbol: str
    first_id: int
    last_id: int
    prev_id: int
    bids: tuple[tuple[str, str], ...]
    asks: tuple[tuple[str, str], ...]
    trades: tuple[Trade, ...] = ()


@dataclass(slots=True)
class FakeBook:
    """A copy of the exchange's book: ``price -> size`` strings per side.

    Attributes:
        symbol: the symbol.
        last_update_id: id of the last update included.
        bids, asks: ``{price: size}`` with the exchange's formatted strings.
    """

    symbol: str
    last_update_id: int
    bids: dict[str, str] = field(default_factory=dict)
    asks: dict[str, str] = field(default_factory=dict)

    def top(self, depth: int | None = None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """``(bids, asks)`` best first, at most ``depth`` levels each. O(n log n)."""
        bids = sorted(self.bids.items(), key=lambda kv: Decimal(kv[0]), reverse=True)
        asks = sorted(self.asks.items(), key=lambda kv: Decimal(kv[0]))
        if depth is not None:
            bids, asks = bids[:depth], asks[:depth]
        return bids, asks

    def differences(
        self,
        bids: dict[str, str],
        asks: dict[str, str],
        depth: int,
    ) -> list[str]:
        """Where a client's book disagrees with this one (empty list: it agrees).

        ``bids``/``asks`` are the client's ``{price: size}``. The client must hold
        exactly this book's best ``depth`` levels on each side, and every other
        level it holds must exist here with the same size (levels deeper than a
        REST snapshot are legitimately unknown to a client until they change).
        Prices are compared as numbers, sizes as numbers.
        """
        problems: list[str] = []
        for side_name, mine, theirs, best_first in (
            ("bid", self.bids, bids, True),
            ("ask", self.asks, asks, False),
        ):
            truth = {Decimal(p): Decimal(s) for p, s in mine.items()}
            client = {Decimal(p): Decimal(s) for p, s in theirs.items()}
            top = sorted(truth, reverse=best_first)[:depth]
            for price in top:
                if price not in client:
                    problems.append(f"{side_name} {price}: missing (exchange has {truth[price]})")
                elif client[price] != truth[price]:
                    problems.append(
                        f"{side_name} {price}: size {client[price]}, exchange has {truth[price]}"
                    )
            for price, size in client.items():
                if price not in truth:
                    problems.append(f"{side_name} {price}: not on the exchange (size {size})")
                elif truth[price] != size and price not in top:
                    problems.append(
                        f"{side_name} {price}: size {size}, exchange has {truth[price]}"
                    )
        return problems


def _decimals(text: str) -> int:
    exponent = Decimal(text).normalize().as_tuple().exponent
    return max(0, -int(exponent))


class _Formatter:
    """Integer multiples of a step -> fixed-decimal strings, without floats."""

    __slots__ = ("_decimals", "_scale", "_units")

    def __init__(self, step: str, decimals: int | None) -> None:
        self._decimals = _decimals(step) if decimals is None else decimals
        if self._decimals < _decimals(step):
            raise ValueError(f"{decimals} decimals cannot print steps of {step}")
        self._scale = 10**self._decimals
        # one step in units of 10**-decimals
        self._units = int(Decimal(step) * self._scale)

    def __call__(self, count: int) -> str:
        units = count * self._units
        if not self._decimals:
            return str(units)
        whole, frac = divmod(units, self._scale)
        return f"{whole}.{frac:0{self._decimals}d}"


class MarketGenerator:
    """A deterministic random-walk book for one symbol (see the module docstring).

    The book is dense near the top and about ``config.levels`` deep per side.
    Each :meth:`step` changes 1..``max_changes`` levels, mostly near the top,
    about ``delete_ratio`` of them deletions; sometimes an aggressive trade
    takes the best level (the mid price walks), sometimes a passive trade
    shrinks it. Bids always stay below asks.
    """

    def __init__(self, config: MarketConfig, seed: int | str = 0) -> None:
        self.config = config
        self._rng = random.Random(f"{seed}:{config.symbol}")
        self._price = _Formatter(config.tick_size, config.price_decimals)
        self._size = _Formatter(config.lot_size, config.size_decimals)
        self._zero = self._size(0)
        tick = Decimal(config.tick_size)
        mid = int(Decimal(config.start_price) / tick)
        lot = Decimal(config.lot_size)
        # A typical level holds about 0.5 units of the base asset, at least a few lots.
        self._typical_lots = max(5, int(Decimal("0.5") / lot))
        # ticks -> lots; bid keys are stored negated so index 0 is the best on both sides.
        self._bids: dict[int, int] = {}
        self._asks: dict[int, int] = {}
        self._bid_keys: SortedList[int] = SortedList()
        self._ask_keys: SortedList[int] = SortedList()
        rng = self._rng
        price = mid - 1
        for _ in range(config.levels):
            self._bids[price] = self._new_lots()
            self._bid_keys.add(-price)
            price -= 1 if rng.random() < 0.7 else rng.randint(2, 4)
        price = mid + 1
        for _ in range(config.levels):
            self._asks[price] = self._new_lots()
            self._ask_keys.add(price)
            price += 1 if rng.random() < 0.7 else rng.randint(2, 4)
        self._update_id = rng.randint(10**9, 2 * 10**9)
        self._trade_id = rng.randint(10**8, 2 * 10**8)

    # ------------------------------------------------------------------ reading

    @property
    def symbol(self) -> str:
        """The symbol."""
        return self.config.symbol

    @property
    def last_update_id(self) -> int:
        """Id of the last update generated (the book's current version)."""
        return self._update_id

    def best(self) -> tuple[str, str]:
        """``(best bid, best ask)`` prices. O(1)."""
        return self._price(-self._bid_keys[0]), self._price(self._ask_keys[0])

    def levels(self, side: Side, depth: int | None = None) -> list[tuple[str, str]]:
        """``[(price, size)]`` best first on ``side``, at most ``depth`` levels. O(depth)."""
        if side == "bid":
            keys: Iterator[int] = (-k for k in self._bid_keys.islice(0, depth))
            book = self._bids
        else:
            keys = iter(self._ask_keys.islice(0, depth))
            book = self._asks
        price, size = self._price, self._size
        return [(price(k), size(book[k])) for k in keys]

    def book(self) -> FakeBook:
        """A copy of the whole book. O(n)."""
        price, size = self._price, self._size
        return FakeBook(
            symbol=self.symbol,
            last_update_id=self._update_id,
            bids={price(k): size(v) for k, v in self._bids.items()},
            asks={price(k): size(v) for k, v in self._asks.items()},
        )

    # ----------------------------------------------------------------- stepping

    def _new_lots(self) -> int:
        # Heavy-tailed sizes: most levels small, a few walls.
        return max(1, int(self._typical_lots * self._rng.paretovariate(1.5) / 3))

    def _set(self, changes: dict[tuple[Side, int], int], side: Side, tick: int, lots: int) -> None:
        if side == "bid":
            book, keys, key = self._bids, self._bid_keys, -tick
        else:
            book, keys, key = self._asks, self._ask_keys, tick
        if lots:
            if tick not in book:
                keys.add(key)
            book[tick] = lots
        elif tick in book:
            del book[tick]
            keys.remove(key)
        else:
            return
        changes[(side, tick)] = lots

    def _move(self, changes: dict[tuple[Side, int], int], trades: list[Trade]) -> None:
        """An aggressive order takes the whole best level on one side; the other
        side often follows into the gap (the mid walks by about a tick)."""
        rng = self._rng
        up = rng.random() < 0.5
        if up:
            taken = self._ask_keys[0]
            lots = self._asks[taken]
            if len(self._asks) > 10:
                self._set(changes, "ask", taken, 0)
                trades.append(self._trade(taken, lots, buyer_is_maker=False))
            best_bid = -self._bid_keys[0]
            best_ask = self._ask_keys[0]
            if best_bid + 1 < best_ask and rng.random() < 0.7:
                self._set(changes, "bid", best_bid + 1, self._new_lots())
        else:
            taken = -self._bid_keys[0]
            lots = self._bids[taken]
            if len(self._bids) > 10:
                self._set(changes, "bid", taken, 0)
                trades.append(self._trade(taken, lots, buyer_is_maker=True))
            best_bid = -self._bid_keys[0]
            best_ask = self._ask_keys[0]
            if best_ask - 1 > best_bid and rng.random() < 0.7:
                self._set(changes, "ask", best_ask - 1, self._new_lots())

    def _passive_trade(self, changes: dict[tuple[Side, int], int], trades: list[Trade]) -> None:
        rng = self._rng
        if rng.random() < 0.5:
            tick = self._ask_keys[0]
            lots = self._asks[tick]
            side: Side = "ask"
        else:
            tick = -self._bid_keys[0]
            lots = self._bids[tick]
            side = "bid"
        if lots < 2:
            return
        taken = rng.randint(1, lots - 1)
        self._set(changes, side, tick, lots - taken)
        trades.append(self._trade(tick, taken, buyer_is_maker=side == "bid"))

    def _trade(self, tick: int, lots: int, *, buyer_is_maker: bool) -> Trade:
        self._trade_id += 1
        return Trade(self._trade_id, self._price(tick), self._size(lots), buyer_is_maker)

    def _random_change(self, changes: dict[tuple[Side, int], int]) -> None:
        rng = self._rng
        config = self.config
        side: Side = "bid" if rng.random() < 0.5 else "ask"
        distance = min(int(rng.expovariate(0.12)), 400)
        best_bid = -self._bid_keys[0]
        best_ask = self._ask_keys[0]
        if best_ask - best_bid > 2 and rng.random() < 0.3:
            # A wide spread attracts new orders inside it (keeps the spread realistic).
            distance = -1
        if side == "bid":
            tick = best_bid - distance
            book = self._bids
        else:
            tick = best_ask + distance
            book = self._asks
        if tick in book and rng.random() < config.delete_ratio * 1.3 and len(book) > 50:
            # Deleting only where a level exists: x1.3 keeps about delete_ratio of all
            # changes deletions, since most picks land on an existing level.
            self._set(changes, side, tick, 0)
        else:
            self._set(changes, side, tick, self._new_lots())

    def _keep_depth(self, changes: dict[tuple[Side, int], int]) -> None:
        """Keep each side within 10% of ``config.levels`` by trimming or extending
        its far end (real books do change far from the top too)."""
        target = self.config.levels
        for side, book, keys, sign in (
            ("bid", self._bids, self._bid_keys, -1),
            ("ask", self._asks, self._ask_keys, 1),
        ):
            if len(book) > target * 1.1:
                self._set(changes, side, sign * keys[-1], 0)  # type: ignore[arg-type]
            elif len(book) < target * 0.9:
                self._set(changes, side, sign * keys[-1] + sign, self._new_lots())  # type: ignore[arg-type]

    def step(self) -> MarketUpdate:
        """Generate, apply and return the next update."""
        rng = self._rng
        config = self.config
        changes: dict[tuple[Side, int], int] = {}
        trades: list[Trade] = []
        if rng.random() < config.move_probability:
            self._move(changes, trades)
        if rng.random() < config.trade_probability:
            self._passive_trade(changes, trades)
        wanted = rng.randint(1, config.max_changes)
        while len(changes) < wanted:
            self._random_change(changes)
        self._keep_depth(changes)
        price, size = self._price, self._size
        bids = tuple((price(t), size(v)) for (s, t), v in changes.items() if s == "bid")
        asks = tuple((price(t), size(v)) for (s, t), v in changes.items() if s == "ask")
        prev_id = self._update_id
        self._update_id += len(changes)
        return MarketUpdate(
            symbol=config.symbol,
            first_id=prev_id + 1,
            last_id=self._update_id,
            prev_id=prev_id,
            bids=bids,
            asks=asks,
            trades=tuple(trades),
        )
