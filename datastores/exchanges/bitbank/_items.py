"""Item types of bitbank's stores: one ``TypedDict`` per store.

Fields keep bitbank's names and value types (prices and amounts stay the strings
the exchange sent). Docs: https://github.com/bitbankinc/bitbank-api-docs (public-stream.md,
private-stream.md, rest-api.md). Private messages
are modelled leniently (``total=False`` beyond the keys): the field names of some
methods differ between the documentation's tables and what the exchange sends
(``asset_update`` in snake case, ``margin_position_update``'s ``open`` versus
``open_amount``), and the stores keep whatever was sent.
"""

from __future__ import annotations

from typing import TypedDict

__all__ = [
    "AssetItem",
    "CircuitBreakInfoItem",
    "DealerOrderItem",
    "DepositItem",
    "DepthItem",
    "MarginNoticeItem",
    "MarginPayableItem",
    "MarginPositionItem",
    "SpotOrderItem",
    "SpotTradeItem",
    "TickerItem",
    "TransactionItem",
    "WithdrawalItem",
]


class DepthItem(TypedDict):
    """One book level: ``pair``, ``side`` (``"asks"``/``"bids"``), ``price``, ``amount``."""

    pair: str
    side: str
    price: str
    amount: str


class TransactionItem(TypedDict, total=False):
    """One public trade of ``transactions_{pair}`` (``pair`` added from the room)."""

    pair: str
    transaction_id: int
    side: str
    price: str
    amount: str
    executed_at: int


class TickerItem(TypedDict, total=False):
    """The latest ``ticker_{pair}`` data (``pair`` added from the room)."""

    pair: str
    sell: str
    buy: str
    open: str
    high: str
    low: str
    last: str
    vol: str
    timestamp: int


class CircuitBreakInfoItem(TypedDict, total=False):
    """The latest ``circuit_break_info_{pair}`` data (``pair`` added from the room)."""

    pair: str
    mode: str
    estimated_itayose_price: str | None
    estimated_itayose_amount: str | None
    itayose_upper_price: str | None
    itayose_lower_price: str | None
    upper_trigger_price: str | None
    lower_trigger_price: str | None
    fee_type: str
    reopen_timestamp: int | None
    timestamp: int


class _AssetKey(TypedDict):
    asset: str


class AssetItem(_AssetKey, total=False):
    """One asset's balances (``asset_update``, ``GET /v1/user/assets``)."""

    amount_precision: int
    onhand_amount: str
    locked_amount: str
    free_amount: str
    withdrawing_amount: str
    stop_deposit: bool
    stop_withdrawal: bool


class _OrderKey(TypedDict):
    order_id: int


class SpotOrderItem(_OrderKey, total=False):
    """One active spot order (``spot_order_new`` / ``spot_order``, active orders)."""

    pair: str
    side: str
    position_side: str | None
    type: str
    start_amount: str | None
    remaining_amount: str | None
    executed_amount: str
    price: str | None
    post_only: bool
    user_cancelable: bool
    average_price: str
    ordered_at: int
    expire_at: int | None
    triggered_at: int | None
    trigger_price: str | None
    status: str
    is_just_triggered: bool
    executed_at: int | None
    canceled_at: int | None


class _TradeKey(TypedDict):
    trade_id: int


class SpotTradeItem(_TradeKey, total=False):
    """One of the account's fills (``spot_trade``)."""

    order_id: int
    pair: str
    side: str
    position_side: str | None
    type: str
    amount: str
    price: str
    maker_taker: str
    fee_amount_base: str
    fee_amount_quote: str
    fee_occurred_amount_quote: str
    profit_loss: str | None
    interest: str | None
    executed_at: int


class DealerOrderItem(_OrderKey, total=False):
    """One order at the dealer (``dealer_order_new``)."""

    asset: str
    side: str
    price: str
    amount: str
    ordered_at: int


class _UuidKey(TypedDict):
    uuid: str


class WithdrawalItem(_UuidKey, total=False):
    """One withdrawal (``withdrawal``)."""

    asset: str
    amount: str
    fee: str
    status: str
    requested_at: int


class DepositItem(_UuidKey, total=False):
    """One deposit (``deposit``)."""

    asset: str
    amount: str
    status: str
    found_at: int
    confirmed_at: int


class _PositionKey(TypedDict):
    pair: str
    position_side: str


class MarginPositionItem(_PositionKey, total=False):
    """One margin position (``margin_position_update``, ``GET /v1/user/margin/positions``).

    The stream sends ``open``/``locked``/``unrealized_fee``/``unrealized_interest``
    where the documentation's table says ``open_amount``/``locked_amount``/...: both
    are kept as sent."""

    open: str
    locked: str
    open_amount: str
    locked_amount: str
    product: str
    average_price: str
    unrealized_fee: str
    unrealized_interest: str
    unrealized_fee_amount: str
    unrealized_interest_amount: str


class MarginPayableItem(TypedDict, total=False):
    """The account's margin payables (``margin_payable_update``): one row."""

    amount: str


class MarginNoticeItem(TypedDict, total=False):
    """One margin notice (``margin_notice_update``)."""

    pair: str | None
    side: str | None
    price: str | None
    amount: str | None
    type: str
    timestamp: int
