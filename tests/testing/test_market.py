"""The seeded market generator: deterministic, consistent, realistic enough."""

from __future__ import annotations

from decimal import Decimal

import pytest

from datastores.testing import FakeBook, MarketConfig, MarketGenerator

CONFIG = MarketConfig("BTCUSDT", "0.01", "0.00001", "65000", levels=500, price_decimals=8)


def _apply(book: dict[str, str], levels: tuple[tuple[str, str], ...]) -> None:
    for price, size in levels:
        if Decimal(size) == 0:
            book.pop(price, None)
        else:
            book[price] = size


def test_same_seed_same_stream_and_different_seed_differs() -> None:
    first = [MarketGenerator(CONFIG, seed=5).step() for _ in range(1)]
    a, b, c = MarketGenerator(CONFIG, 5), MarketGenerator(CONFIG, 5), MarketGenerator(CONFIG, 6)
    assert a.book() == b.book()
    stream_a = [a.step() for _ in range(300)]
    stream_b = [b.step() for _ in range(300)]
    stream_c = [c.step() for _ in range(300)]
    assert stream_a == stream_b
    assert stream_a[0] == first[0]
    assert stream_a != stream_c


def test_updates_applied_to_the_start_book_give_the_current_book() -> None:
    market = MarketGenerator(CONFIG, seed=11)
    start = market.book()
    bids, asks = dict(start.bids), dict(start.asks)
    previous_last = start.last_update_id
    for _ in range(800):
        update = market.step()
        assert update.prev_id == previous_last
        assert update.first_id == previous_last + 1
        assert update.last_id == update.first_id + len(update.bids) + len(update.asks) - 1
        previous_last = update.last_id
        _apply(bids, update.bids)
        _apply(asks, update.asks)
        best_bid, best_ask = market.best()
        assert Decimal(best_bid) < Decimal(best_ask)
    book = market.book()
    assert (book.bids, book.asks) == (bids, asks)
    assert book.last_update_id == previous_last


def test_book_shape_is_realistic() -> None:
    market = MarketGenerator(CONFIG, seed=3)
    updates = [market.step() for _ in range(1500)]
    changes = [level for u in updates for level in (*u.bids, *u.asks)]
    deletions = [level for level in changes if Decimal(level[1]) == 0]
    assert 0.1 < len(deletions) / len(changes) < 0.35
    assert all(1 <= len(u.bids) + len(u.asks) <= CONFIG.max_changes + 4 for u in updates)
    assert sum(len(u.trades) for u in updates) > 250
    book = market.book()
    assert 0.85 * CONFIG.levels <= len(book.bids) <= 1.15 * CONFIG.levels
    assert 0.85 * CONFIG.levels <= len(book.asks) <= 1.15 * CONFIG.levels
    assert all(Decimal(s) > 0 for s in (*book.bids.values(), *book.asks.values()))
    # Prices are printed with the configured decimals, on the tick grid.
    for price in list(book.bids)[:50]:
        assert len(price.split(".")[1]) == 8
        assert Decimal(price) % Decimal("0.01") == 0
    # The spread stays tight: a random walk, not a drift apart.
    best_bid, best_ask = market.best()
    assert Decimal(best_ask) - Decimal(best_bid) < Decimal("1")


def test_levels_are_best_first() -> None:
    market = MarketGenerator(CONFIG, seed=1)
    bids = market.levels("bid", 20)
    asks = market.levels("ask", 20)
    assert [Decimal(p) for p, _ in bids] == sorted((Decimal(p) for p, _ in bids), reverse=True)
    assert [Decimal(p) for p, _ in asks] == sorted(Decimal(p) for p, _ in asks)
    top_bids, top_asks = market.book().top(20)
    assert (top_bids, top_asks) == (bids, asks)


def test_differences_finds_missing_extra_and_wrong_levels() -> None:
    truth = FakeBook("X", 1, bids={"10.0": "1", "9.0": "2", "1.0": "5"}, asks={"11.0": "1"})
    assert truth.differences({"10": "1.0", "9.0": "2"}, {"11.00": "1"}, depth=2) == []
    problems = truth.differences({"10.0": "1", "9.5": "1"}, {"11.0": "3"}, depth=2)
    assert any("bid 9.0: missing" in p for p in problems)
    assert any("bid 9.5: not on the exchange" in p for p in problems)
    assert any("ask 11.0: size 3" in p for p in problems)
    # A deep level the client holds must match too.
    assert truth.differences({"10.0": "1", "9.0": "2", "1.0": "4"}, {"11.0": "1"}, 2)


def test_bad_config_is_refused() -> None:
    with pytest.raises(ValueError, match="decimals"):
        MarketGenerator(MarketConfig("X", tick_size="0.001", price_decimals=2))
