"""The native compact level (``datastores._cbookside.Level``) and the exact decimal parse.

A ``Level`` is what the native book side stores for a plain ``[price, size]``
pair of ASCII strings: an immutable sequence of two ``str`` that reads, compares,
pickles and matches as the list would. ``_decimal`` is the apply loop's fast parse
of plain decimals, which must give exactly ``float()``'s value or leave the text
to ``float()``'s own routine.
"""

from __future__ import annotations

import copy
import gc
import pickle
import sys
from typing import Any

import pytest
from _bookimpl import native
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.skipif(native is None, reason="the C extension was not built")


def level(price: str, size: str) -> Any:
    assert native is not None
    return native.Level(price, size)


# ------------------------------------------------------------------ the sequence


def test_a_level_reads_as_its_two_strings() -> None:
    one = level("27000.10", "0.5")
    assert len(one) == 2
    assert one[0] == "27000.10"
    assert one[1] == "0.5"
    assert type(one[0]) is str
    assert type(one[1]) is str
    assert one[-1] == "0.5"
    assert one[-2] == "27000.10"
    assert list(one) == ["27000.10", "0.5"]
    assert tuple(one) == ("27000.10", "0.5")
    price, size = one
    assert (price, size) == ("27000.10", "0.5")
    assert one[:] == ["27000.10", "0.5"]
    assert type(one[:]) is list
    assert one[1:] == ["0.5"]
    assert one[::-1] == ["0.5", "27000.10"]
    assert "0.5" in one
    assert "1" not in one
    assert one.index("0.5") == 1
    assert one.count("0.5") == 1
    assert list(reversed(one)) == ["0.5", "27000.10"]
    assert float(one[0]) * float(one[1]) == 13500.05
    for bad in (2, -3, 10**30):
        with pytest.raises(IndexError):
            one[bad]
    with pytest.raises(TypeError):
        one["0"]  # type: ignore[call-overload]


def test_each_read_gives_an_equal_str() -> None:
    """Made for the read or taken from the small cache of strings read before:
    equal either way, whatever else was read in between."""
    one = level("1.5", "2")
    assert one[0] == "1.5"
    assert hash(one[0]) == hash("1.5")
    others = [level(f"{n}.{n}", str(n)) for n in range(5000)]
    assert [(lv[0], lv[1]) for lv in others] == [(f"{n}.{n}", str(n)) for n in range(5000)]
    assert (one[0], one[1]) == ("1.5", "2")
    assert [lv[0] for lv in others[::-1]] == [f"{n}.{n}" for n in range(5000)][::-1]
    long = level("1" * 200 + ".5", "0.12345678901234567890")
    assert long[0] == "1" * 200 + ".5"
    assert long[1] == "0.12345678901234567890"
    # the same first and last eight characters and length, another middle
    middle = level("1" * 10 + "2" + "1" * 10, "1" * 21)
    assert middle[0] == "1" * 10 + "2" + "1" * 10
    assert middle[1] == "1" * 21
    assert middle[0] == "1" * 10 + "2" + "1" * 10


def test_a_string_read_never_changes_while_anyone_holds_it() -> None:
    """A cached string that only the cache holds is rewritten in place for the next
    miss of its slot: strings someone holds must never be, and a rewritten one hashes
    as its new text."""
    sizes = [f"{n / 7:.8f}"[:10].rjust(10, "0") for n in range(20_000)]
    levels = [level("1.0", size) for size in sizes]
    held = {n: levels[n][1] for n in range(0, 20_000, 97)}  # kept by the test
    for _ in range(2):
        for n, lv in enumerate(levels):  # each read dropped at once: slots are reused
            text = lv[1]
            assert text == sizes[n]
            assert hash(text) == hash(sizes[n])
            del text
    assert all(text == sizes[n] for n, text in held.items())
    # a string used as a key, then dropped by its holder: its hash goes with its text
    table = {levels[3][1]: 3}
    assert table[sizes[3]] == 3


def test_a_level_is_immutable_and_unhashable() -> None:
    one = level("1", "2")
    with pytest.raises(TypeError):
        one[0] = "3"  # type: ignore[index]
    with pytest.raises(TypeError):
        del one[0]  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        hash(one)
    with pytest.raises(AttributeError):
        one.price = "3"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("other", "equal"),
    [
        (["1.5", "2"], True),
        (("1.5", "2"), True),
        (["1.5", "2.0"], False),
        (["1.50", "2"], False),
        (["1.5"], False),
        (["1.5", "2", "3"], False),
        ([], False),
        ([1.5, 2], False),
        (["1.5", 2], False),
        (["1.5", "\u0662"], False),
        ([b"1.5", b"2"], False),
    ],
)
def test_equality_with_lists_and_tuples_both_ways(other: Any, equal: bool) -> None:
    one = level("1.5", "2")
    assert (one == other) is equal
    assert (other == one) is equal
    assert (one != other) is not equal
    assert (other != one) is not equal
    assert (one == other) is (list(one) == list(other))


def test_equality_between_levels_and_other_objects() -> None:
    assert level("1", "2") == level("1", "2")
    assert level("1", "2") != level("1", "3")
    assert level("12", "3") != level("1", "23")  # same bytes, another split
    assert level("1", "2") != "12"
    assert level("1", "2") != {"1": "2"}
    assert level("1", "2") != None  # noqa: E711
    with pytest.raises(TypeError):
        _ = level("1", "2") < level("1", "3")


class StrLike:
    """Not a str, equal to one: a list holding it equals the Level as the list would."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return other == self.text

    __hash__ = None  # type: ignore[assignment]


def test_equality_with_items_that_are_not_str_follows_the_list() -> None:
    one = level("1", "2")
    other = ["1", StrLike("2")]
    assert (one == other) is (other == ["1", "2"]) is True
    assert (one == ["1", StrLike("3")]) is False


def test_repr_pickle_and_copies() -> None:
    one = level("0.00001234", "123456789.1")
    assert repr(one) == repr(["0.00001234", "123456789.1"])
    assert str(one) == repr(one)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(one, protocol))
        assert type(back) is type(one)
        assert back == one
    assert copy.copy(one) == one
    assert copy.deepcopy(one) == one
    assert type(copy.deepcopy([one])[0]) is type(one)


def test_match_statements_see_a_two_item_sequence() -> None:
    match level("3", "4"):
        case [price, size]:
            assert (price, size) == ("3", "4")
        case _:  # pragma: no cover - a Level is a sequence
            pytest.fail("no match")
    match level("3", "4"):
        case [_, _, _]:  # pragma: no cover - two items only
            pytest.fail("three items")
        case ["3", size]:
            assert size == "4"


@pytest.mark.parametrize(
    ("price", "size"),
    [("\u0663", "1"), ("1", "é"), ("x" * 256, "1"), ("1", "1" * 256)],
)
def test_refuses_text_it_cannot_keep(price: str, size: str) -> None:
    with pytest.raises(ValueError, match="ASCII"):
        level(price, size)


def test_refuses_what_is_not_two_str() -> None:
    assert native is not None
    for args in ((b"1", "2"), ("1", 2), ("1",), ("1", "2", "3"), ()):
        with pytest.raises(TypeError):
            native.Level(*args)
    assert level("x" * 255, "") == ["x" * 255, ""]


def test_it_is_small_and_not_tracked_by_the_gc() -> None:
    one = level("27000.10", "0.12345678")
    assert sys.getsizeof(one) < 48
    assert sys.getsizeof(one) < sys.getsizeof(["27000.10", "0.12345678"]) + 2 * sys.getsizeof(
        "27000.10"
    )
    assert not gc.is_tracked(one)


def test_repeated_use_leaks_nothing() -> None:
    """Reads, comparisons, pickling and refusals, many times: the interpreter's
    block count comes back (a leak of one object per call would show)."""
    one = level("1.25", "3")

    def work() -> None:
        for _ in range(2000):
            one[0], one[1], one[:], list(one), repr(one)
            one == ["1.25", "3"], one == ("1", "3"), one == level("1.25", "3")
            pickle.loads(pickle.dumps(one))
            try:
                one[5]
            except IndexError:
                pass
            try:
                level("1", "\u0663")
            except ValueError:
                pass

    work()
    gc.collect()
    before = sys.getallocatedblocks()
    work()
    gc.collect()
    assert sys.getallocatedblocks() - before < 500  # 2,000 rounds: a leak shows 2,000+


# ------------------------------------------------------------- the decimal parse

DIGITS = st.text("0123456789", min_size=1, max_size=24)


def check_decimal(text: str) -> None:
    assert native is not None
    got = native._decimal(text)
    if got is not None:  # taken by the fast path: exactly float()'s double
        want = float(text)
        assert got == want, text
        assert got.hex() == want.hex(), text


@settings(max_examples=3000, deadline=None)
@given(
    whole=DIGITS,
    fraction=st.one_of(st.none(), st.text("0123456789", max_size=24)),
)
def test_the_fast_parse_is_float_exactly(whole: str, fraction: str | None) -> None:
    text = whole if fraction is None else f"{whole}.{fraction}"
    check_decimal(text)


@settings(max_examples=2000, deadline=None)
@given(
    mantissa=st.integers(0, 2**54),
    places=st.integers(0, 25),
    zeros=st.integers(0, 4),
)
def test_the_fast_parse_at_the_edges_of_its_range(mantissa: int, places: int, zeros: int) -> None:
    """Mantissas around 2**53 and up to 25 places: taken exactly, or left to float()."""
    digits = str(mantissa).rjust(places + 1, "0")
    text = "0" * zeros + digits[: len(digits) - places] + "." + digits[len(digits) - places :]
    check_decimal(text)
    check_decimal(text.rstrip("."))


@settings(max_examples=1000, deadline=None)
@given(st.text("0123456789.e+-_ x", max_size=12))
def test_the_fast_parse_takes_only_plain_decimals(text: str) -> None:
    """Anything but [0-9]+ or [0-9]+.[0-9]* is left to float()'s routine."""
    assert native is not None
    got = native._decimal(text)
    body, _, fraction = text.partition(".")
    plain = body.isdigit() and body.isascii() and (fraction == "" or fraction.isdigit())
    if not plain or text.count(".") > 1:
        assert got is None, text
    else:
        check_decimal(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0.0),
        ("0.00000000", 0.0),
        ("000", 0.0),
        ("1", 1.0),
        ("1.0", 1.0),
        ("1.", 1.0),
        ("0.1", 0.1),
        ("27000.10", 27000.1),
        ("0.00000001", 1e-08),
        ("9007199254740992", 9007199254740992.0),
        ("900719925474099.2", 900719925474099.2),
        ("0.3333333333333333", 0.3333333333333333),
        ("0.0000000000000000000001", 1e-22),
        ("0000012.5000", 12.5),
    ],
)
def test_plain_decimals_take_the_fast_path(text: str, value: float) -> None:
    assert native is not None
    assert native._decimal(text) == value == float(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        ".",
        ".5",
        "-1",
        "+1",
        "1e5",
        "1E5",
        " 1",
        "1 ",
        "1_0",
        "inf",
        "nan",
        "1..2",
        "9007199254740993",  # above 2**53: float() rounds it
        "12345678901234567890",
        "0.00000000000000000000001",  # 23 places
    ],
)
def test_anything_else_is_left_to_float(text: str) -> None:
    assert native is not None
    assert native._decimal(text) is None


# ------------------------------------------------------------- the checksum text

TEXT = st.text("0123456789.", min_size=1, max_size=12)
CHECKSUM_LEVEL = st.one_of(
    st.builds(level, TEXT, TEXT),
    st.builds(lambda p, q: [p, q], TEXT, TEXT),
    st.builds(lambda p, q: (p, q, "0", "4"), TEXT, TEXT),
    st.builds(lambda p, q: [p, q], TEXT, st.sampled_from([1.5, 2, "\u0663", "é"])),
)


@settings(max_examples=500, deadline=None)
@given(
    bids=st.lists(CHECKSUM_LEVEL, max_size=30),
    asks=st.lists(CHECKSUM_LEVEL, max_size=30),
    depth=st.integers(-2, 30),
)
def test_the_checksum_text_is_the_python_one(bids: list[Any], asks: list[Any], depth: int) -> None:
    """``checksum_text`` gives the UTF-8 bytes of ``checksum_string`` for Levels and
    lists or tuples of ASCII str, and ``None`` (the caller's Python version) for
    anything else among the levels it reads."""
    from datastores._integrity import checksum_string

    assert native is not None
    got = native.checksum_text(bids, asks, depth)
    read = [lv for i in range(max(depth, 0)) for lv in (bids[i : i + 1] + asks[i : i + 1])]
    plain = all(
        type(lv) is native.Level or all(type(v) is str and v.isascii() for v in lv[:2])
        for lv in read
    )
    if plain:
        assert got == checksum_string(bids, asks, depth).encode()
    else:
        assert got is None


def test_the_checksum_text_refuses_what_is_not_two_lists() -> None:
    assert native is not None
    with pytest.raises(TypeError):
        native.checksum_text((), [], 25)
    with pytest.raises(TypeError):
        native.checksum_text([], [])
    with pytest.raises(TypeError):
        native.checksum_text([], [], "25")


# ------------------------------------------------------------- stored by the side


@pytest.mark.parametrize(
    "given",
    [
        ("27000.10", "0.5"),  # the fast path
        ("1.0", "2"),  # a price of 1.0 takes the slow check
        (" 1.5", "2"),  # float() takes it, the fast parse does not
        ("3", "1e1"),
    ],
)
def test_a_level_given_is_stored_itself(given: tuple[str, str]) -> None:
    """A Level handed to apply_levels or set() is stored as it is (one more
    reference, no new object), on the fast and the slow paths."""
    assert native is not None
    one = level(*given)
    side = native.Side()
    before = sys.getrefcount(one)
    assert native.apply_levels(side, [one], 1.0) == 1
    assert side.best_levels(None)[0] is one
    assert sys.getrefcount(one) == before + 1
    other = level(given[0], "7")
    assert side.set(float(given[0]), other) is False
    assert side.levels[float(given[0])] is other
    assert sys.getrefcount(one) == before


@pytest.mark.parametrize(
    ("received", "compact"),
    [
        (["1.5", "2"], True),
        (("1.5", "2"), True),
        (["1.5", "2", "x"], False),  # more fields: as received
        (["1.5", 2], False),  # a number
        (["1.5", 2.0], False),
        (["1.5", "2\u00b2"], False),  # not ASCII (float() refuses it anyway)
        (["1.5", "0" * 300 + "2"], False),  # longer than a Level keeps
    ],
)
def test_what_the_side_stores_for_each_level(received: Any, compact: bool) -> None:
    assert native is not None
    side = native.Side()
    try:
        native.apply_levels(side, [received], 1.0)
    except ValueError:
        assert not received[1].isascii()
        return
    stored = side.levels[1.5]
    assert (type(stored) is native.Level) is compact
    assert stored == received
    if not compact:
        assert stored is received
    side.clear()
    side.set(1.5, received)
    assert (type(side.levels[1.5]) is native.Level) is compact


def test_the_json_encoders_write_a_level_as_its_list() -> None:
    from datastores import _json

    doc = {"asks": [level("27000.10", "0.5")], "n": 1}
    assert _json.dumps(doc) == '{"asks":[["27000.10","0.5"]],"n":1}'
    assert _json._std_dumps(doc) == '{"asks":[["27000.10","0.5"]],"n":1}'
    with pytest.raises(TypeError, match="object is not JSON serializable"):
        _json.dumps({"a": object()})
