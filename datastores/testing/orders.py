"""Order entry for the fake exchanges: one matching engine shared by every dialect.

A venue's profile turns an exchange's signed "place order" request into an
:class:`OrderRequest` and hands it to the venue's :class:`MatchingEngine`
(``venue.matching``), which

* checks it against the :class:`Instrument` the profile describes (unknown
  symbol, size not a positive multiple of the lot, price not on the tick,
  reduce-only and position-side rules, the free balance) and raises
  :class:`OrderRejected` with a :data:`RejectReason` the profile turns into the
  exchange's own error;
* accepts it through :class:`~datastores.testing.account.FakeAccount` (so the
  scripted account and the order entry share one state and one set of events);
* fills it at once against the fake's current book when it crosses: at the
  book's prices, level by level, up to the order size (a limit order never
  beyond its price);
* leaves the rest resting; each later market update fills a resting order the
  book now crosses, at the order's own price (it is the maker), as much as the
  crossing levels hold;
* cancels what a market, IOC or FOK order could not fill (a FOK that cannot fill
  whole fills nothing; a post-only order that would take is cancelled);
* moves balances with every fill and publishes every change (order, position,
  balance) through the venue's profile, as the scripted events are.

Balances: a spot order reserves what it may spend (a buy ``price x size`` of the
quote currency, a sell its size of the base), released as it fills or on cancel.
A derivative (linear: margined and settled in the quote currency) reserves its
initial margin ``price x size x contract value / leverage``; an open position
keeps ``|amount| x entry x contract value / leverage`` locked, and a fill that
reduces a position credits or debits its realized profit (against the average
entry price, rounded to 10 decimals). No fees, no funding,
no liquidation.

The fake market is not changed by these fills: the generated book stands for
the rest of the market, and the same liquidity can fill the next order again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Literal

from .account import AccountEvent, FakeBalance, FakeOrder, position_key

if TYPE_CHECKING:
    from ._venue import Venue

__all__ = [
    "Instrument",
    "MatchingEngine",
    "OrderRejected",
    "OrderRequest",
    "RejectReason",
]

#: why the engine refused an order (each profile maps it to the exchange's error)
RejectReason = Literal[
    "unknown_symbol",
    "bad_side",
    "bad_size",
    "bad_price",
    "insufficient_balance",
    "reduce_only",
    "position_side",
    "unknown_order",
]

_ZERO = Decimal(0)
#: a position's average entry price is kept to this many decimals
ENTRY_QUANTUM = Decimal("1e-10")


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _format(value: Decimal, decimals: int | None) -> str:
    """``value`` printed with the venue's fixed decimals where it has them (Binance
    Spot: 8), else as plainly as possible (OKX echoes ``"0.5"``)."""
    return _plain(value) if decimals is None else f"{value:.{decimals}f}"


def _decimal(text: str | None, what: str) -> Decimal:
    try:
        value = Decimal(text) if text is not None else Decimal("NaN")
    except (InvalidOperation, ValueError, TypeError):
        value = Decimal("NaN")
    if not value.is_finite():
        raise OrderRejected("bad_price" if what == "price" else "bad_size", f"bad {what} {text!r}")
    return value


@dataclass(frozen=True, slots=True)
class Instrument:
    """What the engine must know about one symbol (a profile describes it).

    Attributes:
        symbol: the exchange's spelling.
        base, quote: the currencies; a derivative is margined and settled in ``quote``.
        derivative: a linear perpetual or future (positions), else spot (balances).
        contract_value: base currency per unit of size (OKX swaps: ``"0.01"`` BTC
            per contract; ``"1"`` where sizes are in the base currency).
        leverage: initial margin is notional / leverage.
        min_size: the smallest size accepted (default: one lot).
    """

    symbol: str
    base: str
    quote: str
    derivative: bool = False
    contract_value: str = "1"
    leverage: str = "10"
    min_size: str | None = None


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One order as a profile read it from the exchange's request.

    Attributes:
        symbol: the exchange's spelling.
        side: ``"BUY"`` or ``"SELL"``.
        quantity: size in the instrument's unit (base currency or contracts),
            decimal string; ``None`` for a market order given by ``quote_quantity``.
        price: limit price (decimal string); ``None`` for a market order.
        order_type: ``"LIMIT"`` or ``"MARKET"``.
        time_in_force: ``"GTC"``, ``"IOC"``, ``"FOK"`` or ``"POST_ONLY"``.
        client_order_id: the client's id, if any.
        reduce_only: may only shrink a position (derivatives).
        position_side: ``"BOTH"`` (one-way mode) or ``"LONG"``/``"SHORT"`` (hedge mode).
        quote_quantity: a market order's amount in the quote currency (spend for a
            buy, receive for a sell) instead of ``quantity``.
    """

    symbol: str
    side: str
    quantity: str | None = None
    price: str | None = None
    order_type: str = "LIMIT"
    time_in_force: str = "GTC"
    client_order_id: str | None = None
    reduce_only: bool = False
    position_side: str = "BOTH"
    quote_quantity: str | None = None


class OrderRejected(Exception):
    """The engine refused an order or a cancel; ``reason`` says why, ``message`` how,
    ``asset`` which currency was short (``insufficient_balance``)."""

    def __init__(self, reason: RejectReason, message: str, asset: str = "") -> None:
        super().__init__(message)
        self.reason: RejectReason = reason
        self.message = message
        self.asset = asset


@dataclass(slots=True)
class _Working:
    """Engine bookkeeping of one open order: its instrument and what it reserves."""

    instrument: Instrument
    asset: str
    reserved_per_unit: Decimal
    #: size filled by the engine (scripted fills release their reservation only at the end)
    filled: Decimal = _ZERO


class MatchingEngine:
    """Order entry and matching of one venue (``venue.matching``); see the module docstring.

    Attributes:
        hedge_mode: derivatives positions are kept per side (``LONG``/``SHORT``);
            orders must name their ``position_side`` (a profile's "position mode"
            endpoint sets it).
    """

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.hedge_mode = False
        #: the fills (``TRADE`` events) of the last :meth:`submit`, for the order's answer
        self.last_trades: list[AccountEvent] = []
        self._working: dict[int, _Working] = {}

    def __repr__(self) -> str:
        return f"<MatchingEngine {self.venue.name}: {len(self._working)} working>"

    # ---------------------------------------------------------------- reading

    def instrument(self, symbol: str) -> Instrument:
        """The instrument of ``symbol``.

        Raises:
            OrderRejected: ``unknown_symbol``, the venue does not list it.
        """
        found = self.venue.profile.instrument(symbol) if symbol in self.venue.markets else None
        if found is None:
            raise OrderRejected("unknown_symbol", f"unknown symbol {symbol!r}")
        return found

    def order(self, order_id: int) -> FakeOrder:
        """Any order of the account, open or not.

        Raises:
            OrderRejected: ``unknown_order``.
        """
        order = self.venue.account.orders.get(order_id)
        if order is None:
            raise OrderRejected("unknown_order", f"unknown order {order_id}")
        return order

    def crosses(self, symbol: str, side: str, price: Decimal) -> bool:
        """Whether a limit order of ``side`` at ``price`` would take liquidity now."""
        return bool(self._crossing(symbol, side.upper(), Decimal(1), price))

    def is_working(self, order_id: int) -> bool:
        """Whether ``order_id`` rests on the book through this engine."""
        return order_id in self._working

    # ---------------------------------------------------------------- entry

    def submit(self, request: OrderRequest) -> FakeOrder:
        """Check, accept, match and publish one order; returns it as it ends up
        (filled, resting, or cancelled for what an IOC/FOK/market could not fill).

        Raises:
            OrderRejected: the order is refused (nothing changed, nothing published).
        """
        instrument = self.instrument(request.symbol)
        market = self.venue.markets[request.symbol]
        side = request.side.upper()
        if side not in ("BUY", "SELL"):
            raise OrderRejected("bad_side", f"side must be BUY or SELL, not {request.side!r}")
        market_order = request.order_type.upper() == "MARKET"
        limit = None if market_order else _decimal(request.price, "price")
        tick = Decimal(market.config.tick_size)
        if limit is not None and (limit <= 0 or limit % tick):
            raise OrderRejected(
                "bad_price", f"price {request.price} is not a positive multiple of {tick}"
            )
        lot = Decimal(market.config.lot_size)
        if market_order and request.quantity is None:
            amount = _decimal(request.quote_quantity, "quote quantity")
            quantity = self._size_for_quote(request.symbol, side, amount, lot)
        else:
            quantity = _decimal(request.quantity, "size")
        least = Decimal(instrument.min_size or lot)
        if quantity <= 0 or quantity % lot or quantity < least:
            raise OrderRejected(
                "bad_size", f"size {_plain(quantity)} must be a multiple of {lot}, at least {least}"
            )
        reducing = self._check_position(instrument, side, quantity, request)
        fills = self._crossing(request.symbol, side, quantity, limit)
        reserve_asset, per_unit = self._reservation(instrument, side, limit, reducing)
        needed = per_unit * quantity
        if market_order:
            needed = self._market_cost(instrument, side, fills, reducing)
        free = self._free(reserve_asset)
        if needed > free:
            raise OrderRejected(
                "insufficient_balance",
                f"insufficient {reserve_asset}: needs {_plain(needed)}, free {_plain(free)}",
                reserve_asset,
            )
        tif = request.time_in_force.upper()
        account = self.venue.account
        self.last_trades = []
        event = account.place(
            self.venue.now_ms(),
            request.symbol,
            side,
            _format(quantity, market.config.size_decimals),
            "0" if limit is None else _format(limit, market.config.price_decimals),
            "MARKET" if market_order else "LIMIT",
            request.client_order_id,
            time_in_force="IOC" if market_order else tif,
            reduce_only=request.reduce_only,
            position_side=request.position_side,
        )
        order = event.order
        assert order is not None
        self.venue.emit_account(event)
        self._working[order.order_id] = _Working(
            instrument, reserve_asset, _ZERO if market_order else per_unit
        )
        self._move_balances({reserve_asset: (-needed, needed)} if not market_order else {})
        filled = sum((q for _, q in fills), _ZERO)
        # Whatever an immediate order leaves is cancelled; a post-only order that
        # would take is cancelled whole; a FOK that cannot fill whole fills nothing.
        cancel_rest = market_order or tif in ("IOC", "FOK")
        if tif == "POST_ONLY" and fills:
            fills, cancel_rest = [], True
        elif tif == "FOK" and filled < quantity:
            fills = []
        for price, size in fills:
            self._fill(order.order_id, size, price)
        if cancel_rest and account.orders[order.order_id].is_open:
            self.cancel(order.order_id)
        return account.orders[order.order_id]

    def cancel(self, order_id: int) -> FakeOrder:
        """Cancel a working order, release what it reserves, publish it.

        Raises:
            OrderRejected: ``unknown_order``, no such order or no longer open.
        """
        order = self.venue.account.orders.get(order_id)
        if order is None or not order.is_open:
            if order is not None and order_id in self._working:
                self._forget(order)
            raise OrderRejected("unknown_order", f"order {order_id} is not open")
        event = self.venue.account.cancel(self.venue.now_ms(), order_id)
        self.venue.emit_account(event)
        working = self._working.pop(order_id, None)
        if working is not None and working.reserved_per_unit:
            left = (Decimal(order.quantity) - working.filled) * working.reserved_per_unit
            self._move_balances({working.asset: (left, -left)})
        assert event.order is not None
        return event.order

    def on_market(self, symbol: str) -> None:
        """Fill the resting orders of ``symbol`` the book now crosses (the venue calls
        this after each market update), oldest first, each at its own price."""
        if not self._working:
            return
        orders = self.venue.account.orders
        for order_id in [i for i, w in self._working.items() if w.instrument.symbol == symbol]:
            order = orders[order_id]
            if not order.is_open:
                self._forget(order)  # closed by a scripted fill_order/cancel_order
                continue
            remaining = Decimal(order.quantity) - Decimal(order.executed)
            crossing = self._crossing(symbol, order.side, remaining, Decimal(order.price))
            size = sum((q for _, q in crossing), _ZERO)
            if size:
                self._fill(order_id, size, Decimal(order.price))

    def _forget(self, order: FakeOrder) -> None:
        """Drop an order a test script closed behind the engine's back and release what
        it still reserved (scripted fills move no balances)."""
        working = self._working.pop(order.order_id)
        left = (Decimal(order.quantity) - working.filled) * working.reserved_per_unit
        self._move_balances({working.asset: (left, -left)})

    # ---------------------------------------------------------------- checks

    def _check_position(
        self, instrument: Instrument, side: str, quantity: Decimal, request: OrderRequest
    ) -> bool:
        """Check the position rules; returns whether the order reduces a position."""
        position_side = request.position_side.upper()
        if not instrument.derivative:
            if request.reduce_only or position_side != "BOTH":
                raise OrderRejected("reduce_only", "spot orders have no position to reduce")
            return False
        if self.hedge_mode:
            if position_side not in ("LONG", "SHORT"):
                raise OrderRejected("position_side", "hedge mode: position side LONG or SHORT")
            closing = (position_side == "LONG") == (side == "SELL")
            if request.reduce_only and not closing:
                raise OrderRejected("reduce_only", "a reduce-only order must close a position")
            if closing:
                held = self._position_amount(instrument.symbol, position_side)
                if abs(held) < quantity:
                    raise OrderRejected(
                        "reduce_only", f"closes {_plain(quantity)}, position is {_plain(abs(held))}"
                    )
            return closing
        if position_side != "BOTH":
            raise OrderRejected("position_side", "one-way mode: no position side")
        if request.reduce_only:
            held = self._position_amount(instrument.symbol, "BOTH")
            if not held or (held > 0) == (side == "BUY") or abs(held) < quantity:
                raise OrderRejected(
                    "reduce_only",
                    f"reduce-only {side} {_plain(quantity)} against position {_plain(held)}",
                )
            return True
        return False

    def _position_amount(self, symbol: str, position_side: str) -> Decimal:
        position = self.venue.account.position(symbol, position_side)
        return Decimal(position.amount) if position is not None else _ZERO

    def _reservation(
        self, instrument: Instrument, side: str, limit: Decimal | None, reducing: bool
    ) -> tuple[str, Decimal]:
        """(asset, amount per unit of size) an open order reserves."""
        if instrument.derivative:
            if reducing or limit is None:
                return instrument.quote, _ZERO
            return instrument.quote, self._margin(instrument, limit)
        if side == "BUY":
            return instrument.quote, limit if limit is not None else _ZERO
        return instrument.base, Decimal(1)

    @staticmethod
    def _margin(instrument: Instrument, price: Decimal) -> Decimal:
        return price * Decimal(instrument.contract_value) / Decimal(instrument.leverage)

    def _market_cost(
        self,
        instrument: Instrument,
        side: str,
        fills: list[tuple[Decimal, Decimal]],
        reducing: bool,
    ) -> Decimal:
        """What an immediate (market) order needs free to fill as ``fills`` say."""
        if instrument.derivative:
            if reducing:
                return _ZERO
            return sum((self._margin(instrument, p) * q for p, q in fills), _ZERO)
        if side == "BUY":
            return sum((p * q for p, q in fills), _ZERO)
        return sum((q for _, q in fills), _ZERO)

    def _free(self, asset: str) -> Decimal:
        balance = self.venue.account.balances.get(asset)
        return Decimal(balance.free) if balance is not None else _ZERO

    # -------------------------------------------------------------- matching

    def _levels(self, symbol: str, side: str) -> Iterable[tuple[str, str]]:
        """The opposite side of the book, best first (what an order of ``side`` takes)."""
        market = self.venue.markets[symbol]
        depth = 32
        seen = 0
        while True:
            levels = market.levels("ask" if side == "BUY" else "bid", depth)
            yield from levels[seen:]
            if len(levels) < depth:
                return
            seen, depth = len(levels), depth * 4

    def _crossing(
        self, symbol: str, side: str, quantity: Decimal, limit: Decimal | None
    ) -> list[tuple[Decimal, Decimal]]:
        """``[(price, size)]``: what an order of ``side`` and ``quantity`` takes from the
        book now, level by level, never beyond ``limit``."""
        fills: list[tuple[Decimal, Decimal]] = []
        left = quantity
        for price_text, size_text in self._levels(symbol, side):
            price = Decimal(price_text)
            if limit is not None and (price > limit if side == "BUY" else price < limit):
                break
            take = min(left, Decimal(size_text))
            fills.append((price, take))
            left -= take
            if not left:
                break
        return fills

    def _size_for_quote(self, symbol: str, side: str, amount: Decimal, lot: Decimal) -> Decimal:
        """The size a market order worth ``amount`` of quote currency takes, in whole lots."""
        if amount <= 0:
            raise OrderRejected("bad_size", f"amount {_plain(amount)} must be positive")
        size = _ZERO
        for price_text, size_text in self._levels(symbol, side):
            price, level = Decimal(price_text), Decimal(size_text)
            if level * price >= amount:
                size += amount / price
                break
            size += level
            amount -= level * price
        return size - size % lot

    # ----------------------------------------------------------------- fills

    def _fill(self, order_id: int, size: Decimal, price: Decimal) -> None:
        """Fill ``size`` of an order at ``price``: the order, position and balance events."""
        venue = self.venue
        working = self._working[order_id]
        instrument = working.instrument
        event = venue.account.fill(venue.now_ms(), order_id, _plain(size), _plain(price))
        venue.emit_account(event)
        self.last_trades.append(event)
        order = event.order
        assert order is not None
        working.filled += size
        released = working.reserved_per_unit * size
        if not order.is_open:
            del self._working[order_id]
            # What scripted fills took of it is released now, with the rest.
            released = working.reserved_per_unit * (Decimal(order.quantity) - working.filled + size)
        changes: dict[str, tuple[Decimal, Decimal]] = {}
        if released:
            changes[working.asset] = (released, -released)
        if instrument.derivative:
            self._move_position(instrument, order, size, price, changes)
        elif order.side == "BUY":
            self._add(changes, instrument.quote, -price * size)
            self._add(changes, instrument.base, size)
        else:
            self._add(changes, instrument.base, -size)
            self._add(changes, instrument.quote, price * size)
        self._move_balances(changes)

    @staticmethod
    def _add(
        changes: dict[str, tuple[Decimal, Decimal]],
        asset: str,
        free: Decimal,
        locked: Decimal = _ZERO,
    ) -> None:
        old_free, old_locked = changes.get(asset, (_ZERO, _ZERO))
        changes[asset] = (old_free + free, old_locked + locked)

    def _move_position(
        self,
        instrument: Instrument,
        order: FakeOrder,
        size: Decimal,
        price: Decimal,
        changes: dict[str, tuple[Decimal, Decimal]],
    ) -> None:
        """Apply a derivative fill to its position; realized profit and margin go to
        ``changes``."""
        venue = self.venue
        side_key = order.position_side if self.hedge_mode else "BOTH"
        current = venue.account.positions.get(position_key(instrument.symbol, side_key))
        old = Decimal(current.amount) if current is not None else _ZERO
        entry = old_entry = Decimal(current.entry_price) if current is not None else _ZERO
        delta = size if order.side == "BUY" else -size
        new = old + delta
        value = Decimal(instrument.contract_value)
        if not old or (old > 0) == (delta > 0):
            # Rounded so that balances stay exact decimals (an average can recur forever).
            entry = ((abs(old) * entry + size * price) / abs(new)).quantize(ENTRY_QUANTUM)
        else:
            closed = min(size, abs(old))
            profit = (price - entry) * closed * value * (1 if old > 0 else -1)
            self._add(changes, instrument.quote, profit)
            if not new:
                entry = _ZERO
            elif (new > 0) != (old > 0):
                entry = price  # flipped: the rest opened at this fill's price
        leverage = Decimal(instrument.leverage)
        margin_before = abs(old) * old_entry * value / leverage
        margin_after = abs(new) * entry * value / leverage
        self._add(
            changes, instrument.quote, margin_before - margin_after, margin_after - margin_before
        )
        event = venue.account.set_position(
            venue.now_ms(), instrument.symbol, _plain(new), _plain(entry), side_key
        )
        venue.emit_account(event)

    def _move_balances(self, changes: dict[str, tuple[Decimal, Decimal]]) -> None:
        """Add ``(free, locked)`` deltas per asset and publish one balance event."""
        account = self.venue.account
        now = self.venue.now_ms()
        changed: list[FakeBalance] = []
        for asset, (free, locked) in changes.items():
            if not free and not locked:
                continue
            balance = account.balances.get(asset)
            old_free = Decimal(balance.free) if balance is not None else _ZERO
            old_locked = Decimal(balance.locked) if balance is not None else _ZERO
            event = account.set_balance(
                now, asset, _plain(old_free + free), _plain(old_locked + locked)
            )
            changed.extend(event.balances)
        if changed:
            self.venue.emit_account(AccountEvent("balance", now, balances=tuple(changed)))
