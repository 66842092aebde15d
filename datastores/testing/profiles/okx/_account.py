"""OKX shapes of the fake account: orders, balances, positions (WebSocket and REST).

Field names and value conventions follow the OKX v5 docs: orders
(https://www.okx.com/docs-v5/en/#order-book-trading-trade-ws-order-channel and
``GET /api/v5/trade/orders-pending``), ``account``, ``positions`` and
``balance_and_position`` (https://www.okx.com/docs-v5/en/#trading-account-websocket-account-channel
and the following sections). Every value is a string, as OKX sends it. Only
the fields a client is likely to read are filled with meaningful values; the
others carry OKX's neutral defaults (``""``, ``"0"``).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ...account import AccountEvent, FakeBalance, FakeOrder, FakePosition

__all__ = [
    "balance_detail",
    "balance_row",
    "balance_summary",
    "inst_type",
    "matches",
    "okx_order",
    "ord_type",
    "position_row",
    "position_summary",
]

_STATES = {
    "NEW": "live",
    "PARTIALLY_FILLED": "partially_filled",
    "FILLED": "filled",
    "CANCELED": "canceled",
}


def inst_type(inst: str) -> str:
    """``SWAP`` for ``*-SWAP`` instruments, ``FUTURES`` for dated ones, else ``SPOT``."""
    if inst.endswith("-SWAP"):
        return "SWAP"
    parts = inst.split("-")
    if len(parts) == 3 and parts[2].isdigit():
        return "FUTURES"
    return "SPOT"


def matches(arg: Mapping[str, str], inst: str) -> bool:
    """Whether a private subscription ``arg`` (``instType``, ``instFamily``,
    ``instId``) covers instrument ``inst``."""
    kind = arg.get("instType", "ANY")
    if kind != "ANY" and kind != inst_type(inst):
        return False
    if "instId" in arg and arg["instId"] != inst:
        return False
    family = arg.get("instFamily")
    return family is None or inst.startswith(family + "-") or inst == family


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


#: the account's position side -> OKX ``posSide``
POS_SIDES = {"BOTH": "net", "LONG": "long", "SHORT": "short"}


def ord_type(order: FakeOrder) -> str:
    """OKX ``ordType``: ``market``, ``limit``, ``ioc``, ``fok`` or ``post_only``."""
    if order.order_type.upper() == "MARKET":
        return "market"
    return {"IOC": "ioc", "FOK": "fok", "POST_ONLY": "post_only"}.get(order.time_in_force, "limit")


def _pos(position: FakePosition) -> str:
    # In long/short mode OKX shows both sides' pos as positive numbers.
    if position.position_side == "BOTH":
        return position.amount
    return _plain(abs(Decimal(position.amount)))


def okx_order(order: FakeOrder, event: AccountEvent | None = None) -> dict[str, Any]:
    """An order as OKX shows it; ``event`` (a fill) sets ``fillSz``/``fillPx``/``tradeId``."""
    kind = inst_type(order.symbol)
    executed = Decimal(order.executed)
    average = _plain(Decimal(order.cum_quote) / executed) if executed else ""
    fill = event is not None and event.execution == "TRADE"
    return {
        "instType": kind,
        "instId": order.symbol,
        "ccy": "",
        "ordId": str(order.order_id),
        "clOrdId": order.client_order_id,
        "tag": "",
        "px": order.price if order.order_type.upper() != "MARKET" else "",
        "sz": order.quantity,
        "notionalUsd": "",
        "ordType": ord_type(order),
        "side": order.side.lower(),
        "posSide": POS_SIDES.get(order.position_side, "net"),
        "tdMode": "cash" if kind == "SPOT" else "cross",
        "tgtCcy": "",
        "fillSz": event.last_quantity if fill and event is not None else "0",
        "fillPx": event.last_price if fill and event is not None else "",
        "tradeId": str(event.trade_id) if fill and event is not None else "",
        "accFillSz": order.executed,
        "fillTime": str(event.time) if fill and event is not None else "",
        "avgPx": average,
        "state": _STATES[order.status],
        "lever": "" if kind == "SPOT" else "10",
        "feeCcy": order.symbol.split("-")[1] if "-" in order.symbol else "",
        "fee": "0",
        "rebateCcy": "",
        "rebate": "0",
        "pnl": "0",
        "category": "normal",
        "reduceOnly": "true" if order.reduce_only else "false",
        "cancelSource": "",
        "source": "",
        "uTime": str(order.updated),
        "cTime": str(order.created),
    }


def balance_detail(balance: FakeBalance, now: int) -> dict[str, Any]:
    """One currency of the ``account`` channel / ``GET /api/v5/account/balance``."""
    free, locked = Decimal(balance.free), Decimal(balance.locked)
    total = _plain(free + locked)
    return {
        "ccy": balance.asset,
        "eq": total,
        "cashBal": total,
        "availBal": balance.free,
        "availEq": balance.free,
        "frozenBal": balance.locked,
        "ordFrozen": balance.locked,
        "eqUsd": total,
        "upl": "0",
        "uTime": str(now),
    }


def balance_summary(balances: list[FakeBalance], now: int) -> dict[str, Any]:
    """The ``account`` item: a summary with ``details`` for ``balances``."""
    return {
        "uTime": str(now),
        "totalEq": _plain(sum((Decimal(b.free) + Decimal(b.locked) for b in balances), Decimal())),
        "isoEq": "0",
        "adjEq": "",
        "imr": "",
        "mmr": "",
        "mgnRatio": "",
        "notionalUsd": "",
        "details": [balance_detail(b, now) for b in balances],
    }


def balance_row(balance: FakeBalance, now: int) -> dict[str, Any]:
    """One ``balData`` row of ``balance_and_position``."""
    return {
        "ccy": balance.asset,
        "cashBal": _plain(Decimal(balance.free) + Decimal(balance.locked)),
        "uTime": str(now),
    }


def _pos_id(symbol: str) -> str:
    # Stable across processes (str hashes are salted): a position keeps its id.
    return str(1_000_000_000 + zlib.crc32(symbol.encode()))


def position_summary(position: FakePosition, mark: str, now: int) -> dict[str, Any]:
    """One item of the ``positions`` channel / ``GET /api/v5/account/positions``."""
    return {
        "instType": inst_type(position.symbol),
        "instId": position.symbol,
        "mgnMode": "cross",
        "posId": _pos_id(position.symbol),
        "posSide": POS_SIDES.get(position.position_side, "net"),
        "pos": _pos(position),
        "availPos": "",
        "posCcy": "",
        "ccy": position.symbol.split("-")[1] if "-" in position.symbol else "",
        "avgPx": position.entry_price,
        "markPx": mark,
        "upl": "0",
        "uplRatio": "0",
        "lever": "10",
        "liqPx": "",
        "imr": "",
        "margin": "",
        "mgnRatio": "",
        "notionalUsd": "",
        "realizedPnl": "0",
        "cTime": str(now),
        "uTime": str(now),
        "pTime": str(now),
    }


def position_row(position: FakePosition, now: int) -> dict[str, Any]:
    """One ``posData`` row of ``balance_and_position``."""
    return {
        "posId": _pos_id(position.symbol),
        "tradeId": "",
        "instId": position.symbol,
        "instType": inst_type(position.symbol),
        "mgnMode": "cross",
        "posSide": POS_SIDES.get(position.position_side, "net"),
        "pos": _pos(position),
        "ccy": position.symbol.split("-")[1] if "-" in position.symbol else "",
        "posCcy": "",
        "avgPx": position.entry_price,
        "uTime": str(now),
    }
