"""apply_levels on a bare Side: what it returns and what a refusal leaves behind.

The loop stores a level before it knows whether the level is new (the dict's
length tells it), so a refused new level must be taken out again: these tests
pin that a refusal leaves the side exactly as the levels before it made it, on
both the plain-list and the SortedList representation, and on the native side
(``book_impl``: once per implementation; "tree" is a native side of 4-entry chunks).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from _bookimpl import Impl

from datastores._bookside import MAX_VALUE

pytestmark = pytest.mark.usefixtures("book_impl")  # pure Python and native


def side_of(path: str, levels: list[list[Any]], sign: float, impl: Impl) -> Any:
    side = impl.Side(4) if impl.is_native and path == "tree" else impl.Side()
    impl.apply_levels(side, levels, sign)
    if path == "tree" and not impl.is_native:
        side.promote()
    return side


def contents(side: Any) -> tuple[list[float], list[Any]]:
    keys = list(side.iter_keys())
    assert len(keys) == len(side.levels)  # the order index and the dict agree
    return keys, [side.levels[k] for k in keys]


@pytest.mark.parametrize("path", ["list", "tree"])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_counts_inserts_updates_and_deletes(path: str, sign: float, book_impl: Impl) -> None:
    side = side_of(path, [["10", "1.5"], ["11", "2"]], sign, book_impl)
    change = book_impl.apply_levels(
        side,
        [["12", "3"], ["10", "0.5"], ["11", "0"], ["13", "0"], ["14", "4"], ["14", "0"]],
        sign,
    )
    assert change == 0  # +12 +14 -11 -14; updating 10 and deleting absent 13 change nothing
    keys, levels = contents(side)
    assert levels == ([["10", "0.5"], ["12", "3"]] if sign > 0 else [["12", "3"], ["10", "0.5"]])
    assert keys == [float(level[0]) * sign for level in levels]


BAD_NEW_PRICES: list[Any] = ["nan", "inf", "-inf", "0", "-0", "-5", "1e30", "1e308", 10**400]


@pytest.mark.parametrize("path", ["list", "tree"])
@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize("price", BAD_NEW_PRICES, ids=lambda p: repr(p)[:12])
def test_a_refused_new_price_leaves_nothing_stored(
    path: str, sign: float, price: Any, book_impl: Impl
) -> None:
    side = side_of(path, [["10", "1"], ["11", "2"]], sign, book_impl)
    before = contents(side)
    with pytest.raises((ValueError, OverflowError)):
        book_impl.apply_levels(side, [["12", "3"], [price, "2.5"], ["13", "4"]], sign)
    keys, levels = contents(side)
    # the level before the bad one stays applied, the bad one and those after it do not
    assert sorted(map(tuple, levels)) == sorted([*map(tuple, before[1]), ("12", "3")])
    assert all(0.0 < abs(k) < MAX_VALUE and not math.isnan(k) for k in keys)


@pytest.mark.parametrize("path", ["list", "tree"])
@pytest.mark.parametrize(
    "level",
    [[True, "2"], ["10", True], ["10", False], [True, "0"], ["10", "nan"], ["10", "-1"]],
    ids=repr,
)
def test_a_refused_update_of_a_stored_level_keeps_the_old_level(
    path: str, level: Any, book_impl: Impl
) -> None:
    side = side_of(path, [["1", "7"], ["10", "1"]], 1.0, book_impl)
    before = contents(side)
    with pytest.raises((ValueError, TypeError)):
        book_impl.apply_levels(side, [level], 1.0)
    assert contents(side) == before


@pytest.mark.parametrize("path", ["list", "tree"])
def test_real_ones_are_levels(path: str, book_impl: Impl) -> None:
    """1.0 is a price and a size like any other (only JSON true/false are refused)."""
    side = side_of(path, [["1", "1"], [1.0, 1], ["2", 1.0]], 1.0, book_impl)
    assert contents(side)[1] == [[1.0, 1], ["2", 1.0]]
    assert book_impl.apply_levels(side, [[1, 0], ["2", "0.0"]], 1.0) == -2
    assert contents(side) == ([], [])
