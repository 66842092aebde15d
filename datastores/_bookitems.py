"""Item-level writes and the invariant check of :class:`~datastores._orderbook.OrderBookStore`.

The generic :class:`~datastores.DataStore` mutation API (``_insert``/``_update``/
``_delete``/``_pop`` with item dicts, as pybotters' custom stores use it) reaches an order
book rarely: exchanges feed books level lists through ``OrderBookStore._apply``. The
store's methods delegate here (subclasses still override the methods), which keeps the
store module to its hot path and reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._bookside import MAX_VALUE, check_level
from ._bookstate import not_a_symbol
from ._store import Item

if TYPE_CHECKING:
    from ._orderbook import OrderBookStore

__all__ = ["check_book", "pop_level", "set_item", "split_item"]


def split_item(store: OrderBookStore[Any], item: Mapping[str, Any]) -> tuple[str, str, float]:
    side = item[store._SIDE]
    if side != store._ASK and side != store._BID:
        raise ValueError(f"unknown side {side!r}")
    symbol = item[store._SYMBOL]
    if not_a_symbol(symbol):
        raise TypeError(f"symbol {symbol!r} is not a str")
    return symbol, side, store._key(side, item[store._PRICE])


def set_item(store: OrderBookStore[Any], item: Item, merge: bool) -> None:
    try:
        symbol, side, key = store._split(item)
        if merge:
            old: Any = store.get(item)
            level = store._to_level({**old, **item} if old else item)
        else:
            level = store._to_level(item)
        check_level(level)
    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as exc:
        store._refuse(item, f"not a book level ({exc})")
        return
    if symbol not in store._books and store._refuse_new(symbol):
        return
    target = store._book(symbol)[0 if side == store._ASK else 1]
    existed = not target.set(key, level)
    if not existed:
        store._count += 1
    if store._streams or store._sink is not None:
        operation: Any = "update" if existed and merge else "insert"
        store._emit_level(
            operation, item if existed and merge else None, store._make_item(symbol, side, level)
        )


def pop_level(
    store: OrderBookStore[Any], item: Mapping[str, Any], source: Item | None
) -> Item | None:
    try:
        symbol, side, key = store._split(item)
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    book = store._books.get(symbol)
    if book is None:
        return None
    target = book[0 if side == store._ASK else 1]
    level = target.discard(key)
    if level is None:
        return None
    store._count -= 1
    removed: Item = store._make_item(symbol, side, level)
    if store._streams or store._sink is not None:
        store._emit_level("delete", source, removed)
    return removed


def check_book(store: OrderBookStore[Any]) -> None:
    """Assert the invariants; tests call this after mutations.

    Each side's ordered keys are unique, sorted best first and equal to its
    level dict's keys; every key matches its level's price and side; every
    level passes ``check_level`` with a size above zero (so no NaN, infinity,
    bool or out-of-range value is stored); every symbol is a ``str``; the depth
    cap holds; ``len()`` equals the number of levels.
    """
    total = 0
    for symbol in store._states:
        assert isinstance(symbol, str), f"state keyed {symbol!r}"
    for symbol, (asks, bids) in store._books.items():
        assert isinstance(symbol, str), f"book keyed {symbol!r}"
        for side_name, side in ((store._ASK, asks), (store._BID, bids)):
            keys = list(side.iter_keys())
            assert keys == sorted(set(keys)), f"{symbol} {side_name}: keys unsorted"
            assert set(keys) == set(side.levels), f"{symbol} {side_name}: index mismatch"
            for key, level in side.levels.items():
                assert store._key(side_name, level[0]) == key, f"{symbol}: key/price mismatch"
                price, size = check_level(level)
                assert 0.0 < price < MAX_VALUE, f"{symbol}: price out of range"
                assert 0.0 < size < MAX_VALUE, f"{symbol}: size out of range"
            total += len(keys)
        depth = store._depths.get(symbol, store._DEPTH)
        if depth is not None:
            assert len(asks) <= depth, f"{symbol}: asks over depth cap"
            assert len(bids) <= depth, f"{symbol}: bids over depth cap"
    assert total == store._count, "level count mismatch"
