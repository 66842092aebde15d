"""The fake exchanges' matching engine (datastores.testing.orders): invariants under random
order flow (hypothesis), and the time-in-force, quote-sized, reduce-only and hedge-mode rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datastores.testing import FakeExchange
from datastores.testing._venue import Venue
from datastores.testing.account import AccountEvent, FakeOrder
from datastores.testing.market import FakeBook
from datastores.testing.orders import ENTRY_QUANTUM, OrderRejected, OrderRequest

BTC, SWAP = "BTC-USDT", "BTC-USDT-SWAP"
ZERO = Decimal(0)


class Recorder:
    """A venue whose published account events are kept (the fake is never started)."""

    def __init__(self, seed: int = 1) -> None:
        self.fake = FakeExchange("okx-demo", seed=seed, rate=0, levels=40)
        self.venue: Venue = self.fake.venues["okx-demo"]
        self.events: list[AccountEvent] = []
        self.venue.emit_account = self.events.append  # type: ignore[method-assign]

    def book(self, symbol: str) -> FakeBook:
        return self.venue.book(symbol)

    def trades(self, since: int) -> list[AccountEvent]:
        return [e for e in self.events[since:] if e.execution == "TRADE"]


def total(venue: Venue, asset: str) -> Decimal:
    balance = venue.account.balances.get(asset)
    return Decimal(balance.free) + Decimal(balance.locked) if balance is not None else ZERO


def attempt(venue: Venue, request: OrderRequest) -> FakeOrder | str:
    """The order as it ends up, or why it was refused."""
    try:
        return venue.matching.submit(request)
    except OrderRejected as exc:
        return exc.reason


def check_orders(venue: Venue) -> None:
    for order in venue.account.orders.values():
        size, done = Decimal(order.quantity), Decimal(order.executed)
        remaining = size - done
        assert remaining >= 0
        assert done >= 0
        assert done + remaining == size
        assert (order.status == "FILLED") == (done == size)
        if order.is_open:
            assert venue.matching.is_working(order.order_id)
        else:
            assert not venue.matching.is_working(order.order_id)


def check_taker_fills(book: FakeBook, fills: list[AccountEvent], limit: Decimal | None) -> None:
    """Immediate fills: each at a level of the book as it was, never better, within the limit."""
    for event in fills:
        assert event.order is not None
        price, size = Decimal(event.last_price), Decimal(event.last_quantity)
        buy = event.order.side == "BUY"
        levels = {Decimal(p): Decimal(s) for p, s in (book.asks if buy else book.bids).items()}
        best = min(levels) if buy else max(levels)
        assert price in levels
        assert size <= levels[price]
        assert price >= best if buy else price <= best
        if limit is not None:
            assert price <= limit if buy else price >= limit


ORDER = st.tuples(
    st.just("order"),
    st.sampled_from(["BUY", "SELL"]),
    st.sampled_from(["limit", "market", "ioc", "fok", "post_only"]),
    st.integers(1, 900),  # size in thousandths of a BTC
    st.integers(-40, 40),  # limit price: ticks from the far side's best
)
TICK = st.tuples(st.just("tick"), st.integers(1, 6))
CANCEL = st.tuples(st.just("cancel"), st.integers(0, 30))
TIF = {"limit": "GTC", "market": "GTC", "ioc": "IOC", "fok": "FOK", "post_only": "POST_ONLY"}


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 50), steps=st.lists(st.one_of(ORDER, TICK, CANCEL), max_size=25))
def test_spot_invariants_under_random_order_flow(
    seed: int, steps: list[tuple[object, ...]]
) -> None:
    rec = Recorder(seed)
    venue, account = rec.venue, rec.venue.account
    account.set_balance(0, "USDT", "200000", "0")
    account.set_balance(0, "BTC", "3", "0")
    bought = spent = ZERO
    for step in steps:
        since = len(rec.events)
        if step[0] == "order":
            _, side, kind, thousandths, offset = step
            assert isinstance(side, str)
            assert isinstance(kind, str)
            assert isinstance(thousandths, int)
            assert isinstance(offset, int)
            book = rec.book(BTC)
            bids, asks = book.top(1)
            far = Decimal(asks[0][0] if side == "BUY" else bids[0][0])
            limit = far + Decimal("0.1") * offset * (1 if side == "BUY" else -1)
            request = OrderRequest(
                BTC,
                side,
                str(Decimal(thousandths) / 1000),
                None if kind == "market" else str(limit),
                "MARKET" if kind == "market" else "LIMIT",
                TIF[kind],
            )
            order = attempt(venue, request)
            if isinstance(order, str):
                assert order in ("insufficient_balance", "bad_price")
                assert rec.events[since:] == []
                continue
            fills = rec.trades(since)
            check_taker_fills(book, fills, None if kind == "market" else limit)
            if kind == "fok":
                assert order.status in ("FILLED", "CANCELED")
                assert order.status == "FILLED" or not fills
            if kind == "post_only":
                assert not fills
                # It rests unless it would have taken (then it is cancelled).
                assert order.is_open == (limit < far if side == "BUY" else limit > far)
            if kind in ("market", "ioc", "fok"):
                assert not order.is_open
        elif step[0] == "tick":
            assert isinstance(step[1], int)
            for _ in range(step[1]):
                mark = len(rec.events)
                venue.tick(1, BTC)
                bids, asks = rec.book(BTC).top(1)
                for event in rec.trades(mark):
                    # A resting order fills at its own price, once the book crosses it.
                    assert event.order is not None
                    assert event.last_price == event.order.price
                    price = Decimal(event.order.price)
                    if event.order.side == "BUY":
                        assert Decimal(asks[0][0]) <= price
                    else:
                        assert Decimal(bids[0][0]) >= price
        else:
            working = account.open_orders()
            if working:
                assert isinstance(step[1], int)
                venue.matching.cancel(working[step[1] % len(working)].order_id)
            with pytest.raises(OrderRejected) as refused:
                venue.matching.cancel(999)
            assert refused.value.reason == "unknown_order"
        for event in rec.trades(since):
            assert event.order is not None
            size, price = Decimal(event.last_quantity), Decimal(event.last_price)
            sign = 1 if event.order.side == "BUY" else -1
            bought += sign * size
            spent += sign * size * price
        check_orders(venue)
        # Balances move exactly with the fills; what is locked is what open orders reserve.
        assert total(venue, "BTC") == 3 + bought
        assert total(venue, "USDT") == 200000 - spent
        reserved = {"BTC": ZERO, "USDT": ZERO}
        for order in account.open_orders():
            remaining = Decimal(order.quantity) - Decimal(order.executed)
            if order.side == "BUY":
                reserved["USDT"] += remaining * Decimal(order.price)
            else:
                reserved["BTC"] += remaining
        for asset, amount in reserved.items():
            balance = account.balances[asset]
            assert Decimal(balance.locked) == amount
            assert Decimal(balance.free) >= 0


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 50),
    orders=st.lists(st.tuples(st.sampled_from(["BUY", "SELL"]), st.integers(1, 40)), max_size=12),
)
def test_swap_positions_and_realized_profit_follow_a_reference_model(
    seed: int, orders: list[tuple[str, int]]
) -> None:
    rec = Recorder(seed)
    venue, account = rec.venue, rec.venue.account
    account.set_balance(0, "USDT", "1000000", "0")
    amount = entry = realized = ZERO
    value = Decimal("0.01")
    for side, contracts in orders:
        since = len(rec.events)
        venue.matching.submit(OrderRequest(SWAP, side, str(contracts), order_type="MARKET"))
        for event in rec.trades(since):
            size, price = Decimal(event.last_quantity), Decimal(event.last_price)
            delta = size if side == "BUY" else -size
            if not amount or (amount > 0) == (delta > 0):
                entry = (abs(amount) * entry + size * price) / abs(amount + delta)
                entry = entry.quantize(ENTRY_QUANTUM)
            else:
                closed = min(size, abs(amount))
                realized += (price - entry) * closed * value * (1 if amount > 0 else -1)
                if abs(delta) > abs(amount):
                    entry = price
            amount += delta
        position = account.position(SWAP)
        assert position is not None
        assert Decimal(position.amount) == amount
        usdt = account.balances["USDT"]
        assert Decimal(usdt.free) + Decimal(usdt.locked) == 1000000 + realized
        if amount:
            assert Decimal(position.entry_price) == entry
            assert Decimal(usdt.locked) == abs(amount) * entry * value / 10
        else:
            assert Decimal(usdt.locked) == 0
        check_orders(venue)


def test_time_in_force_quote_sizes_and_rejections() -> None:
    rec = Recorder()
    venue, account = rec.venue, rec.venue.account
    account.set_balance(0, "USDT", "1000000", "0")
    asks = rec.book(BTC).top(2)[1]
    first = Decimal(asks[0][1])
    # FOK larger than what the limit reaches: cancelled, nothing fills.
    fok = venue.matching.submit(
        OrderRequest(BTC, "BUY", str(first + 1), asks[0][0], time_in_force="FOK")
    )
    assert (fok.status, fok.executed) == ("CANCELED", "0")
    # IOC: takes the first level, the rest is cancelled.
    ioc = venue.matching.submit(
        OrderRequest(BTC, "BUY", str(first + 1), asks[0][0], time_in_force="IOC")
    )
    assert (ioc.status, Decimal(ioc.executed)) == ("CANCELED", first)
    # Post-only that would take: cancelled; resting post-only stays.
    taking = venue.matching.submit(
        OrderRequest(BTC, "BUY", "0.01", asks[0][0], time_in_force="POST_ONLY")
    )
    assert (taking.status, taking.executed) == ("CANCELED", "0")
    bid = rec.book(BTC).top(1)[0][0][0]
    maker = venue.matching.submit(OrderRequest(BTC, "BUY", "0.01", bid, time_in_force="POST_ONLY"))
    assert maker.is_open
    assert venue.matching.is_working(maker.order_id)
    # A market buy worth 500 USDT: whole lots, never more than the amount.
    before = total(venue, "USDT")
    quoted = venue.matching.submit(
        OrderRequest(BTC, "BUY", order_type="MARKET", quote_quantity="500")
    )
    paid = before - total(venue, "USDT")
    assert quoted.status == "FILLED"
    assert 0 < paid <= 500
    assert paid > 500 - Decimal(asks[0][0]) * Decimal("0.00000001")

    def reason(request: OrderRequest) -> str:
        with pytest.raises(OrderRejected) as refused:
            venue.matching.submit(request)
        return refused.value.reason

    assert reason(OrderRequest("DOGE-USDT", "BUY", "1", "1")) == "unknown_symbol"
    assert reason(OrderRequest(BTC, "HOLD", "1", "1")) == "bad_side"
    assert reason(OrderRequest(BTC, "BUY", "-1", "1")) == "bad_size"
    assert reason(OrderRequest(BTC, "BUY", "abc", "1")) == "bad_size"
    assert reason(OrderRequest(BTC, "BUY", "1", "0.05")) == "bad_price"
    assert reason(OrderRequest(BTC, "BUY", "1", "nan")) == "bad_price"
    assert reason(OrderRequest(BTC, "SELL", "1", bid)) == "insufficient_balance"
    assert reason(OrderRequest(BTC, "BUY", "1", bid, reduce_only=True)) == "reduce_only"
    assert reason(OrderRequest(SWAP, "SELL", "1", reduce_only=True, order_type="MARKET")) == (
        "reduce_only"
    )
    assert reason(OrderRequest(SWAP, "SELL", "1", "1", position_side="LONG")) == "position_side"
    venue.matching.hedge_mode = True
    assert reason(OrderRequest(SWAP, "SELL", "1", order_type="MARKET")) == "position_side"
    # Hedge mode: SELL on the LONG side closes, so it needs a long position.
    assert reason(OrderRequest(SWAP, "SELL", "1", position_side="LONG", order_type="MARKET")) == (
        "reduce_only"
    )
    venue.matching.submit(OrderRequest(SWAP, "BUY", "2", position_side="LONG", order_type="MARKET"))
    venue.matching.submit(
        OrderRequest(SWAP, "SELL", "1", position_side="SHORT", order_type="MARKET")
    )
    long, short = account.position(SWAP, "LONG"), account.position(SWAP, "SHORT")
    assert long is not None
    assert short is not None
    assert (long.amount, short.amount) == ("2", "-1")
    venue.matching.submit(
        OrderRequest(SWAP, "SELL", "2", position_side="LONG", order_type="MARKET")
    )
    long = account.position(SWAP, "LONG")
    assert long is not None
    assert long.amount == "0"


def test_scripted_events_on_engine_orders_do_not_break_matching() -> None:
    rec = Recorder()
    venue, account = rec.venue, rec.venue.account
    account.set_balance(0, "USDT", "100000", "0")
    bid = rec.book(BTC).top(1)[0][0][0]
    resting = venue.matching.submit(OrderRequest(BTC, "BUY", "0.5", bid))
    other = venue.matching.submit(OrderRequest(BTC, "BUY", "0.2", bid))
    assert Decimal(account.balances["USDT"].locked) == Decimal(bid) * Decimal("0.7")
    rec.fake.cancel_order(resting.order_id)  # a test script closes it behind the engine
    rec.fake.fill_order(other.order_id)
    venue.tick(5, BTC)  # the engine notices, releases the reservations and matches on
    assert not venue.matching.is_working(resting.order_id)
    assert not venue.matching.is_working(other.order_id)
    assert Decimal(account.balances["USDT"].locked) == 0
    with pytest.raises(OrderRejected):
        venue.matching.cancel(resting.order_id)


def test_a_scripted_partial_fill_then_an_engine_fill_releases_every_reservation() -> None:
    rec = Recorder()
    venue, account = rec.venue, rec.venue.account
    account.set_balance(0, "USDT", "100000", "0")
    bid = rec.book(BTC).top(1)[0][0][0]
    order = venue.matching.submit(OrderRequest(BTC, "BUY", "0.5", bid))
    rec.fake.fill_order(order.order_id, "0.2")  # scripted: moves no balance
    for _ in range(3000):
        venue.tick(1, BTC)
        if not venue.matching.is_working(order.order_id):
            break
    assert account.orders[order.order_id].status == "FILLED"
    # The engine filled 0.3 at the order's price; nothing stays locked.
    assert Decimal(account.balances["USDT"].locked) == 0
    assert Decimal(account.balances["USDT"].free) == 100000 - Decimal(bid) * Decimal("0.3")
