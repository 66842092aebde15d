"""Bybit V5 shapes of the fake's scripted account: private messages and REST rows.

Field names and value conventions (strings for numbers, ``"Buy"``/``"Sell"``,
``orderStatus`` values) follow the V5 pages; values the fake does not model
(fees beyond a flat rate, margins, PnL) are plausible constants.

* https://bybit-exchange.github.io/docs/v5/websocket/private/order
* https://bybit-exchange.github.io/docs/v5/websocket/private/execution
* https://bybit-exchange.github.io/docs/v5/websocket/private/position
* https://bybit-exchange.github.io/docs/v5/websocket/private/wallet
* https://bybit-exchange.github.io/docs/v5/order/open-order
* https://bybit-exchange.github.io/docs/v5/position
* https://bybit-exchange.github.io/docs/v5/account/wallet-balance
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from ...account import AccountEvent, FakeBalance, FakeOrder, FakePosition
from ._market import plain

__all__ = [
    "TAKER_FEE",
    "execution_row",
    "order_row",
    "order_status",
    "position_row",
    "private_payloads",
    "wallet_row",
]

#: flat fee rate of every fake fill
TAKER_FEE = Decimal("0.00055")
#: coins counted at face value in the wallet's USD totals
_STABLE = frozenset({"USDT", "USDC"})


def _side(side: str) -> str:
    return "Buy" if side.upper() == "BUY" else "Sell"


def _order_type(order_type: str) -> str:
    return "Market" if order_type.upper() == "MARKET" else "Limit"


#: the account's position side -> Bybit ``positionIdx`` (0 one-way, 1/2 hedge long/short)
_POSITION_INDEX = {"BOTH": 0, "LONG": 1, "SHORT": 2}


def _time_in_force(order: FakeOrder) -> str:
    if _order_type(order.order_type) == "Market":
        return "IOC"
    return "PostOnly" if order.time_in_force == "POST_ONLY" else order.time_in_force


def _uuid(number: int) -> str:
    """A stable UUID string for a numeric id (Bybit ids are UUIDs)."""
    return str(uuid.UUID(int=number))


def order_status(order: FakeOrder, category: str) -> str:
    """Bybit's ``orderStatus`` for a fake order.

    A cancelled spot order that had fills is ``PartiallyFilledCanceled``
    (spot only, per https://bybit-exchange.github.io/docs/v5/enum#orderstatus).
    """
    if order.status == "NEW":
        return "New"
    if order.status == "PARTIALLY_FILLED":
        return "PartiallyFilled"
    if order.status == "FILLED":
        return "Filled"
    if category == "spot" and Decimal(order.executed) > 0:
        return "PartiallyFilledCanceled"
    return "Cancelled"


def order_row(order: FakeOrder, category: str, *, ws: bool) -> dict[str, Any]:
    """One order as ``GET /v5/order/realtime`` (``ws=False``) or the ``order`` topic lists it."""
    quantity = Decimal(order.quantity)
    executed = Decimal(order.executed)
    cum_quote = Decimal(order.cum_quote)
    price = Decimal(order.price or "0")
    leaves = quantity - executed if order.is_open else Decimal(0)
    row: dict[str, Any] = {
        "orderId": _uuid(order.order_id),
        "orderLinkId": order.client_order_id,
        "blockTradeId": "",
        "symbol": order.symbol,
        "price": order.price,
        "qty": order.quantity,
        "side": _side(order.side),
        "isLeverage": "",
        "positionIdx": _POSITION_INDEX.get(order.position_side, 0),
        "orderStatus": order_status(order, category),
        "cancelType": "CancelByUser" if order.status == "CANCELED" else "UNKNOWN",
        "rejectReason": "EC_NoError",
        "avgPrice": plain(cum_quote / executed) if executed else "",
        "leavesQty": plain(leaves),
        "leavesValue": plain(leaves * price),
        "cumExecQty": order.executed,
        "cumExecValue": order.cum_quote,
        "cumExecFee": plain(cum_quote * TAKER_FEE),
        "timeInForce": _time_in_force(order),
        "orderType": _order_type(order.order_type),
        "stopOrderType": "",
        "orderIv": "",
        "triggerPrice": "",
        "takeProfit": "",
        "stopLoss": "",
        "tpTriggerBy": "",
        "slTriggerBy": "",
        "triggerDirection": 0,
        "triggerBy": "",
        "lastPriceOnCreated": "",
        "reduceOnly": order.reduce_only,
        "closeOnTrigger": False,
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "tpslMode": "",
        "placeType": "",
        "createdTime": str(order.created),
        "updatedTime": str(order.updated),
    }
    if ws:
        row["category"] = category
        row["feeCurrency"] = ""
        row["createType"] = "CreateByUser"
    return row


def execution_row(event: AccountEvent, order: FakeOrder, category: str, seq: int) -> dict[str, Any]:
    """One fill as the ``execution`` topic lists it."""
    quantity = Decimal(event.last_quantity)
    value = quantity * Decimal(event.last_price)
    leaves = Decimal(order.quantity) - Decimal(order.executed)
    return {
        "category": category,
        "symbol": order.symbol,
        "execFee": plain(value * TAKER_FEE),
        "execId": _uuid(event.trade_id),
        "execPrice": event.last_price,
        "execQty": event.last_quantity,
        "execType": "Trade",
        "execValue": plain(value),
        "isMaker": False,
        "feeRate": plain(TAKER_FEE),
        "tradeIv": "",
        "markIv": "",
        "blockTradeId": "",
        "markPrice": event.last_price,
        "indexPrice": "",
        "underlyingPrice": "",
        "leavesQty": plain(leaves),
        "orderId": _uuid(order.order_id),
        "orderLinkId": order.client_order_id,
        "orderPrice": order.price,
        "orderQty": order.quantity,
        "orderType": _order_type(order.order_type),
        "stopOrderType": "UNKNOWN",
        "side": _side(order.side),
        "execTime": str(event.time),
        "isLeverage": "0",
        "closedSize": "",
        "seq": seq,
    }


def position_row(
    position: FakePosition, category: str, mark: str, now: int, seq: int, *, ws: bool
) -> dict[str, Any]:
    """One position as ``GET /v5/position/list`` (``ws=False``) or the ``position`` topic."""
    amount = Decimal(position.amount)
    size = abs(amount)
    entry = Decimal(position.entry_price)
    value = size * entry
    row: dict[str, Any] = {
        "positionIdx": _POSITION_INDEX.get(position.position_side, 0),
        "tradeMode": 0,
        "riskId": 1,
        "riskLimitValue": "2000000",
        "symbol": position.symbol,
        "side": "Buy" if amount > 0 else "Sell" if amount < 0 else "",
        "size": plain(size),
        "positionValue": plain(value),
        "leverage": "10",
        "markPrice": mark,
        "liqPrice": "",
        "bustPrice": "",
        "positionIM": plain(value / 10),
        "positionMM": plain(value / 200),
        "positionBalance": plain(value / 10),
        "takeProfit": "0",
        "stopLoss": "0",
        "trailingStop": "0",
        "sessionAvgPrice": "",
        "unrealisedPnl": plain((Decimal(mark) - entry) * amount) if size else "0",
        "curRealisedPnl": "0",
        "cumRealisedPnl": "0",
        "createdTime": str(now),
        "updatedTime": str(now),
        "tpslMode": "Full",
        "autoAddMargin": 0,
        "positionStatus": "Normal",
        "adlRankIndicator": 2 if size else 0,
        "isReduceOnly": False,
        "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "",
        "seq": seq,
    }
    if ws:
        row["category"] = category
        row["entryPrice"] = position.entry_price
    else:
        row["avgPrice"] = position.entry_price
    return row


def _coin(balance: FakeBalance) -> dict[str, Any]:
    total = Decimal(balance.free) + Decimal(balance.locked)
    usd = plain(total) if balance.asset in _STABLE else ""
    return {
        "coin": balance.asset,
        "equity": plain(total),
        "usdValue": usd,
        "walletBalance": plain(total),
        "locked": balance.locked,
        "spotHedgingQty": "0",
        "borrowAmount": "0",
        "accruedInterest": "0",
        "totalOrderIM": "0",
        "totalPositionIM": "0",
        "totalPositionMM": "0",
        "unrealisedPnl": "0",
        "cumRealisedPnl": "0",
        "bonus": "0",
        "marginCollateral": True,
        "collateralSwitch": True,
        "availableToWithdraw": "",
    }


def wallet_row(
    balances: Iterable[FakeBalance], all_balances: Mapping[str, FakeBalance]
) -> dict[str, Any]:
    """The UNIFIED account object listing ``balances``; totals over ``all_balances``
    (stablecoins at face value, the fake has no prices for other coins)."""
    total = sum(
        (Decimal(b.free) + Decimal(b.locked) for b in all_balances.values() if b.asset in _STABLE),
        Decimal(0),
    )
    available = sum(
        (Decimal(b.free) for b in all_balances.values() if b.asset in _STABLE), Decimal(0)
    )
    return {
        "accountType": "UNIFIED",
        "accountIMRate": "0",
        "accountMMRate": "0",
        "accountLTV": "0",
        "totalEquity": plain(total),
        "totalWalletBalance": plain(total),
        "totalMarginBalance": plain(total),
        "totalAvailableBalance": plain(available),
        "totalPerpUPL": "0",
        "totalInitialMargin": "0",
        "totalMaintenanceMargin": "0",
        "coin": [_coin(b) for b in balances],
    }


def private_payloads(
    event: AccountEvent,
    category: str,
    *,
    mark: Callable[[str], str],
    seq: int,
    balances: Mapping[str, FakeBalance],
) -> list[tuple[str, list[dict[str, Any]]]]:
    """``[(topic, data rows)]`` the private stream pushes for one scripted event.

    Raises:
        ValueError: a position on the spot category (spot has no positions).
    """
    if event.kind == "order" and event.order is not None:
        messages = [("order", [order_row(event.order, category, ws=True)])]
        if event.execution == "TRADE":
            messages.append(("execution", [execution_row(event, event.order, category, seq)]))
        return messages
    if event.kind == "balance":
        return [("wallet", [wallet_row(event.balances, balances)])]
    if category == "spot":
        raise ValueError("Bybit spot has no positions (set them on bybit-linear)")
    return [
        ("position", [position_row(p, category, mark(p.symbol), event.time, seq, ws=True)])
        for p in event.positions
    ]
