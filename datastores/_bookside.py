"""One side of one symbol's order book, and the hot loop that updates it.

A side maps a numeric key to the exchange's level sequence (``[price, size,
...]``, strings untouched). Keys are prices for asks and negated prices for
bids, so the smallest key is the best level on both sides. Item dicts are built
only when someone reads.

Two implementations share this contract: the pure-Python :class:`PySide` and
:func:`py_apply_levels` below, and the optional C extension
``datastores._cbookside`` (built by ``pip install`` when a compiler is there),
which keeps the levels in a chunked sorted array of ``(key, level)`` entries
instead of a dict plus an order index, and keeps a plain ``[price, size]`` pair
of ASCII strings as a compact ``_cbookside.Level`` (the bytes of its two
strings, a sequence equal to the list) instead of the exchange's list; any
other level is stored as received, as the pure side stores every level.
:data:`Side` and :func:`apply_levels` are the native ones when the extension
imports and ``DATASTORES_PURE`` is not set in the environment (:data:`NATIVE`
says which); both refuse exactly the same levels with the same exceptions,
because the native loop takes the same branches and calls :func:`check_level` /
:func:`malformed` on its slow paths.
"""

from __future__ import annotations

import os
import sys
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any, ClassVar, cast

from sortedcontainers import SortedList

__all__ = [
    "MAX_VALUE",
    "NATIVE",
    "Level",
    "PySide",
    "Side",
    "apply_levels",
    "check_level",
    "py_apply_levels",
]

#: Prices and sizes must be below this (and prices above 0, sizes at least 0).
#: No market quotes anything near it (the largest real sizes, meme-coin
#: quantities, are around 1e15); it refuses absurd values such as ``1e308``,
#: for which ``price * size`` or a sum of two levels overflows to ``inf``. Below
#: it, a product of two values stays finite.
MAX_VALUE = 1e30

Level = Sequence[Any]


class PySide:
    """Levels of one side, ordered best first (the pure-Python implementation).

    ``levels`` maps keys to levels; write through :meth:`set` and
    :meth:`discard` (or :func:`apply_levels`), which keep the order too.

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

    def set(self, key: float, level: Level) -> bool:
        """Store ``level`` at ``key``; ``True`` when the key is new. O(log n)."""
        levels = self.levels
        n = len(levels)
        levels[key] = level
        if len(levels) != n:
            self.add_key(key)
            return True
        return False

    def discard(self, key: float) -> Level | None:
        """Remove and return the level at ``key``, or ``None``. O(log n)."""
        level = self.levels.pop(key, None)
        if level is not None:
            self.remove_key(key)
        return level

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

    def best_items(
        self, limit: int | None, fields: tuple[str, str, str, str], symbol: Any, side: Any
    ) -> list[Any]:
        """The item dicts of :meth:`best_levels` (``limit``): ``{fields[0]: symbol,
        fields[1]: side, fields[2]: level[0], fields[3]: level[1]}`` each, best first
        (the read path of ``OrderBookStore.sorted``). O(limit)."""
        s, sd, p, q = fields
        return [
            {s: symbol, sd: side, p: level[0], q: level[1]} for level in self.best_levels(limit)
        ]

    def clear(self) -> None:
        self.levels.clear()
        self.ranks = []
        self.tree = None


def _show(value: object) -> str:
    """A short repr for an error message (a hostile value may be huge)."""
    try:
        text = repr(value)
    except ValueError:  # an int beyond the int-to-str digit limit
        return f"<{type(value).__name__} too long to show>"
    return text if len(text) <= 40 else text[:37] + "..."


def is_level(obj: object) -> bool:
    """Whether ``obj`` is a native ``Level`` (the type exists only when the extension
    was imported, by this module or a test, so it is looked up, not imported)."""
    native = sys.modules.get("datastores._cbookside")
    return native is not None and obj.__class__ is native.Level


def _is_sequence(level: object) -> bool:
    """Whether ``level`` is a list, a tuple or a native ``Level``."""
    return isinstance(level, (list, tuple)) or is_level(level)


def malformed(level: object) -> ValueError | TypeError:
    """The exception for a level the hot loops refused: what exactly is wrong.

    Called only on the failure path, so the loops check with a few comparisons
    and leave the explanation to this function.
    """
    if not _is_sequence(level):
        return TypeError(f"level {_show(level)} is a {type(level).__name__}, not a list")
    try:
        check_level(cast("Level", level))
    except (ValueError, TypeError, IndexError, OverflowError) as exc:
        return exc if isinstance(exc, (ValueError, TypeError)) else ValueError(str(exc))
    return ValueError(f"level {_show(level)} is malformed")  # pragma: no cover - loops agree


def check_level(level: Level) -> tuple[float, float]:
    """``(price, size)`` of ``level`` as floats, or an exception saying why it is not
    a level: the price must be a finite number in (0, MAX_VALUE), the size in
    [0, MAX_VALUE), and neither a bool (JSON ``true`` is not a number).

    The slow-path twin of the checks inlined in :func:`apply_levels`. A native
    ``Level`` is checked like the list of its two strings. O(1).
    """
    if not _is_sequence(level):
        raise TypeError(f"level {_show(level)} is a {type(level).__name__}, not a list")
    raw_price, raw_size = level[0], level[1]
    if raw_price.__class__ is bool or raw_size.__class__ is bool:
        raise TypeError(f"level {_show(level)}: a boolean is not a number")
    try:
        price, size = float(raw_price), float(raw_size)
    except OverflowError:
        raise ValueError(f"level {_show(level)}: a number too large for a float") from None
    if not 0.0 < price < MAX_VALUE:
        raise ValueError(f"price {_show(raw_price)} is not a number in (0, {MAX_VALUE:g})")
    if not 0.0 <= size < MAX_VALUE:
        raise ValueError(f"size {_show(raw_size)} is not a number in [0, {MAX_VALUE:g})")
    return price, size


def py_apply_levels(side: PySide, levels: Iterable[Level], sign: float) -> int:
    """Apply absolute-size levels: size 0 deletes, anything else sets the level.

    ``sign`` is ``1.0`` for asks and ``-1.0`` for bids. The level sequences
    themselves are stored (no copy). Returns the change in the number of levels.
    O(log n) per level (plus a short list move near the top of the book).

    Every level is checked (see :func:`check_level`: a list or tuple, a price in
    (0, MAX_VALUE), a size in [0, MAX_VALUE), no bools). A malformed level raises
    ``ValueError``/``TypeError``/``IndexError``/``OverflowError`` after the levels
    before it were applied and with nothing of it left stored; the caller marks
    the book unsynced (see ``OrderBookStore._apply``).

    The checks cost a class check and four float comparisons on the common path,
    an update of an existing level (``docs/performance.md``): NaN fails every
    comparison, so the range tests catch it; a price is range-checked only when
    it makes a new level or deletes none (a stored key already passed); a value
    of exactly 1.0 or a zero size may be a JSON ``true``/``false``, so those take
    the slow :func:`check_level`. The loop pays for them by hashing the key once
    per update: it stores first and learns from the dict's length whether the
    level is new (a refused new level is removed again before raising).
    """
    stored = side.levels
    pop = stored.pop
    n = start = len(stored)
    ranks = side.ranks
    limit = MAX_VALUE
    if ranks is None:
        add, remove = side.add_key, side.remove_key
        for level in levels:
            if level.__class__ is not list and level.__class__ is not tuple:
                raise malformed(level)
            price = float(level[0])
            size = float(level[1])
            key = price * sign
            if not (size > 0.0 and size < limit and size != 1.0 and price != 1.0):
                if size == 0.0:
                    if level[1] is False or price == 1.0:
                        check_level(level)
                    if pop(key, None) is not None:
                        remove(key)
                        n -= 1
                    elif not (price > 0.0 and price < limit):
                        raise malformed(level)
                    continue
                check_level(level)  # raises unless a real 1.0
            stored[key] = level
            if len(stored) != n:
                if not (price > 0.0 and price < limit):
                    del stored[key]  # a bad price never equals a stored key: it was new
                    raise malformed(level)
                add(key)
                n += 1
        return n - start
    # The plain-list case, inlined: this loop is the hot path of every book. The
    # common case (a size in (0, MAX_VALUE), neither value 1.0) is tested first,
    # so an update costs one test; deletes and the rest branch off it.
    for level in levels:
        if level.__class__ is not list and level.__class__ is not tuple:
            raise malformed(level)
        price = float(level[0])
        size = float(level[1])
        key = price * sign
        if not (size > 0.0 and size < limit and size != 1.0 and price != 1.0):
            if size == 0.0:
                if level[1] is False or price == 1.0:
                    check_level(level)
                if pop(key, None) is not None:
                    del ranks[bisect_left(ranks, -key)]
                    n -= 1
                elif not (price > 0.0 and price < limit):
                    raise malformed(level)
                continue
            check_level(level)  # raises unless a real 1.0
        stored[key] = level
        if len(stored) != n:  # new: one hash per update instead of `in` then store
            if not (price > 0.0 and price < limit):
                del stored[key]  # a bad price never equals a stored key: it was new
                raise malformed(level)
            insort(ranks, -key)
            n += 1
    if n > side.PROMOTE:
        side.promote()
    return n - start


# The implementation in use. mypy checks the callers against PySide, whose
# methods the native Side has too (datastores/_cbookside.pyi).
Side = PySide
apply_levels = py_apply_levels
#: whether :data:`Side` and :func:`apply_levels` are the C extension's
NATIVE = False
#: the extension's ``checksum_text(bids, asks, depth) -> bytes | None`` (the text of
#: ``_integrity.checksum_string`` read from the levels' bytes), or ``None``
checksum_text: Callable[[list[Level], list[Level], int], bytes | None] | None = None

if not TYPE_CHECKING and os.environ.get("DATASTORES_PURE", "") in ("", "0"):
    try:
        from . import _cbookside
    except ImportError:  # not built (no compiler at install time): pure Python
        pass
    else:
        _cbookside._setup(check_level, malformed, MAX_VALUE)
        Sequence.register(_cbookside.Level)  # isinstance(level, Sequence), as for a list
        Side = _cbookside.Side
        apply_levels = _cbookside.apply_levels
        checksum_text = _cbookside.checksum_text
        NATIVE = True
