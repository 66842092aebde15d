"""bitFlyer's stores other than the book: market data and orders.

Names, keys and item shapes follow the reference library (pybotters §4.1), so code
reading ``store.childorders.find({"product_code": "FX_BTC_JPY"})`` ports by changing
the import. Stores never mutate an incoming message: items are new dicts.

Private channels send events only, never the state: the order stores start from
REST (``initialize()``) and follow the events
(https://bf-lightning-api.readme.io/docs/realtime-child-order-events,
https://bf-lightning-api.readme.io/docs/realtime-parent-order-events).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..._store import DataStore
from ._items import (
    ChildOrderEventItem,
    ChildOrderItem,
    ExecutionItem,
    ParentOrderEventItem,
    ParentOrderItem,
    TickerItem,
)

__all__ = [
    "ChildOrderEvents",
    "ChildOrders",
    "Executions",
    "ParentOrderEvents",
    "ParentOrders",
    "Ticker",
]


def _number(value: Any) -> bool:
    return value.__class__ in (int, float)


class Ticker(DataStore[TickerItem]):
    """``lightning_ticker_{pc}``: the latest ticker per ``product_code`` (merged)."""

    _KEYS = ("product_code",)


class Executions(DataStore[ExecutionItem]):
    """``lightning_executions_{pc}``: public trades, ``product_code`` added; newest last,
    at most ``_MAXLEN``."""

    _MAXLEN = 99999


class ChildOrderEvents(DataStore[ChildOrderEventItem]):
    """``child_order_events``: every event as sent (a log, newest last)."""


class ParentOrderEvents(DataStore[ParentOrderEventItem]):
    """``parent_order_events``: every event as sent (a log, newest last)."""


class ChildOrders(DataStore[ChildOrderItem]):
    """Active child orders, keyed by ``child_order_acceptance_id``.

    * ``ORDER``: inserted (the event's fields; ``outstanding_size`` = ``size``,
      ``executed_size`` = 0).
    * ``EXECUTION``: ``outstanding_size`` from the event, ``executed_size`` grows by
      the event's ``size``; the order leaves when nothing is outstanding. ``size``
      stays the order's size (the reference library overwrote it with what remains).
    * ``CANCEL``, ``EXPIRE``, ``ORDER_FAILED``: removed. ``CANCEL_FAILED``: kept
      (the order is still active, or its fill is on the way).

    An event of an order the store does not hold (placed before ``initialize()``)
    changes nothing, except that its end removes nothing either.
    """

    _KEYS = ("child_order_acceptance_id",)

    def _on_events(self, events: Iterable[Mapping[str, Any]]) -> None:
        inserts: list[Any] = []
        deletes: list[Any] = []
        for event in events:
            kind = event.get("event_type")
            key = event.get("child_order_acceptance_id")
            if key.__class__ is not str:
                continue
            if kind == "ORDER":
                item = dict(event)
                size = event.get("size")
                if _number(size):
                    item.setdefault("outstanding_size", size)
                    item.setdefault("executed_size", 0)
                item.setdefault("child_order_state", "ACTIVE")
                inserts.append(item)
            elif kind in ("CANCEL", "EXPIRE", "ORDER_FAILED"):
                deletes.append({"child_order_acceptance_id": key})
            elif kind == "EXECUTION":
                self._on_execution(event, key, deletes)
        if inserts:
            self._insert(inserts)
        if deletes:
            self._delete(deletes)

    def _on_execution(self, event: Mapping[str, Any], key: str, deletes: list[Any]) -> None:
        order = self.get({"child_order_acceptance_id": key})
        if order is None:
            return
        outstanding = event.get("outstanding_size")
        if _number(outstanding) and not outstanding:
            deletes.append({"child_order_acceptance_id": key})
            return
        change: dict[str, Any] = {"child_order_acceptance_id": key}
        if _number(outstanding):
            change["outstanding_size"] = outstanding
        executed: Any = order.get("executed_size")
        size: Any = event.get("size")
        if _number(executed) and _number(size):
            # Rounded to 8 decimals (bitFlyer's size precision): float sums drift.
            change["executed_size"] = round(executed + size, 8)
        self._update([change])

    def _on_rest(self, product_code: str | None, orders: Any) -> None:
        """REST ``getchildorders``: that product's orders replaced by the ACTIVE ones."""
        self._find_and_delete({"product_code": product_code} if product_code else None)
        self._insert(
            [o for o in orders if o.__class__ is dict and o.get("child_order_state") == "ACTIVE"]
        )


#: parent orders that end with the COMPLETE of which leg (``parameter_index``): the
#: first leg of an IFD / IFDOCO only triggers the rest.
#: https://lightning.bitflyer.com/docs#submit-a-new-parent-order-special-order
_LAST_LEGS = {"IFD": 2, "IFDOCO": 2}


class ParentOrders(DataStore[ParentOrderItem]):
    """Active parent (special) orders, keyed by ``parent_order_acceptance_id``.

    ``ORDER`` inserts; ``TRIGGER`` merges the child's fields; ``CANCEL``, ``EXPIRE``,
    ``ORDER_FAILED`` remove; ``COMPLETE`` removes it, except the first leg of an IFD
    or IFDOCO (``parameter_index`` 1), which only triggers the others.
    """

    _KEYS = ("parent_order_acceptance_id",)

    def _on_events(self, events: Iterable[Mapping[str, Any]]) -> None:
        for event in events:
            kind = event.get("event_type")
            key = event.get("parent_order_acceptance_id")
            if key.__class__ is not str:
                continue
            ref = {"parent_order_acceptance_id": key}
            if kind == "ORDER":
                self._insert([{**event, "parent_order_state": "ACTIVE"}])
            elif kind in ("CANCEL", "EXPIRE", "ORDER_FAILED"):
                self._delete([ref])
            elif kind == "TRIGGER":
                if self.get(ref) is not None:
                    self._update([dict(event)])
            elif kind == "COMPLETE":
                order = self.get(ref)
                if order is None:
                    continue
                last_leg = _LAST_LEGS.get(str(order.get("parent_order_type")), 1)
                index: Any = event.get("parameter_index")
                if not _number(index) or index >= last_leg:
                    self._delete([ref])

    def _on_rest(self, product_code: str | None, orders: Any) -> None:
        """REST ``getparentorders``: that product's orders replaced by the ACTIVE ones."""
        self._find_and_delete({"product_code": product_code} if product_code else None)
        self._insert(
            [o for o in orders if o.__class__ is dict and o.get("parent_order_state") == "ACTIVE"]
        )
