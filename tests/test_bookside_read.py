"""``best_items``, the read path of ``OrderBookStore.sorted()``: the native side
(``datastores._cbookside``) against the pure-Python one, and the stores' reads.

Differential: random books and limits give identical item lists (equal dicts with
the same key order, holding the very level objects' price and size, or equal
strings built from a native ``Level``), identical refusals for levels too short to
read, and the same items as ``_make_item``.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

import pytest
from _bookimpl import is_plain_pair, native
from hypothesis import given, settings
from hypothesis import strategies as st

from datastores import BinanceSpotDataStore
from datastores._bookside import PySide

needs_native = pytest.mark.skipif(native is None, reason="the C extension was not built")

PRICES = st.integers(1, 400).map(lambda n: f"{n / 4:g}")
SIZES = st.sampled_from(["0.5", "1", "2", "7", "100"])
LEVEL = st.one_of(
    st.builds(lambda p, s: [p, s], PRICES, SIZES),
    st.builds(lambda p, s: (p, s), PRICES, SIZES),
    st.builds(lambda p, s: [p, s, "extra"], PRICES, SIZES),
)
FIELDS = st.sampled_from(
    [("s", "S", "p", "q"), ("symbol", "side", "price", "size"), ("s", "S", "s", "q")]
)
LIMITS = st.one_of(st.none(), st.integers(-2, 30))


def _sides(capacity: int) -> tuple[Any, PySide]:
    assert native is not None
    return native.Side(capacity), PySide()


def _fill(sides: tuple[Any, ...], levels: list[Any], sign: float) -> None:
    for level in levels:
        for side in sides:
            side.set(float(level[0]) * sign, level)


def _same(
    a: list[dict[str, Any]],
    b: list[dict[str, Any]],
    levels: list[Any] | None = None,
    fields: tuple[str, ...] = ("s", "S", "p", "q"),
) -> None:
    """``a`` (native) equals ``b`` (pure), key order included, holding the same
    objects, except the price and the size of an item whose level (in ``levels``,
    the pure side's) the native side keeps as a Level: equal str built from it."""
    assert a == b
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        assert type(x) is dict
        assert type(y) is dict
        assert list(x) == list(y)  # the same key order as the dict literal
        built = fields[2:] if levels is not None and is_plain_pair(levels[i]) else ()
        for key in x:
            if key in built:
                assert type(x[key]) is str
                assert x[key] == y[key]
            else:
                assert x[key] is y[key]


@needs_native
@pytest.mark.parametrize("capacity", [4, 256])
@settings(max_examples=200, deadline=None)
@given(
    levels=st.lists(LEVEL, max_size=60),
    sign=st.sampled_from([1.0, -1.0]),
    limit=LIMITS,
    fields=FIELDS,
    symbol=st.sampled_from(["BTCUSDT", "", 7]),
    side_name=st.sampled_from(["a", "b", "asks", None]),
)
def test_native_best_items_match_the_python_side(
    capacity: int,
    levels: list[Any],
    sign: float,
    limit: int | None,
    fields: tuple[str, str, str, str],
    symbol: Any,
    side_name: Any,
) -> None:
    c_side, py_side = _sides(capacity)
    _fill((c_side, py_side), levels, sign)
    got = c_side.best_items(limit, fields, symbol, side_name)
    want = py_side.best_items(limit, fields, symbol, side_name)
    _same(got, want, py_side.best_levels(limit), fields)
    assert [(i[fields[2]], i[fields[3]]) for i in got] == [
        (level[0], level[1]) for level in py_side.best_levels(limit)
    ]


class Indexed:
    """A level that is neither list nor tuple: read through ``__getitem__``."""

    def __init__(self, *values: Any) -> None:
        self.values = values

    def __getitem__(self, index: int) -> Any:
        return self.values[index]


@needs_native
def test_odd_and_short_levels_read_or_fail_alike() -> None:
    for level in (Indexed("5", "1"), ["5", "1"], ("5", "1")):
        c_side, py_side = _sides(4)
        _fill((c_side, py_side), [level], 1.0)
        _same(
            c_side.best_items(None, ("s", "S", "p", "q"), "X", "a"),
            py_side.best_items(None, ("s", "S", "p", "q"), "X", "a"),
            [level],
        )
    short: Any
    for short in (["5"], ("5",), Indexed("5")):
        c_side, py_side = _sides(4)
        c_side.set(5.0, short)
        py_side.set(5.0, short)
        with pytest.raises(IndexError) as c_err:
            c_side.best_items(None, ("s", "S", "p", "q"), "X", "a")
        with pytest.raises(IndexError) as py_err:
            py_side.best_items(None, ("s", "S", "p", "q"), "X", "a")
        assert str(c_err.value) == str(py_err.value)


@needs_native
def test_native_best_items_refuses_bad_arguments() -> None:
    c_side, _ = _sides(4)
    with pytest.raises(TypeError):
        c_side.best_items(None, ("s", "S", "p"), "X", "a")
    with pytest.raises(TypeError):
        c_side.best_items(None, ["s", "S", "p", "q"], "X", "a")
    with pytest.raises(TypeError):
        c_side.best_items(None, ("s", "S", "p", "q"), "X")
    with pytest.raises(TypeError):
        c_side.best_items("10", ("s", "S", "p", "q"), "X", "a")


@needs_native
def test_best_items_hold_no_extra_references() -> None:
    """Levels kept as received (three fields) keep their referrers; the side keeps
    no reference to a plain pair it stored as a Level; reading Levels' items
    leaves no object behind."""
    c_side, _ = _sides(4)
    kept = [[str(p), "1", "x"] for p in range(1, 50)]
    pairs = [[str(p), "2"] for p in range(50, 100)]
    _fill((c_side,), kept + pairs, 1.0)
    gc.collect()
    before = [len(gc.get_referrers(level)) for level in kept]
    assert all(c_side not in gc.get_referrers(pair) for pair in pairs)
    for _ in range(100):
        items = c_side.best_items(60, ("s", "S", "p", "q"), "X", "a")
    del items
    gc.collect()
    assert [len(gc.get_referrers(level)) for level in kept] == before
    blocks = sys.getallocatedblocks()
    for _ in range(100):
        items = c_side.best_items(60, ("s", "S", "p", "q"), "X", "a")
    del items
    gc.collect()
    assert sys.getallocatedblocks() - blocks < 20


@pytest.mark.usefixtures("book_impl")
@settings(max_examples=50, deadline=None)
@given(
    asks=st.lists(st.builds(lambda p, s: [p, s], PRICES, SIZES), max_size=30),
    bids=st.lists(st.builds(lambda p, s: [p, s], PRICES, SIZES), max_size=30),
    limit=st.one_of(st.none(), st.integers(0, 30)),
)
def test_sorted_reads_items_as_make_item_builds_them(
    asks: list[Any], bids: list[Any], limit: int | None
) -> None:
    store = BinanceSpotDataStore()
    book = store.orderbook
    book._insert([{"s": "X", "S": "a", "p": p, "q": q} for p, q in asks])
    book._insert([{"s": "X", "S": "b", "p": p, "q": q} for p, q in bids])
    got = book.sorted({"s": "X"}, limit)
    raw_asks, raw_bids = book.levels("X", limit)
    want = {
        "a": [book._make_item("X", "a", level) for level in raw_asks],
        "b": [book._make_item("X", "b", level) for level in raw_bids],
    }
    assert got == want
    assert [list(i) for i in got["a"] + got["b"]] == [["s", "S", "p", "q"]] * (
        len(raw_asks) + len(raw_bids)
    )
    assert got == book._sorted_by_price(book.find({"s": "X"}), limit)
