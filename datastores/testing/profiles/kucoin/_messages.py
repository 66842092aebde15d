"""KuCoin's message shapes for the fake venues, from the documentation.

Classic (https://www.kucoin.com/docs-new/3470068w0 and neighbours): ``{"type":
"message", "topic", "subject", "data"}``. UTA ``obu`` (.../3470221w0): ``{"T":
"obu.SPOT", "dp", "t", "P", "d": {"s", "O", "C", "M", "a", "b"}}``.
"""

from __future__ import annotations

from typing import Any

from ...account import AccountEvent, FakeOrder
from ...market import MarketUpdate

__all__ = [
    "futures_changes",
    "futures_number",
    "obu",
    "order_event",
    "spot_l2update",
]


def message(topic: str, subject: str, data: Any, private: bool = False) -> dict[str, Any]:
    """One classic push."""
    msg: dict[str, Any] = {"type": "message", "topic": topic, "subject": subject, "data": data}
    if private:
        msg["channelType"] = "private"
    return msg


def spot_l2update(update: MarketUpdate, now_ms: int) -> dict[str, Any]:
    """``/market/level2``: rows ``[price, size, sequence]``, one sequence per row,
    covering ``sequenceStart..sequenceEnd``."""
    sequence = update.first_id
    asks: list[list[str]] = []
    bids: list[list[str]] = []
    for rows, levels in ((asks, update.asks), (bids, update.bids)):
        for price, size in levels:
            rows.append([price, size, str(sequence)])
            sequence += 1
    data = {
        "changes": {"asks": asks, "bids": bids},
        "sequenceStart": update.first_id,
        "sequenceEnd": update.last_id,
        "symbol": update.symbol,
        "time": now_ms,
    }
    return message(f"/market/level2:{update.symbol}", "trade.l2update", data)


def futures_changes(update: MarketUpdate, now_ms: int) -> list[dict[str, Any]]:
    """``/contractMarket/level2``: one change per message, ``sequence`` +1 each."""
    out = []
    sequence = update.first_id
    for side, levels in (("sell", update.asks), ("buy", update.bids)):
        for price, size in levels:
            data = {"sequence": sequence, "change": f"{price},{side},{size}", "timestamp": now_ms}
            msg = message(f"/contractMarket/level2:{update.symbol}", "level2", data)
            msg["sn"] = sequence
            out.append(msg)
            sequence += 1
    return out


def futures_number(text: str) -> int | float:
    """A futures REST number: the snapshot sends prices and sizes as JSON numbers."""
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def obu(
    trade_type: str,
    depth: str,
    kind: str | None,
    symbol: str,
    first: int,
    last: int,
    asks: Any,
    bids: Any,
    now_ns: int,
) -> dict[str, Any]:
    """A UTA ``obu`` frame (``kind`` ``"snapshot"``/``"delta"``; ``None`` for whole-book depths)."""
    frame: dict[str, Any] = {"T": f"obu.{trade_type}", "dp": depth}
    if kind is not None:
        frame["t"] = kind
    frame["P"] = now_ns + 1000
    frame["d"] = {"s": symbol, "O": first, "C": last, "M": now_ns, "a": asks, "b": bids}
    return frame


_TYPES = {"NEW": "open", "TRADE": "match", "CANCELED": "canceled"}


def order_event(event: AccountEvent, order: FakeOrder, topic: str) -> list[dict[str, Any]]:
    """Order events: ``open``, ``match`` (then ``filled`` when nothing remains),
    ``canceled`` (``status`` ``done``)."""
    kind = _TYPES.get(event.execution or "", "update")
    remain = float(order.quantity) - float(order.executed)
    base = {
        "orderId": str(order.order_id),
        "clientOid": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side.lower(),
        "orderType": order.order_type.lower(),
        "price": order.price,
        "size": order.quantity,
        "filledSize": order.executed,
        "remainSize": f"{remain:g}",
        "ts": event.time * 1_000_000,
    }
    out = []
    if kind == "match":
        match = base | {"type": "match", "status": "match", "matchSize": event.last_quantity}
        match |= {"matchPrice": event.last_price, "tradeId": str(event.trade_id)}
        out.append(message(topic, "orderChange", match, True))
        if order.status == "FILLED":
            out.append(
                message(topic, "orderChange", base | {"type": "filled", "status": "done"}, True)
            )
    else:
        status = "done" if kind == "canceled" else "open"
        out.append(message(topic, "orderChange", base | {"type": kind, "status": status}, True))
    return out
