"""OrderBookStore under hostile levels and symbols (issue 15, points 5, 6, 7 and 10).

The rule: a malformed level refuses the whole message. It is counted
(``status().errors``), the symbol is marked unsynced and a resync requested; a bad
value is never stored, ``len()`` and the depth cap stay right, and the book cannot
be reported synced again before a snapshot replaces it as a whole. A symbol that is
not a ``str`` is refused before any state is created for it (counted in
``dropped``).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest
from _bookimpl import shrink_sides
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datastores import OrderBookStore
from datastores._bookside import MAX_VALUE
from datastores._integrity import BinanceSpotRule, BookDelta

pytestmark = pytest.mark.usefixtures("book_impl")  # pure Python and native


class Book(OrderBookStore):
    """Binance-shaped book: s / S (a|b) / p / q."""


class SpotBook(OrderBookStore):
    _RULE = BinanceSpotRule()


class CappedBook(OrderBookStore):
    _DEPTH = 3


def lv(*pairs: tuple[Any, Any]) -> list[list[Any]]:
    return [list(p) for p in pairs]


PATHS = ["list", "tree", "watched"]


def make(path: str, monkeypatch: pytest.MonkeyPatch, cls: type[OrderBookStore] = Book) -> Any:
    if path == "tree":
        shrink_sides(monkeypatch)  # every side takes its large-book path
    book = cls()
    if path == "watched":
        book.watch()
    resyncs: list[str] = []
    book.resync_hook = resyncs.append
    book._replace("X", lv(("3", "1"), ("4", "1"), ("5", "1")), lv(("1", "1"), ("2", "1")), 10)
    book.resync_requests = resyncs
    return book


def assert_refused(book: Any, before: tuple[Any, Any] | None = None) -> None:
    status = book.status("X")
    assert not status.synced
    assert status.errors == 1
    assert status.last_error is not None
    assert status.last_error.startswith("error: malformed")
    assert book.resync_requests == ["X"]
    if before is not None:
        assert book.levels("X") == before
    book._check()


# ------------------------------------------------------------------- point 5


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "level", ["51", "10", 51, 5.5, None, {"p": "5", "q": "1"}, b"51", True], ids=repr
)
def test_a_level_that_is_not_a_list_or_tuple_is_malformed(
    level: Any, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``"a": ["51"]`` was read one character at a time: an ask at price 5 size 1 (a
    crossed book, still synced); ``["10"]`` deleted price 1 silently."""
    book = make(path, monkeypatch)
    before = book.levels("X")
    assert not book._apply("X", [level], [])
    assert not book._apply("X", [], [level])  # already unsynced: counted again
    assert book.levels("X") == before
    status = book.status("X")
    assert not status.synced
    assert status.errors == 2
    assert book.resync_requests == ["X"]
    book._check()


def test_tuples_are_levels() -> None:
    book = Book()
    book._replace("X", [("3", "1")], [("1", "1")], 1)
    assert book._apply("X", [("2", "4"), ("3", "0")], [("1.5", "1")])
    assert book.levels("X") == ([("2", "4")], [("1.5", "1"), ("1", "1")])
    assert book.status("X").synced
    book._check()


# ------------------------------------------------------------------- point 6

BAD_PRICES = ["inf", "-inf", "Infinity", "nan", "-1e30", "-5", "0", "-0", "0.0", 0, True, False]
BAD_PRICES += [1e308, "1e308", MAX_VALUE, 2 * MAX_VALUE, [], None, "abc", ""]
BAD_SIZES = ["inf", "nan", "-nan", "-5", "-1e-9", -1, 1e308, "1e31", True, False, None, "x"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("price", BAD_PRICES, ids=repr)
def test_a_price_that_is_not_finite_and_positive_is_malformed(
    price: Any, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = make(path, monkeypatch)
    before = book.levels("X")
    assert not book._apply("X", lv((price, "1")), [])
    assert_refused(book, before)
    # a delete of such a price is as malformed as a set
    assert not book._apply("X", [], lv((price, "0")))
    assert book.levels("X") == before
    book._check()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("size", BAD_SIZES, ids=repr)
def test_a_size_that_is_not_finite_and_non_negative_is_malformed(
    size: Any, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``true`` is a Python int (1) and ``false`` is 0: a JSON boolean set or deleted
    a level as if it were a number."""
    book = make(path, monkeypatch)
    before = book.levels("X")
    assert not book._apply("X", [], lv(("2", size)))  # 2 exists: update / delete
    assert_refused(book, before)
    assert not book._apply("X", lv(("6", size)), [])  # 6 does not: insert
    assert book.levels("X") == before
    book._check()


def test_numbers_and_bounds_that_are_fine() -> None:
    """JSON numbers are levels like strings are; tiny and large (below MAX_VALUE)
    values are kept; a zero size of any spelling deletes."""
    book = Book()
    book._replace("X", lv((3, 1), ("4", 2.5)), lv(("1e-12", "1e25")), 1)
    assert book._apply("X", lv((3, "0.000"), ("4", 0), ("5", "-0")), lv((1.5, 7)))
    assert book.levels("X") == ([], [[1.5, 7], ["1e-12", "1e25"]])
    assert book.status("X").synced
    assert book.status("X").errors == 0
    book._check()


def test_a_snapshot_with_a_bad_level_is_refused() -> None:
    book = Book()
    assert not book._replace("X", lv(("3", "1"), ("inf", "1")), [], 1)
    assert not book.status("X").synced
    assert book.status("X").errors == 1
    book._check()
    for level in book.levels("X")[0]:
        assert math.isfinite(float(level[0]))


@pytest.mark.parametrize(
    "item",
    [
        {"s": "X", "S": "a", "p": "inf", "q": "1"},
        {"s": "X", "S": "a", "p": "-2", "q": "1"},
        {"s": "X", "S": "a", "p": "2", "q": "nan"},
        {"s": "X", "S": "a", "p": "2", "q": "-1"},
        {"s": "X", "S": "a", "p": "2", "q": True},
        {"s": "X", "S": "a", "p": True, "q": "1"},
        {"s": "X", "S": "a", "p": 10**400, "q": "1"},
        {"s": "X", "S": "a", "p": "2", "q": 10**400},
        {"s": None, "S": "a", "p": "2", "q": "1"},
        {"s": 1, "S": "a", "p": "2", "q": "1"},
    ],
    ids=repr,
)
def test_the_generic_api_refuses_the_same_values(item: dict[str, Any]) -> None:
    book = Book()
    book._insert([{"s": "X", "S": "a", "p": "1", "q": "1"}])
    book._insert([item])
    book._update([item])
    assert book.levels("X") == ([("1", "1")], [])
    assert book.symbols == ["X"]
    assert book.dropped == 2
    book._check()


# ------------------------------------------------------------------- point 7

HUGE = 10**400  # a JSON integer no float can hold: float() raises OverflowError


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("where", ["price", "size"])
def test_an_integer_too_big_for_a_float_is_a_counted_malformed_update(
    where: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OverflowError escaped the apply: the level count was never recomputed (len()
    wrong even after a fresh snapshot), the depth cap was not re-applied."""
    book = make(path, monkeypatch, CappedBook)
    level = (HUGE, "1") if where == "price" else ("2.5", HUGE)
    assert not book._apply("X", [], lv(("2.2", "1"), ("2.1", "1"), level))
    assert not book.status("X").synced
    assert book.status("X").errors == 1
    assert book.status("X").bids <= 3
    assert len(book) == book.status("X").asks + book.status("X").bids
    book._check()
    assert book.get({"s": "X", "S": "a", "p": HUGE}) is None
    assert book.get({"s": "X", "S": "b", "p": HUGE}) is None
    assert book._replace("X", lv(("7", "1")), lv(("6", "1")), 11)
    assert len(book) == 2
    assert book.status("X").synced
    book._check()


def test_get_with_absurd_prices_returns_none() -> None:
    book = Book()
    book._replace("X", lv(("3", "1")), [], 1)
    for price in (HUGE, "inf", "nan", None, [], True):
        assert book.get({"s": "X", "S": "a", "p": price}) is None


# ----------------------------------------------- whole-message rule (property)


def test_a_refused_message_keeps_the_book_unsynced_until_a_snapshot_replaces_it() -> None:
    """Levels before the bad one may be in the (unsynced) book; in-sequence updates
    that follow are buffered, not applied, and nothing reports synced until a fresh
    snapshot has replaced the whole book: none of the refused message survives it."""
    book = SpotBook()
    book._on_snapshot("X", 10, lv(("3", "1"), ("4", "1")), lv(("1", "1")))
    assert book._on_delta("X", BookDelta(11, 11, None, lv(("3.5", "1")), []))
    bad = BookDelta(12, 12, None, lv(("2.5", "9"), ("4", "0"), ("x", "1")), [])
    assert not book._on_delta("X", bad)
    assert not book.is_synced("X")
    assert not book._on_delta("X", BookDelta(13, 13, None, lv(("3", "0")), []))
    assert not book.is_synced("X")
    assert book.status("X").buffered == 1
    assert book._on_snapshot("X", 13, lv(("3.5", "1"), ("4", "1")), lv(("1", "1")))
    assert book.levels("X") == ([["3.5", "1"], ["4", "1"]], [["1", "1"]])
    book._check()


GOOD = st.tuples(
    st.sampled_from(["1", "2", "3", "4", "5", "6"]), st.sampled_from(["0", "1", "2.5"])
).map(list)
BAD = st.one_of(
    st.sampled_from(["51", 7, None, {"p": "1"}]),
    st.tuples(st.sampled_from(BAD_PRICES[:12]), st.just("1")).map(list),
    st.tuples(st.just("2"), st.sampled_from(BAD_SIZES[:9])).map(list),
    st.just([HUGE, "1"]),
)
MESSAGES = st.lists(
    st.tuples(
        st.lists(st.one_of(GOOD, GOOD, GOOD, BAD), max_size=6),
        st.lists(st.one_of(GOOD, GOOD, GOOD, BAD), max_size=6),
    ),
    max_size=12,
)


def _is_good(level: Any) -> bool:
    return (
        level.__class__ is list
        and level[0] in ("1", "2", "3", "4", "5", "6")
        and level[1] in ("0", "1", "2.5")
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=MESSAGES, path=st.sampled_from(PATHS))
def test_property_good_messages_match_a_model_and_bad_ones_are_refused(
    messages: list[tuple[list[Any], list[Any]]], path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against a dict model: a message whose levels are all good is applied like the
    model does; a message with any bad level returns False, unsynced, counted, no bad
    value stored; a snapshot then restores an exact, synced book."""
    with monkeypatch.context() as patch:
        book = make(path, patch, CappedBook)
        model: dict[str, dict[float, list[Any]]] = {"a": {}, "b": {}}
        for side, levels in (("a", book.levels("X")[0]), ("b", book.levels("X")[1])):
            for level in levels:
                model[side][float(level[0])] = level
        errors = 0
        for asks, bids in messages:
            good = all(_is_good(level) for level in [*asks, *bids])
            synced = book.is_synced("X")
            applied = book._apply("X", asks, bids)
            assert applied == good
            if good:
                for side, levels in (("a", asks), ("b", bids)):
                    for level in levels:
                        if float(level[1]) == 0.0:
                            model[side].pop(float(level[0]), None)
                        else:
                            model[side][float(level[0])] = level
                if synced:  # the book is still exact while synced
                    asks_model = [model["a"][k] for k in sorted(model["a"])][:3]
                    bids_model = [model["b"][k] for k in sorted(model["b"], reverse=True)][:3]
                    assert book.levels("X") == (asks_model, bids_model)
                    for side in ("a", "b"):  # the cap trims the model too
                        keep = {float(level[0]) for level in book.levels("X")[side == "b"]}
                        model[side] = {k: v for k, v in model[side].items() if k in keep}
            else:
                errors += 1
                assert not book.is_synced("X")
            assert book.status("X").errors == errors
            book._check()
        assert book._replace("X", lv(("3", "1")), lv(("1", "1")), 99)
        assert book.levels("X") == ([["3", "1"]], [["1", "1"]])
        assert book.is_synced("X")
        book._check()


# ------------------------------------------------------------------ point 10

NOT_STR = [None, True, False, 0, 1, 1.5, ("X",), b"X"]


@pytest.mark.parametrize("symbol", NOT_STR, ids=repr)
def test_a_symbol_that_is_not_a_str_is_refused_everywhere(symbol: Any) -> None:
    """A ``null``/``true`` symbol made the resync hook raise TypeError (logged at
    ERROR) and left a book keyed ``None``."""
    book = SpotBook()
    hooked: list[Any] = []

    def hook(name: str) -> None:
        hooked.append(name)
        name.upper()  # what a real hook does with a symbol

    book.resync_hook = hook
    assert not book._apply(symbol, lv(("3", "1")), [])
    assert not book._replace(symbol, lv(("3", "1")), [], 1)
    assert not book._on_snapshot(symbol, 1, lv(("3", "1")), [])
    assert not book._on_delta(symbol, BookDelta(2, 2, None, lv(("3", "1")), []))
    book._fail(symbol, "gap", "test")
    book._invalidate(symbol, "test")
    book._request_resync(symbol)
    book._insert([{"s": symbol, "S": "a", "p": "3", "q": "1"}])
    assert hooked == []
    assert book.symbols == []
    assert book._books == {}
    assert book._states == {}
    assert len(book) == 0
    assert book.dropped == 8
    book._check()


def test_a_bad_symbol_is_logged_without_error_and_good_symbols_still_work(
    caplog: pytest.LogCaptureFixture,
) -> None:
    book = SpotBook()
    book.resync_hook = lambda name: name.upper()
    with caplog.at_level("DEBUG", logger="datastores"):
        assert not book._on_delta(None, BookDelta(2, 2, None, lv(("3", "1")), []))  # type: ignore[arg-type]
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert any("not a str" in r.getMessage() for r in caplog.records)
    assert book._on_snapshot("X", 1, lv(("3", "1")), [])
    assert book.is_synced("X")


# ------------------------------------------------ through an exchange's onmessage


def test_hostile_depth_updates_through_binance_onmessage(caplog: pytest.LogCaptureFixture) -> None:
    """The audit's cases on a real collection: a string level, a boolean size, a
    huge integer price; then null/true symbols. Nothing raises, nothing hostile is
    stored, the book says unsynced and asks for a snapshot; no ERROR is logged."""
    from datastores import BinanceSpotDataStore

    store = BinanceSpotDataStore()
    book = store.orderbook
    asked: list[str] = []
    book.resync_hook = asked.append
    snapshot = (lv(("3", "1"), ("4", "1")), lv(("2", "1"), ("1", "1")))  # best first
    update = {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": 101, "u": 101, "b": []}
    with caplog.at_level("DEBUG", logger="datastores"):
        for levels in (["51"], [["2.5", True]], [[HUGE, "1"]]):
            assert book._on_snapshot("BTCUSDT", 100, *snapshot)
            store.onmessage({**update, "a": levels})
            assert not book.is_synced("BTCUSDT")
            assert book.levels("BTCUSDT") == snapshot
            book._check()
        assert book.status("BTCUSDT").errors == 3
        assert asked == ["BTCUSDT"] * 3
        for symbol in (None, True, 5):
            store.onmessage({**update, "s": symbol, "a": lv(("5", "1"))})
    assert book.symbols == ["BTCUSDT"]
    assert book.dropped == 3
    assert asked == ["BTCUSDT"] * 3
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    book._check()
