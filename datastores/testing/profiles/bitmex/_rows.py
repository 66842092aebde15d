"""BitMEX row shapes for the fake: order-book table rows per market, and account rows.

Facts (https://www.bitmex.com/app/wsAPI, the official connectors, the shared reference
``exchanges-wave2.md`` section 6): the book is a table keyed by ``(symbol, id, side)``
where ``id`` is unique per symbol and price; ``partial`` rows and ``insert`` rows are
complete; ``update`` rows carry the changed fields (the 2021 capture: ``size`` and no
``price``); ``delete`` rows carry the keys. Prices are JSON numbers, sizes integers.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...account import AccountEvent, FakeBalance, FakeOrder, FakePosition
    from ...market import MarketGenerator, MarketUpdate

__all__ = [
    "ACCOUNT",
    "BookTable",
    "account_rows",
    "iso",
    "margin_row",
    "order_id",
    "order_row",
    "position_row",
    "wallet_row",
]

#: the fake's account number
ACCOUNT = 123456

_ORDER_STATUS = {
    "NEW": "New",
    "PARTIALLY_FILLED": "PartiallyFilled",
    "FILLED": "Filled",
    "CANCELED": "Canceled",
}


def iso(ms: int) -> str:
    """Milliseconds since the epoch as BitMEX's ISO-8601 time."""
    import datetime

    moment = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def order_id(number: int) -> str:
    """The fake's BitMEX ``orderID`` (a GUID) for its numeric order id."""
    return str(uuid.UUID(int=number))


class BookTable:
    """The rows BitMEX publishes for one market: which prices have a row, and their ids.

    ``index`` numbers the market (ids of different markets never meet).
    """

    def __init__(self, market: MarketGenerator, index: int, seed: int | str) -> None:
        from ...market import MarketGenerator

        self.symbol = market.symbol
        self._tick = Decimal(market.config.tick_size)
        self._base = (88 + index) * 10**8
        # The market as it started (same config and seed): the rows before the first
        # update, so each change can be told an insert or an update.
        start = MarketGenerator(market.config, seed).book()
        self.present: dict[tuple[str, str], None] = {}
        for price in start.bids:
            self.present["Buy", price] = None
        for price in start.asks:
            self.present["Sell", price] = None

    def row_id(self, price: str) -> int:
        """BitMEX-style id: unique per price, smaller for higher prices."""
        return self._base - int(Decimal(price) / self._tick)

    def full_row(self, side: str, price: str, size: str, now: str) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "id": self.row_id(price),
            "side": side,
            "size": int(Decimal(size)),
            "price": float(price),
            "timestamp": now,
            "transactTime": now,
        }

    def partial_rows(self, market: MarketGenerator, now: str) -> list[dict[str, Any]]:
        """The whole table, asks from the top then bids from the top."""
        rows = [self.full_row("Sell", p, s, now) for p, s in market.levels("ask")]
        rows += [self.full_row("Buy", p, s, now) for p, s in market.levels("bid")]
        return rows

    def changes(
        self, update: MarketUpdate, now: str, with_price: bool
    ) -> dict[str, list[dict[str, Any]]]:
        """The ``delete``, ``update`` and ``insert`` rows of one market update (and
        keeps :attr:`present` current). ``with_price``: update rows repeat the price."""
        found: dict[str, list[dict[str, Any]]] = {"delete": [], "update": [], "insert": []}
        for side, levels in (("Sell", update.asks), ("Buy", update.bids)):
            for price, size in levels:
                key = (side, price)
                if Decimal(size) == 0:
                    if key in self.present:
                        del self.present[key]
                        row = {"symbol": self.symbol, "id": self.row_id(price), "side": side}
                        found["delete"].append(row)
                elif key in self.present:
                    row = {
                        "symbol": self.symbol,
                        "id": self.row_id(price),
                        "side": side,
                        "size": int(Decimal(size)),
                        "timestamp": now,
                        "transactTime": now,
                    }
                    if with_price:
                        row["price"] = float(price)
                    found["update"].append(row)
                else:
                    self.present[key] = None
                    found["insert"].append(self.full_row(side, price, size, now))
        return found


def order_row(order: FakeOrder, now: str) -> dict[str, Any]:
    """A complete ``order`` row."""
    executed = Decimal(order.executed)
    average = Decimal(order.cum_quote) / executed if executed else None
    return {
        "orderID": order_id(order.order_id),
        "clOrdID": order.client_order_id,
        "account": ACCOUNT,
        "symbol": order.symbol,
        "side": "Buy" if order.side == "BUY" else "Sell",
        "orderQty": int(Decimal(order.quantity)),
        "price": float(order.price),
        "ordType": order.order_type.capitalize(),
        "timeInForce": "GoodTillCancel",
        "ordStatus": _ORDER_STATUS[order.status],
        "leavesQty": int(Decimal(order.quantity) - executed),
        "cumQty": int(executed),
        "avgPx": None if average is None else float(average),
        "text": "Submitted via API.",
        "transactTime": now,
        "timestamp": now,
    }


def position_row(position: FakePosition, now: str) -> dict[str, Any]:
    amount = Decimal(position.amount)
    return {
        "account": ACCOUNT,
        "symbol": position.symbol,
        "currency": "XBt",
        "currentQty": int(amount),
        "avgEntryPrice": float(position.entry_price) if amount else None,
        "isOpen": amount != 0,
        "timestamp": now,
    }


def margin_row(balance: FakeBalance, now: str) -> dict[str, Any]:
    free, locked = Decimal(balance.free), Decimal(balance.locked)
    return {
        "account": ACCOUNT,
        "currency": balance.asset,
        "amount": int(free + locked),
        "walletBalance": int(free + locked),
        "marginBalance": int(free + locked),
        "availableMargin": int(free),
        "timestamp": now,
    }


def wallet_row(balance: FakeBalance, now: str) -> dict[str, Any]:
    return {
        "account": ACCOUNT,
        "currency": balance.asset,
        "amount": int(Decimal(balance.free) + Decimal(balance.locked)),
        "timestamp": now,
    }


def account_rows(event: AccountEvent, now: str) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """``(table, action, rows)`` messages for one scripted account event."""
    messages: list[tuple[str, str, list[dict[str, Any]]]] = []
    order = event.order
    if event.kind == "order" and order is not None:
        row = order_row(order, now)
        if event.execution == "NEW":
            messages.append(("order", "insert", [row]))
        else:
            keep = ("orderID", "ordStatus", "leavesQty", "cumQty", "avgPx", "timestamp")
            messages.append(("order", "update", [{k: row[k] for k in keep}]))
        execution = {
            **row,
            "execID": str(uuid.UUID(int=(event.trade_id or order.order_id) + (1 << 64))),
            "execType": {"NEW": "New", "TRADE": "Trade", "CANCELED": "Canceled"}[
                event.execution or "NEW"
            ],
            "lastQty": int(Decimal(event.last_quantity)),
            "lastPx": float(event.last_price) if event.execution == "TRADE" else None,
        }
        messages.append(("execution", "insert", [execution]))
    elif event.kind == "balance":
        messages.append(("margin", "update", [margin_row(b, now) for b in event.balances]))
        messages.append(("wallet", "update", [wallet_row(b, now) for b in event.balances]))
    elif event.kind == "position":
        messages.append(("position", "update", [position_row(p, now) for p in event.positions]))
    return messages
