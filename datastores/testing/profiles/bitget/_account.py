"""The Bitget fake's private side: WebSocket pushes and REST answers of the account.

Used by :mod:`datastores.testing.profiles.bitget`. Shapes follow the official docs:
v2 https://www.bitget.com/api-doc/contract/websocket/private/Order-Channel (orders,
fill, positions, account; spot and futures) and the REST pages
``Get-Orders-Pending``, ``Get-Unfilled-Orders``, ``get-all-position``; v1
https://bitgetlimited.github.io/apidoc/en/mix/#order-channel and ``#get-open-order``.

Fake symbols are ``"<instType>:<instId>"``; balances are set per account with an
asset ``"<instType>:<coin>"`` (``"USDT-FUTURES:USDT"``), a bare coin meaning the
spot account. Position ids are stable per symbol and hold side.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .... import _json
from ...account import AccountEvent, FakeBalance, FakeOrder, FakePosition

if TYPE_CHECKING:
    from ...fake import Venue

__all__ = ["INST_TYPES", "V1_OF", "V1_TYPES", "BitgetAccount", "margin_coin", "split"]

#: v2 instTypes served (the demo ones are not)
INST_TYPES = ("SPOT", "USDT-FUTURES", "COIN-FUTURES", "USDC-FUTURES")
#: v1 private instType -> v2 instType (demo types are not served)
V1_TYPES = {"UMCBL": "USDT-FUTURES", "DMCBL": "COIN-FUTURES", "CMCBL": "USDC-FUTURES"}
V1_OF = {v2: v1 for v1, v2 in V1_TYPES.items()}

_STATUS = {
    "futures": {"NEW": "live", "PARTIALLY_FILLED": "partially_filled", "FILLED": "filled",
                "CANCELED": "canceled"},
    "spot": {"NEW": "live", "PARTIALLY_FILLED": "partially_filled", "FILLED": "filled",
             "CANCELED": "cancelled"},
    "v1": {"NEW": "new", "PARTIALLY_FILLED": "partial-fill", "FILLED": "full-fill",
           "CANCELED": "cancelled"},
}  # fmt: skip


def split(symbol: str) -> tuple[str, str]:
    """``"SPOT:BTCUSDT"`` -> ``("SPOT", "BTCUSDT")``."""
    inst_type, _, inst_id = symbol.partition(":")
    return inst_type, inst_id


def margin_coin(inst_type: str, inst_id: str) -> str:
    """The settlement coin of a futures instrument (spot: the quote, USDT)."""
    if inst_type == "COIN-FUTURES":
        return inst_id.removesuffix("USD")
    return "USDC" if inst_type == "USDC-FUTURES" else "USDT"


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _average(order: FakeOrder) -> str:
    executed = Decimal(order.executed)
    return _num(Decimal(order.cum_quote) / executed) if executed else "0"


def _side(order: FakeOrder) -> str:
    return "buy" if order.side == "BUY" else "sell"


def _force(order: FakeOrder) -> str:
    return {"IOC": "ioc", "FOK": "fok", "POST_ONLY": "post_only"}.get(order.time_in_force, "gtc")


def _position_fields(order: FakeOrder) -> dict[str, str]:
    """``side``/``tradeSide``/``posSide``/``posMode`` of a futures order: one-way
    ``buy_single``; in hedge mode ``side`` names the position and ``tradeSide`` says
    whether the order opens or closes it."""
    if order.position_side == "BOTH":
        side = _side(order)
        return {"side": side, "tradeSide": f"{side}_single", "posSide": "net",
                "posMode": "one_way_mode"}  # fmt: skip
    long = order.position_side == "LONG"
    opening = (order.side == "BUY") == long
    return {"side": "buy" if long else "sell", "tradeSide": "open" if opening else "close",
            "posSide": "long" if long else "short", "posMode": "hedge_mode"}  # fmt: skip


class BitgetAccount:
    """Turns the venue's scripted account into Bitget's private messages and REST data."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self._position_ids: dict[tuple[str, str], str] = {}
        self._ids = itertools.count(1_000_000_001)
        # symbol -> hold side last pushed on v1 (a flip closes the old side there)
        self._v1_sides: dict[str, str] = {}

    # ------------------------------------------------------------- publishing

    def _publish(self, topic: str, payload: Any) -> None:
        if self.venue.has_subscribers(topic):
            self.venue.publish_text(topic, _json.dumps(payload))

    def _v2(self, inst_type: str, channel: str, keys: tuple[str, ...], data: list[Any]) -> None:
        now = self.venue.now_ms()
        name = "coin" if channel == "account" else "instId"
        for key in keys:
            arg = {"instType": inst_type, "channel": channel, name: key}
            self._publish(
                f"v2|{inst_type}|{channel}|{key}",
                {"action": "snapshot", "arg": arg, "data": data, "ts": now},
            )

    def _v1(self, inst_type: str, channel: str, data: list[Any]) -> None:
        v1_type = V1_OF.get(inst_type)
        if v1_type is not None:
            arg = {"instType": v1_type, "channel": channel, "instId": "default"}
            self._publish(
                f"v1|{v1_type}|{channel}",
                {"action": "snapshot", "arg": arg, "data": data, "ts": self.venue.now_ms()},
            )

    def publish(self, event: AccountEvent) -> None:
        """Push one scripted event to the subscribers of the matching channels."""
        if event.kind == "order" and event.order is not None:
            order = event.order
            inst_type, inst_id = split(order.symbol)
            keys = ("default", inst_id)
            self._v2(inst_type, "orders", keys, [self.v2_order(event, order)])
            if event.execution == "TRADE":
                self._v2(inst_type, "fill", keys, [self.v2_fill(event, order)])
            self._v1(inst_type, "orders", [self.v1_order(event, order)])
        elif event.kind == "balance":
            for balance in event.balances:
                inst_type, coin = self.balance_account(balance)
                self._v2(inst_type, "account", ("default", coin),
                         [self.v2_balance(inst_type, coin, balance)])  # fmt: skip
                self._v1(inst_type, "account", [self.v1_balance(coin, balance)])
        elif event.kind == "position":
            for position in event.positions:
                inst_type, _ = split(position.symbol)
                if inst_type == "SPOT":
                    raise ValueError("spot accounts have no positions")
                self._v2(inst_type, "positions", ("default",), self.v2_positions(inst_type))
                self._v1(inst_type, "positions", self._v1_position_change(position))

    def v2_snapshot(self, inst_type: str, channel: str, key: str, arg: Any) -> Any:
        """What a new v2 private subscription receives first (``None``: nothing)."""
        now = self.venue.now_ms()
        if channel == "positions":
            data = self.v2_positions(inst_type)
        elif channel == "account":
            data = [
                self.v2_balance(inst_type, coin, balance)
                for balance in self.venue.account.balances.values()
                for t, coin in [self.balance_account(balance)]
                if t == inst_type and key in ("default", coin)
            ]
        else:  # orders and fills are pushed on change only
            return None
        return {"action": "snapshot", "arg": arg, "data": data, "ts": now}

    def v1_snapshot(self, v1_type: str, channel: str, arg: Any) -> Any:
        """What a new v1 private subscription receives first (``None``: nothing)."""
        inst_type = V1_TYPES[v1_type]
        if channel == "positions":
            data = [
                self.v1_position(p, *self._hold(p))
                for p in self.venue.account.positions.values()
                if split(p.symbol)[0] == inst_type and Decimal(p.amount)
            ]
        elif channel == "account":
            data = [
                self.v1_balance(coin, balance)
                for balance in self.venue.account.balances.values()
                for t, coin in [self.balance_account(balance)]
                if t == inst_type
            ]
        else:
            return None
        return {"action": "snapshot", "arg": arg, "data": data, "ts": self.venue.now_ms()}

    # ------------------------------------------------------------------ orders

    def v2_order(self, event: AccountEvent, order: FakeOrder) -> dict[str, Any]:
        """A v2 ``orders`` item (spot or futures shape)."""
        inst_type, inst_id = split(order.symbol)
        spot = inst_type == "SPOT"
        filled = event.execution == "TRADE"
        fee_coin = inst_id.removesuffix("USDT") if spot else margin_coin(inst_type, inst_id)
        item: dict[str, Any] = {
            "instId": inst_id, "orderId": str(order.order_id), "clientOid": order.client_order_id,
            "price": order.price, "size": order.quantity,
            "notional": _num(Decimal(order.price) * Decimal(order.quantity)),
            "orderType": order.order_type.lower(), "force": _force(order), "side": _side(order),
            "accBaseVolume": order.executed, "priceAvg": _average(order),
            "status": _STATUS["spot" if spot else "futures"][order.status],
            "cTime": str(order.created), "uTime": str(order.updated),
            "feeDetail": [{"feeCoin": fee_coin, "fee": "0"}], "enterPointSource": "API",
        }  # fmt: skip
        if filled:
            item.update(fillPrice=event.last_price, tradeId=str(event.trade_id),
                        baseVolume=event.last_quantity, fillTime=str(event.time), fillFee="0",
                        fillFeeCoin=fee_coin, tradeScope="T")  # fmt: skip
        if not spot:
            item.update(marginCoin=margin_coin(inst_type, inst_id), marginMode="crossed",
                        leverage="20", reduceOnly="yes" if order.reduce_only else "no",
                        pnl="0", **_position_fields(order))  # fmt: skip
        return item

    def v2_fill(self, event: AccountEvent, order: FakeOrder) -> dict[str, Any]:
        """A v2 ``fill`` item for a TRADE event."""
        inst_type, inst_id = split(order.symbol)
        quote = _num(Decimal(event.last_quantity) * Decimal(event.last_price))
        item: dict[str, Any] = {
            "orderId": str(order.order_id), "tradeId": str(event.trade_id), "symbol": inst_id,
            "orderType": order.order_type.lower(), "side": _side(order), "tradeScope": "maker",
            "cTime": str(event.time), "uTime": str(event.time),
        }  # fmt: skip
        if inst_type == "SPOT":
            item.update(priceAvg=event.last_price, size=event.last_quantity, amount=quote,
                        feeDetail=[{"feeCoin": inst_id.removesuffix("USDT"), "deduction": "no",
                                    "totalDeductionFee": "0", "totalFee": "0"}])  # fmt: skip
        else:
            item.update(price=event.last_price, baseVolume=event.last_quantity,
                        quoteVolume=quote, profit="0", tradeSide=f"{_side(order)}_single",
                        posMode="one_way_mode",
                        feeDetail=[{"feeCoin": margin_coin(inst_type, inst_id),
                                    "deduction": "no", "totalDeductionFee": "0",
                                    "totalFee": "0"}])  # fmt: skip
        return item

    def v1_order(self, event: AccountEvent, order: FakeOrder) -> dict[str, Any]:
        """A v1 ``orders`` item."""
        inst_type, inst_id = split(order.symbol)
        coin = margin_coin(inst_type, inst_id)
        item: dict[str, Any] = {
            "instId": f"{inst_id}_{V1_OF.get(inst_type, inst_type)}",
            "ordId": str(order.order_id), "clOrdId": order.client_order_id, "px": order.price,
            "sz": order.quantity,
            "notionalUsd": _num(Decimal(order.price) * Decimal(order.quantity)),
            "ordType": order.order_type.lower(), "force": "normal", "side": _side(order),
            "posSide": "net", "tdMode": "cross", "tgtCcy": coin, "accFillSz": order.executed,
            "avgPx": _average(order), "status": _STATUS["v1"][order.status], "lever": "20",
            "orderFee": [{"feeCcy": coin, "fee": "0"}], "pnl": "0", "eps": "API",
            "hM": "single_hold", "low": False, "cTime": order.created, "uTime": order.updated,
        }  # fmt: skip
        if event.execution == "TRADE":
            item.update(fillPx=event.last_price, fillSz=event.last_quantity,
                        fillTime=str(event.time), tradeId=str(event.trade_id), fillFee="0",
                        fillFeeCcy=coin, execType="M")  # fmt: skip
        return item

    # -------------------------------------------------------------- balances

    @staticmethod
    def balance_account(balance: FakeBalance) -> tuple[str, str]:
        """``(instType, coin)`` of a balance: ``"USDT-FUTURES:USDT"`` or ``"USDT"`` (spot)."""
        inst_type, sep, coin = balance.asset.partition(":")
        return (inst_type, coin) if sep else ("SPOT", balance.asset)

    def v2_balance(self, inst_type: str, coin: str, balance: FakeBalance) -> dict[str, Any]:
        """A v2 ``account`` item: spot ``coin``, futures ``marginCoin``."""
        now = str(self.venue.now_ms())
        if inst_type == "SPOT":
            return {"coin": coin, "available": balance.free, "frozen": balance.locked,
                    "locked": "0", "limitAvailable": "0", "uTime": now}  # fmt: skip
        equity = _num(Decimal(balance.free) + Decimal(balance.locked))
        return {
            "marginCoin": coin, "frozen": balance.locked, "available": balance.free,
            "maxOpenPosAvailable": balance.free, "maxTransferOut": balance.free,
            "equity": equity, "usdtEquity": equity, "crossedRiskRate": "0",
            "unrealizedPL": "0",
        }  # fmt: skip

    @staticmethod
    def v1_balance(coin: str, balance: FakeBalance) -> dict[str, Any]:
        """A v1 ``account`` item."""
        equity = _num(Decimal(balance.free) + Decimal(balance.locked))
        return {
            "marginCoin": coin, "locked": balance.locked, "available": balance.free,
            "maxOpenPosAvailable": balance.free, "maxTransferOut": balance.free,
            "equity": equity, "usdtEquity": equity,
        }  # fmt: skip

    # ------------------------------------------------------------- positions

    def _hold(self, position: FakePosition) -> tuple[str, str]:
        """``(holdSide, posId)``: the id is stable per symbol and side."""
        side = "short" if Decimal(position.amount) < 0 else "long"
        key = (position.symbol, side)
        pos_id = self._position_ids.get(key)
        if pos_id is None:
            pos_id = self._position_ids[key] = str(next(self._ids))
        return side, pos_id

    def _mark(self, symbol: str, fallback: str) -> str:
        market = self.venue.markets.get(symbol)
        return market.best()[0] if market is not None else fallback

    def v2_position(self, position: FakePosition) -> dict[str, Any]:
        """A v2 ``positions`` item."""
        inst_type, inst_id = split(position.symbol)
        side, pos_id = self._hold(position)
        total = _num(abs(Decimal(position.amount)))
        now = str(self.venue.now_ms())
        return {
            "posId": pos_id, "instId": inst_id, "marginCoin": margin_coin(inst_type, inst_id),
            "marginSize": "0", "marginMode": "crossed", "holdSide": side,
            "posMode": "one_way_mode" if position.position_side == "BOTH" else "hedge_mode",
            "total": total, "available": total, "frozen": "0",
            "openPriceAvg": position.entry_price, "leverage": "20", "achievedProfits": "0",
            "unrealizedPL": "0", "unrealizedPLR": "0", "liquidationPrice": "0",
            "keepMarginRate": "0.004", "marginRate": "0",
            "markPrice": self._mark(position.symbol, position.entry_price),
            "breakEvenPrice": position.entry_price, "totalFee": "0", "deductedFee": "0",
            "cTime": now, "uTime": now,
        }  # fmt: skip

    def v2_positions(self, inst_type: str) -> list[dict[str, Any]]:
        """Every open position of ``inst_type`` (a v2 push lists them all)."""
        return [
            self.v2_position(p)
            for p in self.venue.account.positions.values()
            if split(p.symbol)[0] == inst_type and Decimal(p.amount)
        ]

    def v1_position(self, position: FakePosition, side: str, pos_id: str) -> dict[str, Any]:
        """A v1 ``positions`` item (``total`` ``"0"`` when closed)."""
        inst_type, inst_id = split(position.symbol)
        total = _num(abs(Decimal(position.amount)))
        coin = margin_coin(inst_type, inst_id)
        return {
            "posId": pos_id, "instId": f"{inst_id}_{V1_OF[inst_type]}", "instName": inst_id,
            "marginCoin": coin, "margin": "0", "marginMode": "crossed", "holdSide": side,
            "holdMode": "single_hold", "total": total, "available": total, "locked": "0",
            "averageOpenPrice": position.entry_price, "leverage": 20, "achievedProfits": "0",
            "upl": "0", "uplRate": "0", "liqPx": "0", "keepMarginRate": "0.004",
            "marginRate": "0", "cTime": str(self.venue.now_ms()),
            "uTime": str(self.venue.now_ms()), "autoMargin": "off",
        }  # fmt: skip

    def _v1_position_change(self, position: FakePosition) -> list[dict[str, Any]]:
        side, pos_id = self._hold(position)
        items = []
        previous = self._v1_sides.get(position.symbol)
        if previous is not None and (previous != side or not Decimal(position.amount)):
            # The old side is closed: v1 says so with total "0" on its posId.
            closed = FakePosition(position.symbol, "0", position.entry_price)
            closed_id = self._position_ids[(position.symbol, previous)]
            items.append(self.v1_position(closed, previous, closed_id))
        if Decimal(position.amount):
            items.append(self.v1_position(position, side, pos_id))
            self._v1_sides[position.symbol] = side
        else:
            self._v1_sides.pop(position.symbol, None)
        return items

    # -------------------------------------------------------------------- REST

    def mix_orders(self, inst_type: str, inst_id: str | None) -> dict[str, Any]:
        """``GET /api/v2/mix/order/orders-pending`` data (``entrustedList`` null when empty)."""
        rows = [self.mix_row(order) for order in self._open(inst_type, inst_id)]
        return {"entrustedList": rows or None, "endId": rows[-1]["orderId"] if rows else None}

    @staticmethod
    def mix_row(order: FakeOrder) -> dict[str, Any]:
        """One futures order as the v2 REST endpoints list it."""
        inst_type, symbol = split(order.symbol)
        coin = margin_coin(inst_type, symbol)
        return {
            "symbol": symbol, "size": order.quantity, "orderId": str(order.order_id),
            "clientOid": order.client_order_id, "baseVolume": order.executed, "fee": "0",
            "price": order.price, "priceAvg": _average(order),
            "status": _STATUS["futures"][order.status], "force": _force(order),
            "totalProfits": "0", "marginCoin": coin, "quoteVolume": order.cum_quote,
            "leverage": "20", "marginMode": "crossed", "enterPointSource": "API",
            "orderType": order.order_type.lower(), "orderSource": "normal",
            "reduceOnly": "YES" if order.reduce_only else "NO", "presetStopSurplusPrice": "",
            "presetStopLossPrice": "", "cTime": str(order.created),
            "uTime": str(order.updated), **_position_fields(order),
        }  # fmt: skip

    def spot_orders(self, inst_id: str | None) -> list[dict[str, Any]]:
        """``GET /api/v2/spot/trade/unfilled-orders`` data."""
        return [self.spot_row(o) for o in self._open("SPOT", inst_id)]

    @staticmethod
    def spot_row(o: FakeOrder) -> dict[str, Any]:
        """One spot order as the v2 REST endpoints list it."""
        return {
            "userId": "1000000001", "symbol": split(o.symbol)[1], "orderId": str(o.order_id),
            "clientOid": o.client_order_id, "priceAvg": o.price, "size": o.quantity,
            "orderType": o.order_type.lower(), "side": _side(o),
            "status": _STATUS["spot"][o.status], "basePrice": _average(o),
            "baseVolume": o.executed, "quoteVolume": o.cum_quote,
            "enterPointSource": "API", "orderSource": "normal",
            "presetTakeProfitPrice": "", "presetStopLossPrice": "",
            "cTime": str(o.created), "uTime": str(o.updated),
        }  # fmt: skip

    def positions(self, inst_type: str, coin: str | None) -> list[dict[str, Any]]:
        """``GET /api/v2/mix/position/all-position`` data (no ``posId``, as on Bitget)."""
        rows = []
        for item in self.v2_positions(inst_type):
            if coin is None or item["marginCoin"] == coin:
                row = {k: v for k, v in item.items() if k not in ("posId", "instId", "frozen")}
                rows.append({**row, "symbol": item["instId"], "locked": "0",
                             "openDelegateSize": "0", "marginRatio": "0"})  # fmt: skip
        return rows

    def v1_orders(self, inst_type: str, inst_id: str) -> list[dict[str, Any]]:
        """``GET /api/mix/v1/order/current`` data (numbers as JSON numbers, as documented)."""
        return [self._v1_row(inst_type, inst_id, o) for o in self._open(inst_type, inst_id)]

    @staticmethod
    def _v1_row(inst_type: str, inst_id: str, o: FakeOrder) -> dict[str, Any]:
        return {
            "symbol": f"{inst_id}_{V1_OF[inst_type]}", "size": float(o.quantity),
            "orderId": str(o.order_id), "clientOid": o.client_order_id,
            "filledQty": float(o.executed), "fee": 0, "price": float(o.price),
            "priceAvg": float(_average(o)),
            "state": "new" if o.status == "NEW" else "partially_filled",
            "side": f"{_side(o)}_single", "timeInForce": "normal", "totalProfits": 0,
            "posSide": "net", "marginCoin": margin_coin(inst_type, inst_id),
            "filledAmount": float(o.cum_quote), "orderType": o.order_type.lower(),
            "leverage": "20", "marginMode": "crossed", "reduceOnly": False,
            "enterPointSource": "API", "tradeSide": f"{_side(o)}_single",
            "holdMode": "single_hold", "cTime": o.created, "uTime": o.updated,
        }  # fmt: skip

    def _open(self, inst_type: str, inst_id: str | None) -> list[FakeOrder]:
        symbol = f"{inst_type}:{inst_id}" if inst_id else None
        return [
            o
            for o in self.venue.account.open_orders(symbol)
            if symbol is not None or split(o.symbol)[0] == inst_type
        ]
