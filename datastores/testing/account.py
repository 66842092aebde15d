"""The scripted account of a fake venue: orders, balances, positions.

Tests script private events with :class:`~datastores.testing.FakeExchange`
methods (``place_order``, ``fill_order``, ``cancel_order``, ``set_balance``,
``set_position``). Each call changes this state (which the venue's REST
endpoints report: open orders, balances, positions) and produces an
:class:`AccountEvent` that the venue's profile turns into the exchange's own
private messages.

Quantities and prices are decimal strings; arithmetic uses :class:`~decimal.Decimal`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

__all__ = [
    "AccountEvent",
    "ExecutionType",
    "FakeAccount",
    "FakeBalance",
    "FakeOrder",
    "FakePosition",
    "position_key",
]

ExecutionType = Literal["NEW", "TRADE", "CANCELED"]
OrderStatus = Literal["NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED"]


def _str(value: Decimal) -> str:
    """A decimal as a plain string without exponent (``"0.5"``, ``"12"``)."""
    text = format(value.normalize(), "f")
    return text


@dataclass(frozen=True, slots=True)
class FakeOrder:
    """One order as the fake venue sees it (a new object after every change).

    Attributes:
        order_id: the venue's numeric order id.
        client_order_id: the client's id.
        symbol, side (``"BUY"``/``"SELL"``), order_type (``"LIMIT"``...).
        price, quantity: decimal strings.
        executed: filled quantity so far; ``cum_quote``: filled notional so far.
        status: ``NEW``, ``PARTIALLY_FILLED``, ``FILLED`` or ``CANCELED``.
        created, updated: milliseconds since the epoch (venue clock).
        reduce_only: the order may only shrink a position.
        position_side: ``"BOTH"`` (one-way mode), ``"LONG"`` or ``"SHORT"`` (hedge mode).
    """

    order_id: int
    client_order_id: str
    symbol: str
    side: str
    order_type: str
    price: str
    quantity: str
    executed: str = "0"
    cum_quote: str = "0"
    status: OrderStatus = "NEW"
    time_in_force: str = "GTC"
    created: int = 0
    updated: int = 0
    reduce_only: bool = False
    position_side: str = "BOTH"

    @property
    def is_open(self) -> bool:
        """Still working on the book."""
        return self.status in ("NEW", "PARTIALLY_FILLED")


@dataclass(frozen=True, slots=True)
class FakeBalance:
    """One asset's balance: ``free`` and ``locked`` decimal strings."""

    asset: str
    free: str
    locked: str = "0"


@dataclass(frozen=True, slots=True)
class FakePosition:
    """One position: signed ``amount`` (negative = short) and ``entry_price``.

    ``position_side`` is ``"BOTH"`` in one-way mode, ``"LONG"``/``"SHORT"`` in hedge
    mode (a short's amount is negative there too).
    """

    symbol: str
    amount: str
    entry_price: str = "0"
    position_side: str = "BOTH"


@dataclass(frozen=True, slots=True)
class AccountEvent:
    """One scripted change, for the profile to publish.

    ``kind`` says which fields are set: ``"order"`` (``order``, ``execution``,
    and for a ``TRADE`` the ``last_quantity``/``last_price`` of this fill),
    ``"balance"`` (``balances``), ``"position"`` (``positions``).
    """

    kind: Literal["order", "balance", "position"]
    time: int
    order: FakeOrder | None = None
    execution: ExecutionType | None = None
    last_quantity: str = "0"
    last_price: str = "0"
    trade_id: int = 0
    balances: tuple[FakeBalance, ...] = ()
    positions: tuple[FakePosition, ...] = ()


@dataclass
class FakeAccount:
    """A venue's account state. Methods return the event to publish."""

    orders: dict[int, FakeOrder] = field(default_factory=dict)
    balances: dict[str, FakeBalance] = field(default_factory=dict)
    positions: dict[str, FakePosition] = field(default_factory=dict)
    _order_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(4_000_001))
    _trade_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9_000_001))

    def open_orders(self, symbol: str | None = None) -> list[FakeOrder]:
        """Orders still working, optionally of one symbol, oldest first."""
        return [
            o for o in self.orders.values() if o.is_open and (symbol is None or o.symbol == symbol)
        ]

    def place(
        self,
        now_ms: int,
        symbol: str,
        side: str,
        quantity: str,
        price: str,
        order_type: str,
        client_order_id: str | None,
        *,
        time_in_force: str = "GTC",
        reduce_only: bool = False,
        position_side: str = "BOTH",
    ) -> AccountEvent:
        """Accept a new order."""
        side = side.upper()
        if side not in ("BUY", "SELL"):
            raise ValueError(f"side must be BUY or SELL, not {side!r}")
        if Decimal(quantity) <= 0:
            raise ValueError("quantity must be positive")
        order_id = next(self._order_ids)
        order = FakeOrder(
            order_id=order_id,
            client_order_id=client_order_id or f"fake-{order_id}",
            symbol=symbol,
            side=side,
            order_type=order_type,
            price=price,
            quantity=quantity,
            time_in_force=time_in_force,
            created=now_ms,
            updated=now_ms,
            reduce_only=reduce_only,
            position_side=position_side,
        )
        self.orders[order_id] = order
        return AccountEvent("order", now_ms, order=order, execution="NEW")

    def _open(self, order_id: int) -> FakeOrder:
        order = self.orders.get(order_id)
        if order is None:
            raise KeyError(f"no order {order_id}")
        if not order.is_open:
            raise ValueError(f"order {order_id} is already {order.status}")
        return order

    def fill(
        self, now_ms: int, order_id: int, quantity: str | None, price: str | None
    ) -> AccountEvent:
        """Fill ``quantity`` (default: all that remains) at ``price`` (default: the order's)."""
        order = self._open(order_id)
        remaining = Decimal(order.quantity) - Decimal(order.executed)
        qty = remaining if quantity is None else Decimal(quantity)
        if qty <= 0 or qty > remaining:
            raise ValueError(f"fill quantity must be in (0, {remaining}], got {qty}")
        fill_price = Decimal(price if price is not None else order.price)
        executed = Decimal(order.executed) + qty
        order = replace(
            order,
            executed=_str(executed),
            cum_quote=_str(Decimal(order.cum_quote) + qty * fill_price),
            status="FILLED" if executed == Decimal(order.quantity) else "PARTIALLY_FILLED",
            updated=now_ms,
        )
        self.orders[order_id] = order
        return AccountEvent(
            "order",
            now_ms,
            order=order,
            execution="TRADE",
            last_quantity=_str(qty),
            last_price=_str(fill_price),
            trade_id=next(self._trade_ids),
        )

    def cancel(self, now_ms: int, order_id: int) -> AccountEvent:
        """Cancel a working order."""
        order = replace(self._open(order_id), status="CANCELED", updated=now_ms)
        self.orders[order_id] = order
        return AccountEvent("order", now_ms, order=order, execution="CANCELED")

    def set_balance(self, now_ms: int, asset: str, free: str, locked: str) -> AccountEvent:
        """Set one asset's balance."""
        balance = FakeBalance(asset, _str(Decimal(free)), _str(Decimal(locked)))
        self.balances[asset] = balance
        return AccountEvent("balance", now_ms, balances=(balance,))

    def position(self, symbol: str, position_side: str = "BOTH") -> FakePosition | None:
        """The position of ``symbol`` on ``position_side`` (``None``: never had one)."""
        return self.positions.get(position_key(symbol, position_side))

    def set_position(
        self,
        now_ms: int,
        symbol: str,
        amount: str,
        entry_price: str,
        position_side: str = "BOTH",
    ) -> AccountEvent:
        """Set one symbol's position (amount ``"0"`` closes it); hedge-mode positions
        (``position_side`` ``"LONG"``/``"SHORT"``) are kept apart from one-way ones."""
        position = FakePosition(
            symbol, _str(Decimal(amount)), _str(Decimal(entry_price)), position_side
        )
        self.positions[position_key(symbol, position_side)] = position
        return AccountEvent("position", now_ms, positions=(position,))


def position_key(symbol: str, position_side: str = "BOTH") -> str:
    """The key of a position in :attr:`FakeAccount.positions`: the symbol in one-way
    mode, ``"<symbol>|LONG"``/``"<symbol>|SHORT"`` in hedge mode."""
    return symbol if position_side == "BOTH" else f"{symbol}|{position_side}"
