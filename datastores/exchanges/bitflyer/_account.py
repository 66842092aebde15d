"""bitFlyer's positions, collateral and balance: from REST, then followed by executions.

bitFlyer has no position, collateral or balance channel
(https://bf-lightning-api.readme.io/docs/realtime-api): ``initialize()`` loads the
exact values from ``/v1/me/getpositions``, ``/v1/me/getcollateral`` and
``/v1/me/getbalance``, and the ``EXECUTION`` events of ``child_order_events`` move
them in between, as the reference library does. Those derived values are estimates
(bitFlyer's own rounding, swap points, SFD and fees it charges outside executions are
not in the events): call ``initialize()`` again for exact ones.

Arithmetic is decimal (``Decimal(str(x))``), stored back as the JSON number type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from ..._store import DataStore
from ._items import BalanceItem, CollateralItem, PositionItem

__all__ = ["Balance", "Collateral", "Positions", "is_margin_product"]


def is_margin_product(product_code: str) -> bool:
    """Whether executions of ``product_code`` move positions: Crypto CFD ``FX_BTC_JPY``
    and the futures ``BTCJPY<date>`` (spot products move balances)."""
    return product_code == "FX_BTC_JPY" or product_code.startswith("BTCJPY")


def _dec(value: Any) -> Decimal:
    if value.__class__ not in (int, float):
        raise ValueError(f"{value!r:.40} is not a number")
    return Decimal(str(value))


def _num(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


def _execution(event: Mapping[str, Any]) -> tuple[str, str, Decimal, Decimal, Decimal] | None:
    """``(product_code, side, price, size, commission)`` of an EXECUTION event, or ``None``."""
    product_code, side = event.get("product_code"), event.get("side")
    if product_code.__class__ is not str or side not in ("BUY", "SELL"):
        return None
    try:
        price, size = _dec(event.get("price")), _dec(event.get("size"))
        commission = _dec(event.get("commission", 0) or 0)
    except (ValueError, InvalidOperation):
        return None
    if size <= 0:
        return None
    return product_code, side, price, size, commission


class Positions(DataStore[PositionItem]):
    """Open lots of margin products (keyless, one item per lot, oldest first).

    An execution on the lots' side opens a lot; on the other side it closes lots
    first in, first out (a lot closed to zero leaves the store; more than the
    position opens a lot on the new side), and the realised profit goes to
    :class:`Collateral`. O(lots of the product) per execution.
    """

    def _on_execution(self, event: Mapping[str, Any], collateral: Collateral) -> None:
        parsed = _execution(event)
        if parsed is None or not is_margin_product(parsed[0]):
            return
        product_code, side, price, size, commission = parsed
        lots = [dict(lot) for lot in self.find({"product_code": product_code})]
        remaining = size
        realised = Decimal(0)
        kept: list[dict[str, Any]] = []
        for lot in lots:
            if remaining <= 0 or lot.get("side") == side:
                kept.append(lot)
                continue
            try:
                lot_size, lot_price = _dec(lot.get("size")), _dec(lot.get("price"))
            except (ValueError, InvalidOperation):
                kept.append(lot)
                continue
            closed = min(lot_size, remaining)
            remaining -= closed
            # Profit is (sell price - buy price) * size whichever side closes.
            gain = price - lot_price if side == "SELL" else lot_price - price
            realised += gain * closed
            if lot_size > closed:
                lot["size"] = _num(lot_size - closed)
                kept.append(lot)
        if remaining > 0:
            kept.append(
                {
                    "product_code": product_code,
                    "side": side,
                    "price": _num(price),
                    "size": _num(remaining),
                    "commission": _num(commission),
                    "sfd": event.get("sfd", 0),
                }
            )
        self._find_and_delete({"product_code": product_code})
        self._insert(kept)
        if remaining < size:
            # JPY has no fractions: rounded down when a SELL closed, up when a BUY did
            # (the reference library's rule).
            rounding = ROUND_FLOOR if side == "SELL" else ROUND_CEILING
            collateral._add(realised.quantize(Decimal(1), rounding=rounding))

    def _on_rest(self, product_code: str | None, lots: Any) -> None:
        """REST ``getpositions``: that product's lots replaced."""
        self._find_and_delete({"product_code": product_code} if product_code else None)
        self._insert([lot for lot in lots if lot.__class__ is dict])


class Collateral(DataStore[CollateralItem]):
    """The account's collateral: one item, from REST ``getcollateral``; ``collateral``
    then grows or shrinks by the profit realised by executions (nothing before the
    REST response seeds it)."""

    def _add(self, pnl: Decimal) -> None:
        current = next(iter(self), None)
        if current is None or not pnl:
            return
        try:
            value = _dec(current.get("collateral")) + pnl
        except (ValueError, InvalidOperation):
            return
        item: dict[str, Any] = {**current, "collateral": _num(value)}
        self._clear()
        self._insert([item])

    def _on_rest(self, data: Any) -> None:
        if data.__class__ is dict:
            self._clear()
            self._insert([data])


class Balance(DataStore[BalanceItem]):
    """Balances by ``currency_code``, from REST ``getbalance``; spot executions then move
    ``amount`` of the currencies REST listed (``available`` becomes ``None``).

    A BUY of ``BTC_JPY`` adds ``size - commission`` BTC and takes ``size * price`` JPY
    (rounded up); a SELL takes ``size + commission`` BTC and adds ``size * price`` JPY
    (rounded down): bitFlyer charges spot commission in the bought or sold coin.
    """

    _KEYS = ("currency_code",)

    def _on_execution(self, event: Mapping[str, Any]) -> None:
        parsed = _execution(event)
        if parsed is None or is_margin_product(parsed[0]):
            return
        product_code, side, price, size, commission = parsed
        base, _, quote = product_code.partition("_")
        if not quote:
            return
        value = size * price
        if quote == "JPY":
            value = value.quantize(
                Decimal(1), rounding=ROUND_CEILING if side == "BUY" else ROUND_FLOOR
            )
        base_change = size - commission if side == "BUY" else -(size + commission)
        quote_change = -value if side == "BUY" else value
        self._move([(base, base_change), (quote, quote_change)])

    def _move(self, changes: Iterable[tuple[str, Decimal]]) -> None:
        updates = []
        for currency, change in changes:
            current = self.get({"currency_code": currency})
            if current is None:
                continue  # only currencies REST listed
            try:
                amount = _dec(current.get("amount")) + change
            except (ValueError, InvalidOperation):
                continue
            updates.append({"currency_code": currency, "amount": _num(amount), "available": None})
        if updates:
            self._update(updates)

    def _on_rest(self, data: Any) -> None:
        if data.__class__ is list:
            self._clear()
            self._insert([item for item in data if item.__class__ is dict])
