"""Item shapes of the Coincheck stores (one ``TypedDict`` per store).

Field names are the exchange's (https://coincheck.com/documents/exchange/api#websocket);
prices and amounts stay the strings the exchange sends. Fields not every message
carries are in ``total=False`` bases.
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["ExecutionItem", "OrderBookItem", "OrderItem", "TradeItem"]


class _TradeBase(TypedDict, total=False):
    itayose_id: Any


class TradeItem(_TradeBase):
    """``[pair]-trades``: one public trade, the array's elements named.

    ``side`` is the taker's side (``"buy"``/``"sell"``); ``taker_id`` and
    ``maker_id`` are the two orders' ids; ``timestamp`` is epoch seconds as a string.
    """

    timestamp: Any
    id: Any
    pair: str
    rate: Any
    amount: Any
    side: Any
    taker_id: Any
    maker_id: Any


class OrderBookItem(TypedDict):
    """One book level: ``pair``, ``side`` (``"asks"``/``"bids"``), ``rate``, ``amount``."""

    pair: str
    side: str
    rate: Any
    amount: Any


class _OrderBase(TypedDict, total=False):
    order_event: str
    order_type: str
    rate: Any
    stop_loss_rate: Any
    amount: Any
    market_buy_amount: Any
    pending_amount: Any
    pending_market_buy_amount: Any
    latest_executed_amount: Any
    latest_executed_market_buy_amount: Any
    maker_fee_rate: Any
    taker_fee_rate: Any
    expired_type: Any
    prevented_match_id: Any
    expired_amount: Any
    expired_market_buy_amount: Any
    time_in_force: Any
    event_time: Any
    created_at: Any
    channel: str


class OrderItem(_OrderBase):
    """An open order: from ``POST /api/exchange/orders`` (``order.feed_response``),
    ``GET /api/exchange/orders/opens`` or ``order-events``.

    ``pending_amount`` / ``pending_market_buy_amount``: what is left to fill (decimal
    strings), absent when unknown (an order seen first in an event).
    """

    id: Any
    pair: str


class _ExecutionBase(TypedDict, total=False):
    event_time: Any
    funds: dict[str, Any]
    rate: Any
    fee_currency: Any
    fee: Any
    liquidity: Any
    side: Any
    channel: str


class ExecutionItem(_ExecutionBase):
    """``execution-events``: one fill of one of the account's orders."""

    id: Any
    order_id: Any
    pair: str
