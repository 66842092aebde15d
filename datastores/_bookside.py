"""One side of one symbol's order book, and the hot loop that updates it.

A side maps a numeric key to the exchange's own level sequence
(``[price, size, ...]`` exactly as received, strings untouched). Keys are
prices for asks and negated prices for bids, so the smallest key is the best
level on both sides. Item dicts are built only when someone reads.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, ClassVar

from sortedcontainers import SortedList

__all__ = ["Level", "Side", "apply_levels"]

Level = Sequence[Any]


class Side:
    """Levels of one side, ordered best first.

    Order is kept in one of two ways:

    * up to ``PROMOTE`` levels, a plain list of *ranks* (negated keys) in
      ascending order, best level LAST, maintained with C ``bisect``: a change
      near the top of the book, which is most changes, costs O(log n) plus a
      short move at the end of the list;
    * beyond that, a :class:`~sortedcontainers.SortedList` of keys (best
      first), O(log n) wherever the change is.
    """

    __slots__ = ("levels", "ranks", "tree")

    PROMOTE: ClassVar[int] = 16384

    def __init__(self) -> None:
        self.levels: dict[float, Level] = {}
        self.ranks: list[float] | None = []
        self.tree: SortedList[float] | None = None

    def __len__(self) -> int:
        return len(self.levels)

    def add_key(self, key: float) -> None:
        """Record a new key (the caller stores its level). O(log n)."""
        ranks = self.ranks
        if ranks is not None:
            insort(ranks, -key)
            if len(ranks) > self.PROMOTE:
                self.promote()
        else:
            assert self.tree is not None
            self.tree.add(key)

    def remove_key(self, key: float) -> None:
        """Forget an existing key (the caller pops its level). O(log n)."""
        ranks = self.ranks
        if ranks is not None:
            del ranks[bisect_left(ranks, -key)]
        else:
            assert self.tree is not None
            self.tree.remove(key)

    def promote(self) -> None:
        """Switch from the plain list to a SortedList (large books)."""
        assert self.ranks is not None
        self.tree = SortedList(-rank for rank in self.ranks)
        self.ranks = None

    def iter_keys(self) -> Iterator[float]:
        """Keys, best first."""
        if self.ranks is not None:
            return (-rank for rank in reversed(self.ranks))
        assert self.tree is not None
        return iter(self.tree)

    def first_key(self) -> float | None:
        """The best key, or ``None`` when empty. O(1)."""
        if self.ranks is not None:
            return -self.ranks[-1] if self.ranks else None
        assert self.tree is not None
        return self.tree[0] if self.tree else None

    def pop_worst(self) -> Level:
        """Remove and return the worst level."""
        if self.ranks is not None:
            key = -self.ranks.pop(0)
        else:
            assert self.tree is not None
            key = self.tree.pop()
        return self.levels.pop(key)

    def best_levels(self, limit: int | None) -> list[Level]:
        """The best ``limit`` levels (all when ``None``), best first. O(limit)."""
        levels = self.levels
        ranks = self.ranks
        if ranks is not None:
            n = len(ranks)
            if limit is None or limit >= n:
                return [levels[-rank] for rank in reversed(ranks)]
            return [levels[-ranks[i]] for i in range(n - 1, n - 1 - limit, -1)]
        keys = self.iter_keys()
        if limit is not None:
            keys = islice(keys, limit)
        return [levels[k] for k in keys]

    def clear(self) -> None:
        self.levels.clear()
        self.ranks = []
        self.tree = None


def apply_levels(side: Side, levels: Iterable[Level], sign: float) -> int:
    """Apply absolute-size levels: size 0 deletes, anything else sets the level.

    ``sign`` is ``1.0`` for asks and ``-1.0`` for bids. The level sequences
    themselves are stored (no copy). Returns the change in the number of levels.
    Raises ``ValueError``/``TypeError``/``IndexError`` on a malformed level (a NaN
    price included: it could be neither found nor ordered), after applying the
    levels before it; the caller records that.
    """
    stored = side.levels
    pop = stored.pop
    count = 0
    ranks = side.ranks
    if ranks is None:
        add, remove = side.add_key, side.remove_key
        for level in levels:
            key = float(level[0]) * sign
            if float(level[1]) == 0.0:
                if pop(key, None) is not None:
                    remove(key)
                    count -= 1
            else:
                if key not in stored:
                    if key != key:
                        raise ValueError(f"price {level[0]!r} is not a number")
                    add(key)
                    count += 1
                stored[key] = level
        return count
    # The plain-list case, inlined: this loop is the hot path of every book.
    neg = -sign
    for level in levels:
        rank = float(level[0]) * neg
        if float(level[1]) == 0.0:
            if pop(-rank, None) is not None:
                del ranks[bisect_left(ranks, rank)]
                count -= 1
        else:
            key = -rank
            if key not in stored:
                if rank != rank:  # NaN is never "in stored", so inserts see every NaN
                    raise ValueError(f"price {level[0]!r} is not a number")
                insort(ranks, rank)
                count += 1
            stored[key] = level
    if len(ranks) > side.PROMOTE:
        side.promote()
    return count
