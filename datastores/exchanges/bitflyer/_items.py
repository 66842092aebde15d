"""Item types of bitFlyer's stores: one ``TypedDict`` per store.

Fields keep bitFlyer's own names and JSON types (prices and sizes are the numbers
bitFlyer sends, not strings). Fields every item has are required; the others go in
a ``total=False`` subclass. Field lists:
https://bf-lightning-api.readme.io/docs/realtime-ticker,
https://bf-lightning-api.readme.io/docs/realtime-executions,
https://bf-lightning-api.readme.io/docs/realtime-child-order-events,
https://bf-lightning-api.readme.io/docs/realtime-parent-order-events and the REST
pages https://lightning.bitflyer.com/docs (getchildorders, getparentorders,
getpositions, getcollateral, getbalance).
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = [
    "BalanceItem",
    "BoardItem",
    "ChildOrderEventItem",
    "ChildOrderItem",
    "CollateralItem",
    "ExecutionItem",
    "ParentOrderEventItem",
    "ParentOrderItem",
    "PositionItem",
    "TickerItem",
]


class BoardItem(TypedDict):
    """One book level: ``side`` is ``"asks"`` or ``"bids"``; ``size`` in the base currency."""

    product_code: str
    side: str
    price: float
    size: float


class TickerItem(TypedDict, total=False):
    """``lightning_ticker_{product_code}``: the latest ticker of one product."""

    product_code: str
    state: str
    timestamp: str
    tick_id: int
    best_bid: float
    best_ask: float
    best_bid_size: float
    best_ask_size: float
    total_bid_depth: float
    total_ask_depth: float
    market_bid_size: float
    market_ask_size: float
    ltp: float
    volume: float
    volume_by_product: float


class ExecutionItem(TypedDict, total=False):
    """``lightning_executions_{product_code}``: one public trade (``product_code`` added)."""

    product_code: str
    id: int
    side: str
    price: float
    size: float
    exec_date: str
    buy_child_order_acceptance_id: str
    sell_child_order_acceptance_id: str


class ChildOrderEventItem(TypedDict, total=False):
    """``child_order_events``: one event as sent (``event_type`` says which fields it has)."""

    product_code: str
    child_order_id: str
    child_order_acceptance_id: str
    event_date: str
    event_type: str
    child_order_type: str
    side: str
    price: float
    size: float
    expire_date: str
    reason: str
    exec_id: int
    commission: float
    sfd: float
    outstanding_size: float


class ChildOrderItem(TypedDict, total=False):
    """An active child order: REST ``getchildorders`` fields, or those of its ``ORDER`` event.

    ``size`` is the order's size; ``outstanding_size`` what remains and
    ``executed_size`` what was executed (both kept up to date by ``EXECUTION``).
    """

    product_code: str
    child_order_id: str
    child_order_acceptance_id: str
    child_order_type: str
    side: str
    price: float
    size: float
    average_price: float
    expire_date: str
    child_order_date: str
    child_order_state: str
    outstanding_size: float
    cancel_size: float
    executed_size: float
    total_commission: float
    event_date: str
    event_type: str
    id: int


class ParentOrderEventItem(TypedDict, total=False):
    """``parent_order_events``: one event as sent."""

    product_code: str
    parent_order_id: str
    parent_order_acceptance_id: str
    event_date: str
    event_type: str
    parent_order_type: str
    reason: str
    child_order_type: str
    parameter_index: int
    child_order_acceptance_id: str
    side: str
    price: float
    size: float
    expire_date: str


class ParentOrderItem(TypedDict, total=False):
    """An active parent order: REST ``getparentorders`` fields, or those of its ``ORDER`` event."""

    product_code: str
    parent_order_id: str
    parent_order_acceptance_id: str
    parent_order_type: str
    parent_order_state: str
    parent_order_date: str
    event_date: str
    event_type: str
    expire_date: str
    side: str
    price: float
    size: float
    id: int


class PositionItem(TypedDict, total=False):
    """One open lot of a margin product (``FX_BTC_JPY``, futures): REST ``getpositions``
    fields, or a lot opened by an ``EXECUTION`` event (``product_code``, ``side``,
    ``price``, ``size``, ``commission``, ``sfd``)."""

    product_code: str
    side: str
    price: float
    size: float
    commission: float
    sfd: float
    swap_point_accumulate: float
    require_collateral: float
    open_date: str
    leverage: float
    pnl: float


class CollateralItem(TypedDict, total=False):
    """REST ``getcollateral`` (JPY); ``collateral`` then follows realised profit and loss."""

    collateral: float
    open_position_pnl: float
    require_collateral: float
    keep_rate: float
    margin_call_amount: float
    margin_call_due_date: Any


class BalanceItem(TypedDict, total=False):
    """REST ``getbalance``: one currency; ``amount`` then follows spot executions
    (``available`` becomes ``None``: it cannot be derived from events)."""

    currency_code: str
    amount: float
    available: float | None
