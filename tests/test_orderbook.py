"""OrderBookStore: sorted access, integrity state, sequenced sync, invariants."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from _bookimpl import small_sides
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from datastores import OrderBookStore
from datastores._integrity import BinanceFuturesRule, BinanceSpotRule, BookDelta, OKXSeqRule

pytestmark = pytest.mark.usefixtures("book_impl")  # pure Python and native


class Book(OrderBookStore):
    """Binance-shaped book: s / S (a|b) / p / q."""


class SpotBook(OrderBookStore):
    _RULE = BinanceSpotRule()


class FuturesBook(OrderBookStore):
    _RULE = BinanceFuturesRule()


def levels(*pairs: tuple[str, str]) -> list[list[str]]:
    return [list(p) for p in pairs]


def test_sorted_best_first_with_strings_as_received() -> None:
    book = Book()
    book._replace(
        "BTC",
        asks=levels(("101.50", "1"), ("100.5", "2"), ("1000", "3")),
        bids=levels(("99", "1"), ("99.990", "2"), ("9", "3")),
        update_id=7,
    )
    result = book.sorted({"s": "BTC"}, limit=2)
    assert [i["p"] for i in result["a"]] == ["100.5", "101.50"]
    assert [i["p"] for i in result["b"]] == ["99.990", "99"]
    assert result["a"][0] == {"s": "BTC", "S": "a", "p": "100.5", "q": "2"}
    assert book.best("BTC") == (result["a"][0], result["b"][0])
    assert book.status("BTC").last_update_id == 7
    assert book.status("BTC").synced
    book._check()


def test_zero_size_deletes_and_unknown_delete_is_harmless() -> None:
    book = Book()
    book._apply("X", levels(("1", "1"), ("2", "1")), levels(("0.5", "1")))
    book._apply("X", levels(("1", "0.000"), ("3", "0")), [])
    assert [i["p"] for i in book.sorted({"s": "X"})["a"]] == ["2"]
    assert len(book) == 2
    book._check()


def test_query_on_symbol_only_touches_that_book_and_other_fields_filter() -> None:
    book = Book()
    book._apply("A", levels(("1", "1")), levels(("0.5", "2")))
    book._apply("B", levels(("10", "1")), [])
    assert book.find({"s": "B"}) == [{"s": "B", "S": "a", "p": "10", "q": "1"}]
    assert book.sorted({"s": "A", "S": "b"}) == {
        "a": [],
        "b": [{"s": "A", "S": "b", "p": "0.5", "q": "2"}],
    }
    merged = book.sorted()
    assert [i["p"] for i in merged["a"]] == ["1", "10"]
    assert book.get({"s": "A", "S": "b", "p": "0.50"}) == {"s": "A", "S": "b", "p": "0.5", "q": "2"}


def test_depth_cap_trims_worst_levels() -> None:
    book = Book()
    book.set_depth("X", 2)
    book._apply(
        "X",
        levels(("1", "1"), ("2", "1"), ("3", "1")),
        levels(("0.9", "1"), ("0.8", "1"), ("0.7", "1")),
    )
    assert [i["p"] for i in book.sorted({"s": "X"})["a"]] == ["1", "2"]
    assert [i["p"] for i in book.sorted({"s": "X"})["b"]] == ["0.9", "0.8"]
    book._check()


def test_uncapped_book_is_never_truncated() -> None:
    book = Book()
    book._apply("X", [[str(p), "1"] for p in range(1, 30001)], [])
    assert len(book) == 30000
    book._check()


def test_malformed_level_marks_unsynced_without_raising(caplog: pytest.LogCaptureFixture) -> None:
    book = SpotBook()
    asked: list[str] = []
    book.resync_hook = asked.append
    book._on_snapshot("X", 10, levels(("1", "1")), levels(("0.5", "1")))
    with caplog.at_level(logging.WARNING, "datastores.orderbook"):
        applied = book._on_delta("X", BookDelta(11, 11, None, [["oops", "1"]], []))
    assert not applied
    status = book.status("X")
    assert not status.synced
    assert status.errors == 1
    assert "malformed" in (status.last_error or "")
    assert asked == ["X"]
    assert "unsynced" in caplog.text
    book._check()


# ------------------------------------------------------------ sequenced sync


def delta(
    first: int, last: int, prev: int | None = None, asks: Any = (), bids: Any = ()
) -> BookDelta:
    return BookDelta(first, last, prev, list(asks), list(bids))


def test_spot_buffers_until_snapshot_then_bridges_and_drops_stale() -> None:
    book = SpotBook()
    asked: list[str] = []
    book.resync_hook = asked.append
    book._on_delta("X", delta(95, 99, asks=[["5", "1"]]))  # covered by the snapshot
    book._on_delta("X", delta(100, 102, asks=[["1", "9"]]))  # bridges 101
    book._on_delta("X", delta(103, 104, bids=[["0.5", "2"]]))
    assert asked == ["X"]  # one request, not one per delta
    assert len(book) == 0
    assert not book.status("X").synced
    assert book._on_snapshot("X", 100, levels(("1", "1"), ("5", "5")), [])
    status = book.status("X")
    assert status.synced
    assert status.last_update_id == 104
    assert status.stale == 1
    assert status.buffered == 0
    assert book.sorted({"s": "X"})["a"][0]["q"] == "9"
    assert book.get({"s": "X", "S": "b", "p": "0.5"}) is not None
    # live updates keep following; a stale one is dropped; a gap is detected
    assert book._on_delta("X", delta(105, 105, asks=[["2", "1"]]))
    assert not book._on_delta("X", delta(104, 105))
    assert not book._on_delta("X", delta(107, 108))
    status = book.status("X")
    assert (status.synced, status.gaps, status.resyncs, status.buffered) == (False, 1, 2, 1)
    assert asked == ["X", "X"]
    book._check()


def test_spot_snapshot_too_old_for_the_buffer_asks_again() -> None:
    book = SpotBook()
    asked: list[str] = []
    book.resync_hook = asked.append
    book._on_delta("X", delta(200, 201))
    assert not book._on_snapshot("X", 150, [], [])
    status = book.status("X")
    assert not status.synced
    assert status.gaps == 1
    assert asked == ["X", "X"]


def test_futures_rule_uses_pu() -> None:
    book = FuturesBook()
    book._on_delta("X", delta(90, 110, 89, asks=[["1", "1"]]))
    assert book._on_snapshot("X", 100, [], [])
    assert book.status("X").last_update_id == 110
    assert book._on_delta("X", delta(111, 120, 110))
    assert not book._on_delta("X", delta(121, 130, 119))
    assert book.status("X").gaps == 1


def test_reconnect_invalidation_is_not_a_gap_and_clears_buffer() -> None:
    book = SpotBook()
    asked: list[str] = []
    book.resync_hook = asked.append
    book._on_snapshot("X", 1, levels(("1", "1")), [])
    book._on_delta("Y", delta(5, 6))
    book._invalidate_all("reconnect")
    for symbol in ("X", "Y"):
        status = book.status(symbol)
        assert not status.synced
        assert status.gaps == 0
        assert status.buffered == 0
    assert sorted(asked) == ["X", "Y", "Y"]


def test_checksum_verification_marks_failure() -> None:
    class OKXBook(OrderBookStore):
        _SYMBOL, _SIDE, _PRICE, _SIZE, _ASK, _BID = "instId", "side", "px", "sz", "asks", "bids"
        _RULE = OKXSeqRule()

    book = OKXBook()
    book._replace("BTC-USDT", [["3366.8", "9"], ["3368", "8"]], [["3366.1", "7"], ["3366", "6"]], 1)
    good = book.checksum("BTC-USDT")
    assert book._on_delta("BTC-USDT", BookDelta(2, 2, 1, [], [], checksum=good))
    assert not book._on_delta("BTC-USDT", BookDelta(3, 3, 2, [["3367", "1"]], [], checksum=good))
    status = book.status("BTC-USDT")
    assert status.checksum_failures == 1
    assert not status.synced


# ---------------------------------------------------- stateful model (hypothesis)

PRICES = st.sampled_from(["1", "1.5", "2", "2.50", "3", "10", "0.1", "7"])
SIZES = st.sampled_from(["0", "0.0", "1", "2.5", "3"])
LEVELS = st.lists(st.tuples(PRICES, SIZES).map(list), max_size=6)


class BookModel(RuleBasedStateMachine):
    """OrderBookStore against a dict-of-dicts model, with a watcher replaying changes."""

    @initialize()
    def setup(self) -> None:
        self.book = Book()
        self.stream = self.book.watch()
        self.model: dict[str, dict[str, dict[float, list[str]]]] = {}
        self.mirror: dict[tuple[str, str, float], dict[str, Any]] = {}
        self.caps: dict[str, int] = {}

    def _model_apply(self, symbol: str, side: str, lv: list[list[str]]) -> None:
        book = self.model.setdefault(symbol, {"a": {}, "b": {}})[side]
        for price, size in lv:
            if float(size) == 0:
                book.pop(float(price), None)
            else:
                book[float(price)] = [price, size]

    def _model_trim(self, symbol: str) -> None:
        cap = self.caps.get(symbol)
        if cap is None or symbol not in self.model:
            return
        for side, reverse in (("a", False), ("b", True)):
            keep = sorted(self.model[symbol][side], reverse=reverse)[:cap]
            self.model[symbol][side] = {k: self.model[symbol][side][k] for k in keep}

    @rule(symbol=st.sampled_from("XY"), asks=LEVELS, bids=LEVELS)
    def apply(self, symbol: str, asks: list[list[str]], bids: list[list[str]]) -> None:
        self.book._apply(symbol, asks, bids)
        self._model_apply(symbol, "a", asks)
        self._model_apply(symbol, "b", bids)
        self._model_trim(symbol)

    @rule(symbol=st.sampled_from("XY"), asks=LEVELS, bids=LEVELS)
    def snapshot(self, symbol: str, asks: list[list[str]], bids: list[list[str]]) -> None:
        self.book._replace(symbol, asks, bids, 1)
        self.model[symbol] = {"a": {}, "b": {}}
        self._model_apply(symbol, "a", asks)
        self._model_apply(symbol, "b", bids)
        self._model_trim(symbol)

    @rule(symbol=st.sampled_from("XY"))
    def clear_symbol(self, symbol: str) -> None:
        self.book._find_and_delete({"s": symbol})
        self.model.pop(symbol, None)

    @rule(symbol=st.sampled_from("XY"), cap=st.integers(1, 4))
    def cap(self, symbol: str, cap: int) -> None:
        self.caps[symbol] = cap
        self.book.set_depth(symbol, cap)
        self._model_trim(symbol)

    @invariant()
    def consistent(self) -> None:
        if not hasattr(self, "book"):
            return
        self.book._check()
        total = 0
        for symbol in "XY":
            sides = self.model.get(symbol, {"a": {}, "b": {}})
            got = self.book.sorted({"s": symbol}, limit=3)
            want_a = [sides["a"][k] for k in sorted(sides["a"])]
            want_b = [sides["b"][k] for k in sorted(sides["b"], reverse=True)]
            assert [[i["p"], i["q"]] for i in got["a"]] == want_a[:3]
            assert [[i["p"], i["q"]] for i in got["b"]] == want_b[:3]
            total += len(want_a) + len(want_b)
        assert len(self.book) == total
        # a watcher that replays the changes ends with the same book
        while (change := self.stream.get_nowait()) is not None:
            item = change.data
            key = (item["s"], item["S"], float(item["p"]))
            if change.operation == "delete":
                assert self.mirror.pop(key) == item
            else:
                self.mirror[key] = item
        assert sorted(self.mirror.values(), key=repr) == sorted(self.book, key=repr)


def test_book_model() -> None:
    """The state machine, once per side implementation (``book_impl``)."""
    run_state_machine_as_test(
        BookModel,
        settings=settings(
            max_examples=60,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


@settings(max_examples=80, deadline=None)
@given(
    updates=st.lists(
        st.tuples(
            st.sampled_from("ab"),
            st.lists(st.tuples(st.integers(1, 40).map(str), SIZES).map(list), max_size=8),
        ),
        max_size=25,
    )
)
def test_large_book_mode_matches_a_naive_model(updates: list[tuple[str, list[list[str]]]]) -> None:
    """Sides switch to a SortedList past PySide.PROMOTE levels (native sides: to many
    small chunks); results must not change."""
    with small_sides(promote=3):
        book = Book()
        model: dict[str, dict[float, list[str]]] = {"a": {}, "b": {}}
        for side, lv in updates:
            book._apply("X", lv if side == "a" else [], lv if side == "b" else [])
            for price, size in lv:
                if float(size) == 0:
                    model[side].pop(float(price), None)
                else:
                    model[side][float(price)] = [price, size]
            book._check()
        got = book.sorted({"s": "X"})
        assert [[i["p"], i["q"]] for i in got["a"]] == [model["a"][k] for k in sorted(model["a"])]
        assert [[i["p"], i["q"]] for i in got["b"]] == [
            model["b"][k] for k in sorted(model["b"], reverse=True)
        ]
        best_ask, best_bid = book.best("X")
        assert (best_ask["p"] if best_ask else None) == (got["a"][0]["p"] if got["a"] else None)
        assert (best_bid["p"] if best_bid else None) == (got["b"][0]["p"] if got["b"] else None)
