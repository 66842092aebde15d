"""OrderBookStore under malformed levels: a bad level never leaves a book broken or
"synced", whichever path applies it (plain list, SortedList, watched, generic API)."""

from __future__ import annotations

from typing import Any

import pytest
from _bookimpl import shrink_sides

from datastores import OrderBookStore

pytestmark = pytest.mark.usefixtures("book_impl")  # pure Python and native


class Book(OrderBookStore):
    """Binance-shaped book: s / S (a|b) / p / q."""


class CappedBook(OrderBookStore):
    """A book the exchange publishes only to 3 levels a side."""

    _DEPTH = 3


def lv(*pairs: tuple[str, str]) -> list[list[str]]:
    return [list(p) for p in pairs]


@pytest.mark.parametrize("price", ["nan", "NaN", "-nan"])
@pytest.mark.parametrize("path", ["list", "tree", "watched"])
def test_a_nan_price_is_a_malformed_level_not_a_synced_book(
    price: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A NaN key can be neither found nor ordered: stored, it put the side out of
    order (``sorted()`` raised KeyError, later deletes removed the wrong rank) while
    status() still said synced."""
    if path == "tree":
        shrink_sides(monkeypatch)  # every side takes its large-book path
    book = Book()
    if path == "watched":
        book.watch()
    book._replace("X", lv(("3", "1"), ("4", "1"), ("5", "1")), lv(("1", "1"), ("2", "1")), 10)
    applied = book._apply("X", lv((price, "1")), [])
    assert not applied
    status = book.status("X")
    assert not status.synced
    assert status.errors == 1
    assert "not a number" in (status.last_error or "")
    book._check()
    # The side still works: reads, deletes and inserts keep it ordered.
    book._replace("X", lv(("3", "1"), ("4", "1")), lv(("1", "1")), 11)
    assert book._apply("X", lv(("3", "0"), ("3.5", "2")), [])
    assert [i["p"] for i in book.sorted({"s": "X"})["a"]] == ["3.5", "4"]
    book._check()


def test_a_nan_price_through_the_generic_api_is_refused() -> None:
    book = Book()
    book._insert([{"s": "X", "S": "a", "p": "1", "q": "1"}])
    book._insert([{"s": "X", "S": "a", "p": "nan", "q": "1"}])
    assert [i["p"] for i in book.sorted({"s": "X"})["a"]] == ["1"]
    book._check()


def test_a_delete_of_a_nan_price_changes_nothing_and_is_malformed() -> None:
    """It used to be accepted as a harmless delete; a NaN price is no price at all
    (issue 15 point 6), so the message is now refused, still without changing a level."""
    book = Book()
    book._replace("X", lv(("3", "1")), lv(("1", "1")), 1)
    assert not book._apply("X", lv(("nan", "0")), [])
    assert book.levels("X") == ([["3", "1"]], [["1", "1"]])
    assert book.status("X").errors == 1
    book._check()


@pytest.mark.parametrize("watched", [False, True])
def test_a_malformed_update_still_leaves_the_book_within_its_depth_cap(watched: bool) -> None:
    """Levels before the bad one are applied (the book is then unsynced); they used to
    be left beyond the depth cap because the failed update skipped the trim."""
    book = CappedBook()
    if watched:
        book.watch()
    book._replace("X", lv(("3", "1"), ("4", "1"), ("5", "1")), lv(("1", "1")), 1)
    assert not book._apply("X", lv(("2", "1"), ("2.5", "1"), ("x", "1")), [])
    assert not book.status("X").synced
    assert book.status("X").asks == 3
    assert [level[0] for level in book.levels("X")[0]] == ["2", "2.5", "3"]
    book._check()


def test_set_depth_cap_also_holds_after_a_malformed_update() -> None:
    book = Book()
    book.set_depth("X", 2)
    book._replace("X", lv(("3", "1"), ("4", "1")), [], 1)
    bad: Any = [["1", "1"], None]
    assert not book._apply("X", bad, [])
    assert [level[0] for level in book.levels("X")[0]] == ["1", "3"]
    book._check()


def test_repr_counts_the_levels() -> None:
    """DataStore's repr counted its item dict, which a book never fills: ``items=0``
    for a book with levels (misleading in logs and test failures)."""
    book = Book()
    book._replace("X", lv(("3", "1"), ("4", "1")), lv(("1", "1")), 1)
    assert "items=3" in repr(book)


@pytest.mark.parametrize("watched", [False, True])
@pytest.mark.parametrize("side", [None, {}, "", 0])
def test_a_side_that_is_not_a_list_is_malformed_even_when_empty(side: Any, watched: bool) -> None:
    """A falsy side (``"a": null``) was skipped as if empty: the other side applied,
    the update counted, the book still synced, the side's changes silently lost."""
    book = Book()
    if watched:
        book.watch()
    book._replace("X", lv(("3", "1")), lv(("1", "1")), 1)
    assert not book._apply("X", side, lv(("2", "1")))
    assert not book.status("X").synced
    assert book.status("X").errors == 1
    book._check()


def test_empty_sides_are_fine() -> None:
    book = Book()
    book._replace("X", lv(("3", "1")), lv(("1", "1")), 1)
    assert book._apply("X", [], lv(("2", "1")))
    assert book._apply("X", (), [])
    assert book.status("X").synced
