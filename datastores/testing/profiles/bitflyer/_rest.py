"""bitFlyer's fake REST API: the private endpoints a bot reads and trades with, and the
public board (https://lightning.bitflyer.com/docs).

Private requests are checked by ``verifier.py``; a refused one gets bitFlyer's error
body with HTTP 401. Shapes: ``getchildorders`` / ``getparentorders`` /
``getpositions`` / ``getbalance`` answer JSON lists, ``getcollateral`` an object,
``sendchildorder`` ``{"child_order_acceptance_id": ...}``, ``cancelchildorder`` an
empty body.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .... import _json
from ..._verify import FakeKey, ReceivedRequest, Rejected
from ...account import FakeOrder
from .verifier import bitflyer_error, verify_bitflyer

if TYPE_CHECKING:
    from .profile import BitflyerProfile

__all__ = ["BitflyerRest", "level_number", "order_ids"]


def level_number(text: str) -> int | float:
    """A decimal string as the JSON number bitFlyer sends (``"5000000"`` -> 5000000)."""
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


def order_ids(order: FakeOrder) -> dict[str, Any]:
    """The ids bitFlyer gives a child order, from the fake account's order."""
    return {
        "product_code": order.symbol,
        "child_order_id": f"JOR{order.order_id}",
        "child_order_acceptance_id": order.client_order_id,
    }


class BitflyerRest:
    """The REST routes of one fake bitFlyer venue."""

    def __init__(self, profile: BitflyerProfile) -> None:
        self.profile = profile

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/board", self._board),
            web.get("/v1/getboard", self._board),
            web.get("/v1/me/getchildorders", self._childorders),
            web.get("/v1/me/getparentorders", self._parentorders),
            web.get("/v1/me/getpositions", self._positions),
            web.get("/v1/me/getcollateral", self._collateral),
            web.get("/v1/me/getbalance", self._balance),
            web.post("/v1/me/sendchildorder", self._send),
            web.post("/v1/me/cancelchildorder", self._cancel),
        ]

    @staticmethod
    def _json(data: Any, status: int = 200) -> web.Response:
        return web.json_response(data, status=status, dumps=_json.dumps)

    async def _signed(self, request: web.Request) -> tuple[bytes, web.Response | None]:
        venue = self.profile.venue
        body = await request.read()
        received = await ReceivedRequest.of(request, "api.bitflyer.com")
        keys = {venue.api_key: FakeKey(venue.api_key, venue.api_secret)}
        try:
            verify_bitflyer(received, keys, venue.clock.time())
        except Rejected as rejected:
            status, error = bitflyer_error(rejected)
            return body, self._json(error, status)
        return body, None

    async def _board(self, request: web.Request) -> web.Response:
        symbol = request.query.get("product_code", "")
        markets = self.profile.venue.markets
        if symbol not in markets:
            return self._json({"status": -100, "error_message": "Invalid product"}, 400)
        market = markets[symbol]
        levels = [
            [{"price": level_number(p), "size": level_number(s)} for p, s in market.levels(side)]
            for side in ("bid", "ask")
        ]
        mid = self.profile._mid(symbol)
        return self._json({"mid_price": mid, "bids": levels[0], "asks": levels[1]})

    async def _childorders(self, request: web.Request) -> web.Response:
        _, refused = await self._signed(request)
        if refused is not None:
            return refused
        symbol = request.query.get("product_code")
        orders = []
        for order in self.profile.venue.account.orders.values():
            if symbol is not None and order.symbol != symbol:
                continue
            executed = Decimal(order.executed)
            orders.append(
                {
                    "id": order.order_id,
                    **order_ids(order),
                    "side": order.side,
                    "child_order_type": order.order_type,
                    "price": level_number(order.price),
                    "average_price": 0,
                    "size": level_number(order.quantity),
                    "child_order_state": "ACTIVE" if order.is_open else "COMPLETED",
                    "expire_date": "2099-01-01T00:00:00",
                    "child_order_date": "2026-01-01T00:00:00",
                    "outstanding_size": level_number(str(Decimal(order.quantity) - executed)),
                    "cancel_size": 0,
                    "executed_size": level_number(order.executed),
                    "total_commission": 0,
                }
            )
        state = request.query.get("child_order_state")
        return self._json([o for o in orders if state is None or o["child_order_state"] == state])

    async def _parentorders(self, request: web.Request) -> web.Response:
        _, refused = await self._signed(request)
        return refused or self._json([])

    async def _positions(self, request: web.Request) -> web.Response:
        _, refused = await self._signed(request)
        if refused is not None:
            return refused
        symbol = request.query.get("product_code")
        lots = [
            {
                "product_code": p.symbol,
                "side": "BUY" if Decimal(p.amount) > 0 else "SELL",
                "price": level_number(p.entry_price),
                "size": level_number(str(abs(Decimal(p.amount)))),
                "commission": 0,
                "swap_point_accumulate": 0,
                "require_collateral": 0,
                "open_date": "2026-01-01T00:00:00",
                "leverage": 2,
                "pnl": 0,
                "sfd": 0,
            }
            for p in self.profile.venue.account.positions.values()
            if Decimal(p.amount) and (symbol is None or p.symbol == symbol)
        ]
        return self._json(lots)

    async def _collateral(self, request: web.Request) -> web.Response:
        _, refused = await self._signed(request)
        if refused is not None:
            return refused
        jpy = self.profile.venue.account.balances.get("JPY")
        return self._json(
            {
                "collateral": level_number(jpy.free) if jpy else 0,
                "open_position_pnl": 0,
                "require_collateral": 0,
                "keep_rate": 0,
                "margin_call_amount": 0,
                "margin_call_due_date": None,
            }
        )

    async def _balance(self, request: web.Request) -> web.Response:
        _, refused = await self._signed(request)
        if refused is not None:
            return refused
        return self._json(
            [
                {
                    "currency_code": b.asset,
                    "amount": level_number(str(Decimal(b.free) + Decimal(b.locked))),
                    "available": level_number(b.free),
                }
                for b in self.profile.venue.account.balances.values()
            ]
        )

    async def _send(self, request: web.Request) -> web.Response:
        body, refused = await self._signed(request)
        if refused is not None:
            return refused
        venue = self.profile.venue
        try:
            order = _json.loads(body)
            symbol, side = order["product_code"], order["side"]
            size, kind = str(order["size"]), order["child_order_type"]
            price = str(order.get("price", 0))
            if symbol not in venue.markets:
                raise ValueError("unknown product")
            event = venue.account.place(
                venue.now_ms(), symbol, side, size, price, kind, f"JRF{venue.now_ms()}"
            )
        except (ValueError, KeyError, TypeError) as exc:
            return self._json({"status": -106, "error_message": str(exc), "data": None}, 400)
        venue.emit_account(event)
        assert event.order is not None
        return self._json({"child_order_acceptance_id": event.order.client_order_id})

    async def _cancel(self, request: web.Request) -> web.Response:
        body, refused = await self._signed(request)
        if refused is not None:
            return refused
        venue = self.profile.venue
        try:
            key = _json.loads(body)["child_order_acceptance_id"]
            order = next(
                o for o in venue.account.orders.values() if o.client_order_id == key and o.is_open
            )
        except (ValueError, KeyError, TypeError, StopIteration):
            # bitFlyer answers 200 for an unknown order; the CANCEL never comes.
            return web.Response(status=200)
        venue.emit_account(venue.account.cancel(venue.now_ms(), order.order_id))
        return web.Response(status=200)
