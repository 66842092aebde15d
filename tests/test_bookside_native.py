"""The native book side (``datastores._cbookside``) against the pure-Python one.

Differential: random level streams, hostile values included, applied to a C side
and a Python side give identical books (in the same order, the same level objects,
except that the C side keeps a plain ``[price, size]`` pair of ASCII strings as an
equal compact ``Level``), identical refusals (exception type and message) and
identical counts.
Plus the mapping methods the stores use, re-entrant hostile values and garbage
collection of cycles (the choice at import: ``test_bookside_fallback.py``).
"""

from __future__ import annotations

import gc
import sys
import weakref
from typing import Any

import pytest
from _bookimpl import is_plain_pair, native, same_level
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datastores._bookside import PySide, py_apply_levels

pytestmark = pytest.mark.skipif(native is None, reason="the C extension was not built")


class ListSubclass(list[Any]):
    """A list subclass: the hot loops take only exact lists and tuples."""


class Weird:
    """A number-like object whose float() is 2.5 (runs Python code in the loop)."""

    def __float__(self) -> float:
        return 2.5

    def __repr__(self) -> str:
        return "Weird()"


PRICES = st.sampled_from(["1", "2", "2.5", "3", "3.0", "10", "11", "12.5", "99", "1.0"])
SIZES = st.sampled_from(["0", "0.0", "1", "1.0", "2", "0.5", "7", "100"])
HOSTILE = st.sampled_from(
    [
        "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "-1", "-0", "0", "1e30", "1e29",
        "1e308", "1e400", "1e-400", "", "abc", " 2 ", "1_0", "\u0663", "2e", "+2", "--2",
        b"2", bytearray(b"3"), True, False, None, 1, 0, -1, 1.0, 0.0, -0.0, 2.5, 1e30,
        10**400, -(10**400), 2**53 + 1, float("nan"), float("inf"), [], {}, Weird(),
    ]
)  # fmt: skip
VALUE = st.one_of(PRICES, SIZES, HOSTILE, st.floats(), st.integers(-5, 20))
GOOD_LEVEL = st.builds(lambda p, s: [p, s], PRICES, SIZES)
ODD_LEVEL = st.one_of(
    st.builds(lambda p, s: [p, s], PRICES, HOSTILE),
    st.builds(lambda p, s: [p, s], HOSTILE, SIZES),
    st.lists(VALUE, max_size=4),
    st.tuples(VALUE, VALUE),
    st.tuples(PRICES, SIZES, VALUE),
    st.builds(lambda p, s: ListSubclass([p, s]), PRICES, SIZES),
    st.sampled_from([None, "1", 1, 2.5, {"p": "1"}, "12"]),
)
TRICKY = st.sampled_from([True, False, None, 1, 0, 1.0, 0.0, -0.0, "1", "0", "1.0", "0.0"])
ODD_LEVEL = st.one_of(
    ODD_LEVEL,
    st.builds(lambda p, s: [p, s], PRICES, TRICKY),
    st.builds(lambda p, s: [p, s], TRICKY, SIZES),
)


def _message(sign: float, good: list[Any], odd: Any, at: int, as_tuple: bool) -> Any:
    levels = list(good)
    if odd is not None:
        levels.insert(at, odd)  # at most one odd level, so that each one is reached
    return sign, tuple(levels) if as_tuple else levels


MESSAGES = st.lists(
    st.builds(
        _message,
        st.sampled_from([1.0, -1.0]),
        st.lists(GOOD_LEVEL, max_size=8),
        st.one_of(st.none(), ODD_LEVEL, ODD_LEVEL),
        st.integers(0, 8),
        st.booleans(),
    ),
    max_size=25,
)


def outcome(apply: Any, side: Any, levels: Any, sign: float) -> tuple[Any, ...]:
    try:
        return ("applied", apply(side, levels, sign))
    except Exception as exc:
        return ("refused", type(exc), str(exc))


def assert_same_book(c_side: Any, py_side: PySide) -> None:
    assert len(c_side) == len(py_side)
    assert list(c_side.iter_keys()) == list(py_side.iter_keys())
    c_levels, py_levels = c_side.best_levels(None), py_side.best_levels(None)
    assert len(c_levels) == len(py_levels)
    # the same objects, or an equal Level for a plain pair
    assert all(same_level(a, b) for a, b in zip(c_levels, py_levels, strict=True))
    assert c_side.first_key() == py_side.first_key()


@pytest.mark.parametrize("capacity", [4, 256])
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=MESSAGES)
def test_random_streams_give_identical_books_refusals_and_counts(
    capacity: int, messages: list[tuple[float, list[Any]]]
) -> None:
    assert native is not None
    c_sides = {1.0: native.Side(capacity), -1.0: native.Side(capacity)}
    py_sides = {1.0: PySide(), -1.0: PySide()}
    for sign, levels in messages:
        got = outcome(native.apply_levels, c_sides[sign], levels, sign)
        want = outcome(py_apply_levels, py_sides[sign], levels, sign)
        assert got == want
        assert_same_book(c_sides[sign], py_sides[sign])


def test_large_books_split_and_merge_chunks_like_a_sorted_model() -> None:
    """Thousands of levels through 4- and 16-entry chunks: inserts anywhere,
    deletes that empty and merge chunks, the worst level popped."""
    assert native is not None
    for capacity in (4, 16):
        c_side, py_side = native.Side(capacity), PySide()
        prices = [str(p) for p in range(1, 3001)]
        order = prices[::7] + prices[1::7] + prices[2::7] + prices[3::7] + prices[4::7]
        order += prices[5::7] + prices[6::7]
        for sign in (1.0,):
            for chunk in range(0, len(order), 50):
                levels = [[p, "1"] for p in order[chunk : chunk + 50]]
                assert native.apply_levels(c_side, levels, sign) == py_apply_levels(
                    py_side, levels, sign
                )
            assert_same_book(c_side, py_side)
            deletes = [[p, "0"] for p in order[::3]]
            assert native.apply_levels(c_side, deletes, sign) == py_apply_levels(
                py_side, deletes, sign
            )
            assert_same_book(c_side, py_side)
            for _ in range(200):
                assert same_level(c_side.pop_worst(), py_side.pop_worst())
            assert_same_book(c_side, py_side)


KEYS = st.sampled_from([1.0, 2.0, 2.5, 3.0, 7.0, 10.0, 11.0, 99.0, -1.0, -2.0])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), KEYS, st.integers(0, 5)),
        st.tuples(st.just("discard"), KEYS),
        st.tuples(st.just("pop_worst")),
        st.tuples(st.just("clear")),
        st.tuples(st.just("best"), st.one_of(st.none(), st.integers(-2, 12))),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(ops=OPS)
def test_mapping_methods_match_the_python_side(ops: list[tuple[Any, ...]]) -> None:
    """set/discard/pop_worst/clear/best_levels/get/in/keys/values/items, as the
    stores and exchanges use them through ``side.levels``."""
    assert native is not None
    c_side, py_side = native.Side(4), PySide()
    for op in ops:
        if op[0] == "set":
            level = [str(op[1]), str(op[2])]
            assert c_side.set(op[1], level) == py_side.set(op[1], level)
        elif op[0] == "discard":
            assert same_level(c_side.discard(op[1]), py_side.discard(op[1]))
        elif op[0] == "pop_worst":
            if len(py_side):
                assert same_level(c_side.pop_worst(), py_side.pop_worst())
            else:
                with pytest.raises(IndexError):
                    c_side.pop_worst()
        elif op[0] == "clear":
            c_side.clear()
            py_side.clear()
        else:
            assert c_side.best_levels(op[1]) == py_side.best_levels(op[1])
        assert_same_book(c_side, py_side)
        mapping, reference = c_side.levels, py_side.levels
        assert len(mapping) == len(reference)
        assert set(mapping) == set(reference)
        assert dict(mapping.items()) == reference
        assert sorted(map(tuple, mapping.values())) == sorted(map(tuple, reference.values()))
        for key in (1.0, 2.5, 4.0, 1, True, "1.0", None, float("nan")):
            assert (key in mapping) == (key in reference)
            assert same_level(mapping.get(key), reference.get(key))
            assert same_level(mapping.get(key, "d"), reference.get(key, "d"))


def test_the_mapping_refuses_writes_and_bad_keys() -> None:
    assert native is not None
    side = native.Side()
    side.set(2.0, ["2", "1"])
    with pytest.raises(KeyError):
        side.levels[3.0]
    with pytest.raises(TypeError):
        side.levels[2.0] = ["2", "5"]
    with pytest.raises(ValueError, match="NaN"):
        side.set(float("nan"), ["nan", "1"])
    with pytest.raises(TypeError):
        side.set("2", ["2", "1"])
    with pytest.raises(ValueError, match="capacity"):
        native.Side(2)
    with pytest.raises(ValueError, match="sign"):
        native.apply_levels(side, [["1", "1"]], float("nan"))
    with pytest.raises(TypeError, match="native Side"):
        native.apply_levels(PySide(), [["1", "1"]], 1.0)
    assert side.levels[2.0] == ["2", "1"]
    assert side.levels is side
    assert side.best_levels(0) == []
    assert side.best_levels(-1) == []


class Clearing:
    """float() of it empties the side being applied to, then says 5."""

    def __init__(self, side: Any) -> None:
        self.side = side

    def __float__(self) -> float:
        self.side.clear()
        return 5.0


def test_values_that_run_python_code_cannot_break_the_side() -> None:
    """float() of a hostile value may change the side in the middle of a message;
    the native side stays consistent (and the levels around it are applied)."""
    assert native is not None
    side = native.Side(4)
    native.apply_levels(side, [[str(p), "1"] for p in range(1, 30)], 1.0)
    levels: list[Any] = [["40", "1"], [Clearing(side), "2"], ["41", "1"], ["3", "0"]]
    assert native.apply_levels(side, levels, 1.0) == -27  # 29, +40, cleared, then 5 and 41
    assert list(side.iter_keys()) == [5.0, 41.0]
    growing: list[Any] = [["1", "1"]]

    class Growing:
        def __float__(self) -> float:
            growing.extend([str(p), "1"] for p in range(100, 150))
            return 1.5

    growing.append([Growing(), "1"])
    assert native.apply_levels(side, growing, 1.0) == 52  # the list grows while applied
    assert len(side) == len(set(side.iter_keys())) == 54


def test_cycles_through_a_side_are_collected() -> None:
    assert native is not None
    side = native.Side()
    marker = Weird()
    level: list[Any] = ["1", "1", marker, side]  # level -> side -> level
    native.apply_levels(side, [level], 1.0)
    alive = weakref.ref(marker)
    del side, level, marker
    gc.collect()
    assert alive() is None


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_a_book_loaded_in_order_fills_its_chunks(sign: float) -> None:
    """A snapshot arrives sorted, best first: each new level goes to one end of a
    full chunk, which starts a new chunk instead of splitting it into two half-full
    ones (half the memory for the entries of a large book)."""
    assert native is not None
    side = native.Side(16)
    levels = [[str(price), "1"] for price in range(1, 1601)]
    native.apply_levels(side, levels if sign > 0 else levels[::-1], sign)
    native.apply_levels(side, levels[::-1] if sign > 0 else levels, sign)  # updates only
    entries = 1600 * 16  # a double and a pointer per level
    assert sys.getsizeof(side) < entries * 1.25 + 8192  # halves would be 2x entries
    assert side.best_levels(2) == ([levels[0], levels[1]] if sign > 0 else levels[:-3:-1])


class Watcher:
    """Kept in a stored level; when that level is released, records what the side
    holds then, and runs `then` (which may change the side)."""

    def __init__(self, side: Any, seen: list[Any], then: Any = None) -> None:
        self.side, self.seen, self.then = side, seen, then

    def __del__(self) -> None:
        self.seen.append((len(self.side), list(self.side.iter_keys())))
        if self.then is not None:
            self.then(self.side)


def _grow(side: Any) -> None:
    side.set(7.0, ["7", "1"])


@pytest.mark.parametrize("then", [None, lambda side: side.clear(), _grow])
@pytest.mark.parametrize(
    "message",
    [
        [["2", "3"], ["5", "1"], ["2.5", "0"]],  # replaced, then an insert
        [["2", "0"], ["1", "4"], ["3", "2"]],  # removed, then an update
        [["2", "3"]],  # replaced last: released before apply_levels returns
        [["2", "3"], [Weird(), "1"]],  # then a value whose float() runs Python code
        [["2", "3"], ["1", "nan"]],  # then a refusal
        [["2", "0"], ["2", "1"], ["2", "0"]],  # the same price again and again
        (("2", "3"), ("4", 1.0), ("6", 2)),  # tuples, a size of 1.0, an int
    ],
)
def test_a_released_level_sees_the_side_right_after_its_change(
    message: list[Any], then: Any
) -> None:
    """The native side releases a replaced or removed level a little later (after
    the next level was converted and found), but before anything else can run or
    change: what the release runs sees the side right after the change that
    dropped the level, and what it does to the side comes before the next change
    (a model: the message applied in two parts, `then` run between them)."""
    assert native is not None
    side = native.Side(4)
    seen: list[Any] = []
    native.apply_levels(side, [["1", "1"], ["2", "1", Watcher(side, seen, then)], ["3", "1"]], 1.0)
    got = outcome(native.apply_levels, side, message, 1.0)
    model = PySide()
    py_apply_levels(model, [["1", "1"], ["2", "1"], ["3", "1"]], 1.0)
    py_apply_levels(model, message[:1], 1.0)  # the first change drops the watched level
    want_seen = [(len(model), list(model.iter_keys()))]
    if then is not None:
        then(model)
    rest = outcome(py_apply_levels, model, message[1:], 1.0)
    assert seen == want_seen
    assert got[0] == rest[0]
    if got[0] == "refused":  # (an applied count is the whole message's, not the rest's)
        assert got == rest
    assert [list(level[:2]) for level in side.best_levels(None)] == [
        list(level[:2]) for level in model.best_levels(None)
    ]


def _as_native_levels(levels: Any) -> Any:
    """The same message with every plain pair given as a Level (what a decoder
    that makes Levels hands to the native side)."""
    assert native is not None
    out = [native.Level(*lv) if is_plain_pair(lv) else lv for lv in levels]
    return tuple(out) if isinstance(levels, tuple) else out


@pytest.mark.parametrize("capacity", [4, 256])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=MESSAGES)
def test_levels_given_as_levels_give_the_same_books_and_refusals(
    capacity: int, messages: list[tuple[float, list[Any]]]
) -> None:
    """The native side fed Levels where the pure side gets the lists: equal books
    (by value), the same reads, refusals and counts."""
    assert native is not None
    c_sides = {1.0: native.Side(capacity), -1.0: native.Side(capacity)}
    py_sides = {1.0: PySide(), -1.0: PySide()}
    for sign, levels in messages:
        got = outcome(native.apply_levels, c_sides[sign], _as_native_levels(levels), sign)
        want = outcome(py_apply_levels, py_sides[sign], levels, sign)
        assert got == want
        c_side, py_side = c_sides[sign], py_sides[sign]
        assert list(c_side.iter_keys()) == list(py_side.iter_keys())
        assert [list(a) for a in c_side.best_levels(None)] == [
            list(b) for b in py_side.best_levels(None)
        ]
        fields = ("s", "S", "p", "q")
        try:
            want_items: Any = py_side.best_items(5, fields, "X", "a")
        except IndexError as exc:
            want_items = str(exc)
        try:
            got_items: Any = c_side.best_items(5, fields, "X", "a")
        except IndexError as exc:
            got_items = str(exc)
        assert got_items == want_items
