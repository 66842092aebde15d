"""Order entry of the fake Bybit V5 venues (spot and linear), over the shared
:class:`~datastores.testing.orders.MatchingEngine` of each category's venue.

* ``POST /v5/order/create`` (``category``, ``symbol``, ``side`` ``Buy``/``Sell``,
  ``orderType`` ``Market``/``Limit``, ``qty``, ``price``, ``timeInForce``
  ``GTC``/``IOC``/``FOK``/``PostOnly``, ``orderLinkId``, ``reduceOnly``, ``positionIdx``
  0/1/2, spot ``marketUnit``: a spot market Buy is sized in the quote coin unless
  ``marketUnit=baseCoin``): ``result: {"orderId", "orderLinkId"}``.
  https://bybit-exchange.github.io/docs/v5/order/create-order
* ``POST /v5/order/cancel`` (``orderId`` or ``orderLinkId``), ``GET /v5/order/realtime``
  (with ``orderId``/``orderLinkId``: that order whatever its state; else the open
  ones), ``GET /v5/order/history`` (closed orders, newest first).
  https://bybit-exchange.github.io/docs/v5/order/cancel-order ,
  https://bybit-exchange.github.io/docs/v5/order/order-list
* ``POST /v5/position/switch-mode`` (linear; ``mode`` 0 one-way, 3 hedge: then
  ``positionIdx`` 1 is the long side, 2 the short side).
  https://bybit-exchange.github.io/docs/v5/position/position-mode
* errors are HTTP 200 with a non-zero ``retCode`` and ``retMsg``
  (https://bybit-exchange.github.io/docs/v5/error): ``10001`` parameters, ``170131`` /
  ``110007`` insufficient balance (spot / linear), ``110017`` reduce-only,
  ``110001`` / ``170213`` no such order.

Each category's venue keeps its own balances (the fake's unified wallet view merges
them by coin), so fund the venue you trade on: ``fake.set_balance(..., venue=...)``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .... import _json
from ...account import FakeOrder
from ...orders import OrderRejected, OrderRequest
from ._account import order_row

if TYPE_CHECKING:
    from ._rest import BybitRest
    from .profile import BybitProfile

__all__ = ["BybitTrade"]

_TIME_IN_FORCE = {"GTC": "GTC", "IOC": "IOC", "FOK": "FOK", "PostOnly": "POST_ONLY"}
_POSITION_SIDES = {0: "BOTH", 1: "LONG", 2: "SHORT"}


def _rejection(exc: OrderRejected, spot: bool) -> tuple[int, str]:
    """Bybit's ``(retCode, retMsg)`` for a refused order or cancel."""
    reason = exc.reason
    if reason == "unknown_symbol":
        return 10001, "params error: Symbol Is Invalid"
    if reason == "bad_side":
        return 10001, "params error: side invalid"
    if reason == "bad_size":
        return (170137, "Order quantity has too many decimals.") if spot else (10001, "Qty invalid")
    if reason == "bad_price":
        return (170134, "Order price has too many decimals.") if spot else (10001, "Price invalid")
    if reason == "insufficient_balance":
        if spot:
            return 170131, "Insufficient balance."
        return 110007, "ab not enough for new order"
    if reason == "reduce_only":
        return 110017, "Reduce-only rule not satisfied"
    if reason == "position_side":
        return 10001, "position idx not match position mode"
    return (170213, "Order does not exist.") if spot else (110001, "Order does not exist")


class BybitTrade:
    """The order-entry endpoints of the Bybit venues of one server."""

    def __init__(self, rest: BybitRest) -> None:
        self.rest = rest

    def routes(self) -> list[web.RouteDef]:
        """The signed ``/v5/order`` and position-mode routes."""
        signed = self.rest.signed
        return [
            web.post("/v5/order/create", signed(self.create)),
            web.post("/v5/order/cancel", signed(self.cancel)),
            web.get("/v5/order/history", signed(self.history)),
            web.post("/v5/position/switch-mode", signed(self.switch_mode)),
        ]

    async def _body(
        self, request: web.Request
    ) -> tuple[dict[str, Any], BybitProfile] | web.Response:
        try:
            body = _json.loads(await request.read())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self.rest._error(10001, "params error: request body is not JSON")
        category = body.get("category")
        if not category:
            return self.rest._error(10001, "params error: category is required")
        target = self.rest.profile.category_profile(str(category))
        if target is None:
            return self.rest._error(10001, "Illegal category")
        return body, target

    async def create(self, request: web.Request) -> web.StreamResponse:
        """``POST /v5/order/create``."""
        found = await self._body(request)
        if isinstance(found, web.Response):
            return found
        body, target = found
        spot = target.category == "spot"
        for name in ("symbol", "side", "orderType", "qty"):
            if not body.get(name):
                return self.rest._error(10001, f"params error: {name} is required")
        kind = body["orderType"]
        if kind not in ("Market", "Limit"):
            return self.rest._error(10001, "params error: orderType invalid")
        if body["side"] not in ("Buy", "Sell"):
            return self.rest._error(10001, "params error: side invalid")
        if kind == "Limit" and not body.get("price"):
            return self.rest._error(10001, "params error: price is required")
        tif = _TIME_IN_FORCE.get(str(body.get("timeInForce", "GTC")))
        if tif is None:
            return self.rest._error(10001, "params error: timeInForce invalid")
        index = body.get("positionIdx", 0)
        if spot and index not in (0, "0"):
            return self.rest._error(10001, "params error: positionIdx invalid")
        position_side = _POSITION_SIDES.get(int(index)) if str(index).isdigit() else None
        if position_side is None:
            return self.rest._error(10001, "params error: positionIdx invalid")
        unit = body.get("marketUnit")
        in_quote = (
            spot
            and kind == "Market"
            and (unit == "quoteCoin" or (unit is None and body["side"] == "Buy"))
        )
        reduce_only = body.get("reduceOnly") in (True, "true")
        order = OrderRequest(
            symbol=str(body["symbol"]),
            side=body["side"].upper(),
            quantity=None if in_quote else str(body["qty"]),
            price=str(body["price"]) if kind == "Limit" else None,
            order_type=kind.upper(),
            time_in_force=tif,
            client_order_id=str(body["orderLinkId"]) if body.get("orderLinkId") else None,
            reduce_only=reduce_only,
            position_side=position_side,
            quote_quantity=str(body["qty"]) if in_quote else None,
        )
        try:
            placed = target.venue.matching.submit(order)
        except OrderRejected as exc:
            return self.rest._error(*_rejection(exc, spot))
        row = order_row(placed, target.category, ws=False)
        return self.rest._ok({"orderId": row["orderId"], "orderLinkId": row["orderLinkId"]})

    @staticmethod
    def _find(target: BybitProfile, symbol: str, order_id: str, link_id: str) -> FakeOrder | None:
        for order in reversed(target.venue.account.orders.values()):
            row_id = order_row(order, target.category, ws=False)["orderId"]
            if order.symbol == symbol and (
                (order_id and row_id == order_id)
                or (not order_id and link_id and order.client_order_id == link_id)
            ):
                return order
        return None

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        """``POST /v5/order/cancel``."""
        found = await self._body(request)
        if isinstance(found, web.Response):
            return found
        body, target = found
        symbol = str(body.get("symbol", ""))
        if not symbol:
            return self.rest._error(10001, "params error: symbol is required")
        order_id, link_id = str(body.get("orderId", "")), str(body.get("orderLinkId", ""))
        if not order_id and not link_id:
            return self.rest._error(10001, "params error: orderId or orderLinkId is required")
        order = self._find(target, symbol, order_id, link_id)
        try:
            if order is None:
                raise OrderRejected("unknown_order", "no such order")
            cancelled = target.venue.matching.cancel(order.order_id)
        except OrderRejected as exc:
            return self.rest._error(*_rejection(exc, target.category == "spot"))
        row = order_row(cancelled, target.category, ws=False)
        return self.rest._ok({"orderId": row["orderId"], "orderLinkId": row["orderLinkId"]})

    def realtime(self, target: BybitProfile, query: Any) -> list[FakeOrder] | None:
        """The order named by ``orderId``/``orderLinkId`` in ``query`` (whatever its
        state), ``[]`` if none, or ``None`` when the query names no order."""
        order_id, link_id = query.get("orderId", ""), query.get("orderLinkId", "")
        if not order_id and not link_id:
            return None
        orders = target.venue.account.orders.values()
        symbols = {query["symbol"]} if query.get("symbol") else {o.symbol for o in orders}
        found = [self._find(target, s, order_id, link_id) for s in symbols]
        return [o for o in found if o is not None][:1]

    async def history(self, request: web.Request) -> web.StreamResponse:
        """``GET /v5/order/history``: closed orders of a category, newest first."""
        target = self.rest._category_of(request)
        if isinstance(target, web.Response):
            return target
        query = request.query
        limit = query.get("limit", "20")
        if not limit.isdigit() or not 1 <= int(limit) <= 50:
            return self.rest._error(10001, "params error: limit")
        orders = [
            o
            for o in reversed(target.venue.account.orders.values())
            if not o.is_open and query.get("symbol", o.symbol) == o.symbol
        ]
        named = self.realtime(target, query)
        if named is not None:
            orders = [o for o in named if not o.is_open]
        return self.rest._ok(
            {
                "list": [order_row(o, target.category, ws=False) for o in orders[: int(limit)]],
                "nextPageCursor": "",
                "category": target.category,
            }
        )

    async def switch_mode(self, request: web.Request) -> web.StreamResponse:
        """``POST /v5/position/switch-mode`` (``mode`` 0 one-way, 3 hedge)."""
        found = await self._body(request)
        if isinstance(found, web.Response):
            return found
        body, target = found
        if target.category != "linear":
            return self.rest._error(10001, "Illegal category")
        if body.get("mode") not in (0, 3, "0", "3"):
            return self.rest._error(10001, "params error: mode invalid")
        hedge = int(body["mode"]) == 3
        venue = target.venue
        if hedge == venue.matching.hedge_mode:
            return self.rest._error(110025, "Position mode is not modified")
        busy = venue.account.open_orders() or any(
            Decimal(p.amount) for p in venue.account.positions.values()
        )
        if busy:
            return self.rest._error(
                110024, "You have an existing position, so position mode cannot be switched"
            )
        venue.matching.hedge_mode = hedge
        return self.rest._ok({})
