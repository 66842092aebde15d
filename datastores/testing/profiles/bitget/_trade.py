"""Order entry of the fake Bitget venue (v2 spot and USDT/USDC futures), over the shared
:class:`~datastores.testing.orders.MatchingEngine`.

Spot (https://www.bitget.com/api-doc/spot/trade/Place-Order and the following pages):
``POST /api/v2/spot/trade/place-order`` (``symbol``, ``side`` ``buy``/``sell``,
``orderType`` ``limit``/``market``, ``force`` ``gtc``/``post_only``/``fok``/``ioc``,
``price``, ``size``, ``clientOid``; a market buy's ``size`` is in the quote coin),
``POST /api/v2/spot/trade/cancel-order``, ``GET /api/v2/spot/trade/orderInfo``,
``GET /api/v2/spot/trade/history-orders``.

Futures (https://www.bitget.com/api-doc/contract/trade/Place-Order and the following pages):
``POST /api/v2/mix/order/place-order`` (also ``productType``, ``marginMode``,
``marginCoin``, ``reduceOnly`` ``YES``/``NO``, and in hedge mode ``tradeSide``
``open``/``close``, where ``side`` names the position: ``buy`` + ``close`` closes the
long), ``POST /api/v2/mix/order/cancel-order``, ``GET /api/v2/mix/order/detail``,
``GET /api/v2/mix/order/orders-history``, ``POST /api/v2/mix/account/set-position-mode``
(``one_way_mode`` / ``hedge_mode``).

Answers ``{"code": "00000", "data": {"orderId", "clientOid"}}``; errors are HTTP 400
``{"code", "msg", "requestTime", "data": null}``
(https://www.bitget.com/api-doc/common/error-code/restapi): ``40034`` unknown symbol,
``40019``/``40020`` missing/bad parameter, ``40808`` size or price precision,
``43012`` (spot) / ``40762`` (futures) insufficient balance, ``22002`` nothing to
reduce, ``40774`` position-mode mismatch, ``43001`` no such order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .... import _json
from ...account import FakeOrder
from ...orders import OrderRejected, OrderRequest
from ._account import INST_TYPES, split
from ._rest import error, ok

if TYPE_CHECKING:
    from .profile import BitgetProfile

__all__ = ["BitgetTrade"]

_FORCES = {"gtc": "GTC", "post_only": "POST_ONLY", "fok": "FOK", "ioc": "IOC"}


def _rejection(exc: OrderRejected, spot: bool) -> tuple[str, str]:
    """Bitget's ``(code, msg)`` for a refused order or cancel."""
    reason = exc.reason
    if reason == "unknown_symbol":
        return "40034", "Parameter symbol does not exist"
    if reason == "bad_side":
        return "40020", "Parameter side error"
    if reason == "bad_size":
        return "40808", "Parameter verification exception size checkBDScale error"
    if reason == "bad_price":
        return "40808", "Parameter verification exception price checkBDScale error"
    if reason == "insufficient_balance":
        return ("43012", "Insufficient balance") if spot else (
            "40762", "The order amount exceeds the balance",
        )  # fmt: skip
    if reason == "reduce_only":
        return "22002", "No position to close"
    if reason == "position_side":
        return (
            "40774",
            "The order type for unilateral position must also be the unilateral position type.",
        )
    return "43001", "The order does not exist"


class BitgetTrade:
    """The v2 order-entry endpoints of the Bitget venue (bound to its profile)."""

    def __init__(self, profile: BitgetProfile) -> None:
        self.profile = profile

    def routes(self, signed: Any) -> list[web.RouteDef]:
        """The signed v2 trade routes (``signed`` wraps a handler in Bitget's auth)."""
        return [
            web.post("/api/v2/spot/trade/place-order", signed(self.spot_place)),
            web.post("/api/v2/spot/trade/cancel-order", signed(self.spot_cancel)),
            web.get("/api/v2/spot/trade/orderInfo", signed(self.spot_info)),
            web.get("/api/v2/spot/trade/history-orders", signed(self.spot_history)),
            web.post("/api/v2/mix/order/place-order", signed(self.mix_place)),
            web.post("/api/v2/mix/order/cancel-order", signed(self.mix_cancel)),
            web.get("/api/v2/mix/order/detail", signed(self.mix_detail)),
            web.get("/api/v2/mix/order/orders-history", signed(self.mix_history)),
            web.post("/api/v2/mix/account/set-position-mode", signed(self.position_mode)),
        ]

    def _now(self) -> int:
        return self.profile.venue.now_ms()

    def _error(self, code: str, msg: str) -> web.Response:
        return error(code, msg, self._now())

    def _ok(self, data: Any) -> web.Response:
        return ok(data, self._now())

    async def _body(self, request: web.Request) -> dict[str, Any] | web.Response:
        try:
            body = _json.loads(await request.read())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._error("40017", "Parameter verification failed: the body is not JSON")
        return body

    def _product(self, value: Any) -> str | web.Response:
        product = str(value or "").upper()
        if not product:
            return self._error("40019", "Parameter productType cannot be empty")
        if product not in INST_TYPES[1:]:
            return self._error("40020", "Parameter productType error")
        return product

    # ------------------------------------------------------------------ place

    def _submit(self, body: dict[str, Any], inst_type: str, **fields: Any) -> web.Response:
        spot = inst_type == "SPOT"
        for name in ("symbol", "side", "orderType", "size"):
            if not body.get(name):
                return self._error("40019", f"Parameter {name} cannot be empty")
        kind = body["orderType"]
        if kind not in ("limit", "market"):
            return self._error("40020", "Parameter orderType error")
        if body["side"] not in ("buy", "sell"):
            return self._error("40020", "Parameter side error")
        force = _FORCES.get(str(body.get("force", "gtc")))
        if force is None:
            return self._error("40020", "Parameter force error")
        if kind == "limit" and not body.get("price"):
            return self._error("40019", "Parameter price cannot be empty")
        in_quote = spot and kind == "market" and body["side"] == "buy"
        symbol = f"{inst_type}:{str(body['symbol']).upper()}"
        order = OrderRequest(
            symbol=symbol,
            side=fields.get("side", body["side"]).upper(),
            quantity=None if in_quote else str(body["size"]),
            price=str(body["price"]) if kind == "limit" else None,
            order_type=kind.upper(),
            time_in_force=force,
            client_order_id=str(body["clientOid"]) if body.get("clientOid") else None,
            reduce_only=fields.get("reduce_only", False),
            position_side=fields.get("position_side", "BOTH"),
            quote_quantity=str(body["size"]) if in_quote else None,
        )
        try:
            placed = self.profile.venue.matching.submit(order)
        except OrderRejected as exc:
            return self._error(*_rejection(exc, spot))
        return self._ok({"orderId": str(placed.order_id), "clientOid": placed.client_order_id})

    async def spot_place(self, request: web.Request) -> web.Response:
        """``POST /api/v2/spot/trade/place-order``."""
        body = await self._body(request)
        return body if isinstance(body, web.Response) else self._submit(body, "SPOT")

    async def mix_place(self, request: web.Request) -> web.Response:
        """``POST /api/v2/mix/order/place-order``."""
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        product = self._product(body.get("productType"))
        if isinstance(product, web.Response):
            return product
        for name in ("marginMode", "marginCoin"):
            if not body.get(name):
                return self._error("40019", f"Parameter {name} cannot be empty")
        if body["marginMode"] not in ("crossed", "isolated"):
            return self._error("40020", "Parameter marginMode error")
        reduce_only = str(body.get("reduceOnly", "NO")).upper() == "YES"
        trade_side = body.get("tradeSide")
        if not self.profile.venue.matching.hedge_mode:
            # One-way mode: tradeSide is ignored, as Bitget documents.
            return self._submit(body, product, reduce_only=reduce_only)
        if trade_side not in ("open", "close"):
            return self._error("40019", "Parameter tradeSide cannot be empty")
        # Hedge mode: side names the position; closing a long sells, closing a short buys.
        position_side = "LONG" if body.get("side") == "buy" else "SHORT"
        side = body.get("side", "")
        if trade_side == "close":
            side = {"buy": "sell", "sell": "buy"}.get(side, side)
        return self._submit(body, product, side=side, position_side=position_side)

    # ----------------------------------------------------------- cancel/query

    def _find(
        self, inst_type: str, symbol: str, order_id: str, client_oid: str
    ) -> FakeOrder | None:
        for order in reversed(self.profile.venue.account.orders.values()):
            kind, inst_id = split(order.symbol)
            if kind != inst_type or (symbol and inst_id != symbol.upper()):
                continue
            if (order_id and str(order.order_id) == order_id) or (
                not order_id and client_oid and order.client_order_id == client_oid
            ):
                return order
        return None

    def _cancel(self, body: dict[str, Any], inst_type: str) -> web.Response:
        symbol = str(body.get("symbol", ""))
        if not symbol:
            return self._error("40019", "Parameter symbol cannot be empty")
        order_id, client_oid = str(body.get("orderId", "")), str(body.get("clientOid", ""))
        if not order_id and not client_oid:
            return self._error("40019", "Parameter orderId cannot be empty")
        order = self._find(inst_type, symbol, order_id, client_oid)
        try:
            if order is None:
                raise OrderRejected("unknown_order", "no such order")
            cancelled = self.profile.venue.matching.cancel(order.order_id)
        except OrderRejected as exc:
            return self._error(*_rejection(exc, inst_type == "SPOT"))
        return self._ok(
            {"orderId": str(cancelled.order_id), "clientOid": cancelled.client_order_id}
        )

    async def spot_cancel(self, request: web.Request) -> web.Response:
        """``POST /api/v2/spot/trade/cancel-order``."""
        body = await self._body(request)
        return body if isinstance(body, web.Response) else self._cancel(body, "SPOT")

    async def mix_cancel(self, request: web.Request) -> web.Response:
        """``POST /api/v2/mix/order/cancel-order``."""
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        product = self._product(body.get("productType"))
        return product if isinstance(product, web.Response) else self._cancel(body, product)

    async def spot_info(self, request: web.Request) -> web.Response:
        """``GET /api/v2/spot/trade/orderInfo``: a list of one order (empty if unknown)."""
        query = request.query
        order_id, client_oid = query.get("orderId", ""), query.get("clientOid", "")
        if not order_id and not client_oid:
            return self._error("40019", "Parameter orderId cannot be empty")
        order = self._find("SPOT", "", order_id, client_oid)
        private = self.profile.private
        return self._ok([private.spot_row(order)] if order is not None else [])

    async def spot_history(self, request: web.Request) -> web.Response:
        """``GET /api/v2/spot/trade/history-orders``: filled and cancelled, newest first."""
        symbol = request.query.get("symbol", "").upper()
        rows = [
            self.profile.private.spot_row(o)
            for o in reversed(self.profile.venue.account.orders.values())
            if not o.is_open
            and split(o.symbol)[0] == "SPOT"
            and (not symbol or split(o.symbol)[1] == symbol)
        ]
        return self._ok(rows)

    async def mix_detail(self, request: web.Request) -> web.Response:
        """``GET /api/v2/mix/order/detail``."""
        query = request.query
        product = self._product(query.get("productType"))
        if isinstance(product, web.Response):
            return product
        symbol = query.get("symbol", "")
        if not symbol:
            return self._error("40019", "Parameter symbol cannot be empty")
        order = self._find(product, symbol, query.get("orderId", ""), query.get("clientOid", ""))
        if order is None:
            return self._error("43001", "The order does not exist")
        return self._ok(self.profile.private.mix_row(order))

    async def mix_history(self, request: web.Request) -> web.Response:
        """``GET /api/v2/mix/order/orders-history``: filled and cancelled, newest first."""
        product = self._product(request.query.get("productType"))
        if isinstance(product, web.Response):
            return product
        symbol = request.query.get("symbol", "").upper()
        rows = [
            self.profile.private.mix_row(o)
            for o in reversed(self.profile.venue.account.orders.values())
            if not o.is_open
            and split(o.symbol)[0] == product
            and (not symbol or split(o.symbol)[1] == symbol)
        ]
        return self._ok(
            {"entrustedList": rows or None, "endId": rows[-1]["orderId"] if rows else None}
        )

    async def position_mode(self, request: web.Request) -> web.Response:
        """``POST /api/v2/mix/account/set-position-mode``."""
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        product = self._product(body.get("productType"))
        if isinstance(product, web.Response):
            return product
        mode = body.get("posMode")
        if mode not in ("one_way_mode", "hedge_mode"):
            return self._error("40020", "Parameter posMode error")
        venue = self.profile.venue
        busy = any(split(o.symbol)[0] != "SPOT" for o in venue.account.open_orders()) or any(
            Decimal(p.amount) for p in venue.account.positions.values()
        )
        if busy and (mode == "hedge_mode") != venue.matching.hedge_mode:
            return self._error(
                "40920", "The position mode cannot be changed with open positions or orders"
            )
        venue.matching.hedge_mode = mode == "hedge_mode"
        return self._ok({"posMode": mode})
