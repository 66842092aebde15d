"""Order entry of the fake OKX venues: the signed ``/api/v5/trade`` and position-mode
endpoints, over the shared :class:`~datastores.testing.orders.MatchingEngine`.

* ``POST /api/v5/trade/order`` (``instId``, ``tdMode``, ``side``, ``ordType`` of
  ``market``/``limit``/``post_only``/``fok``/``ioc``, ``sz``, ``px``, ``posSide``,
  ``reduceOnly``, ``tgtCcy``, ``clOrdId``): ``{"code": "0", "data": [{"ordId",
  "clOrdId", "sCode": "0", "sMsg": "Order placed"}]}``; a refused order is HTTP 200
  ``{"code": "1", "msg": "All operations failed", "data": [{"sCode", "sMsg"}]}``.
  Spot market buys are sized in the quote currency unless ``tgtCcy=base_ccy``
  (sells in the base unless ``tgtCcy=quote_ccy``); swap sizes are contracts.
  https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order
* ``POST /api/v5/trade/cancel-order`` (``instId`` and ``ordId`` or ``clOrdId``),
  ``GET /api/v5/trade/order`` (``51603`` when unknown), ``GET
  /api/v5/trade/orders-history`` (``instType`` required; completed orders, newest
  first). #order-book-trading-trade-post-cancel-order and the following sections
* ``GET /api/v5/account/config`` (``posMode``) and ``POST
  /api/v5/account/set-position-mode`` (``net_mode`` / ``long_short_mode``; refused
  with ``59000`` while orders or positions are open). In long/short mode a swap
  order needs ``posSide`` ``long``/``short``; ``sell``+``long`` and ``buy``+``short``
  close. #trading-account-rest-api-set-position-mode
* error codes: #error-code-rest-api-trade (``51001`` unknown instrument, ``51000``
  parameter error, ``51121`` size not a lot multiple, ``51008`` insufficient
  balance, ``51169`` nothing to reduce, ``51400`` cancel failed, ``51603`` no order).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .... import _json
from ...account import FakeOrder
from ...orders import OrderRejected, OrderRequest
from ._account import inst_type, okx_order
from ._private import UID

if TYPE_CHECKING:
    from ...fake import Venue
    from ._rest import OKXRest

__all__ = ["OKXTrade"]

_ORD_TYPES = {
    "limit": ("LIMIT", "GTC"),
    "market": ("MARKET", "IOC"),
    "post_only": ("LIMIT", "POST_ONLY"),
    "fok": ("LIMIT", "FOK"),
    "ioc": ("LIMIT", "IOC"),
}
_POS_SIDES = {"": "BOTH", "net": "BOTH", "long": "LONG", "short": "SHORT"}


def _reply(code: str, msg: str, data: list[Any], status: int = 200) -> web.Response:
    return web.json_response({"code": code, "msg": msg, "data": data}, status=status)


def _param_error(name: str, empty: bool = False) -> web.Response:
    if empty:
        return _reply("50014", f"Parameter {name} cannot be empty", [], 400)
    return _reply("51000", f"Parameter {name} error", [], 400)


def _rejection(exc: OrderRejected) -> tuple[str, str]:
    """OKX ``(sCode, sMsg)`` of a refused order."""
    reason = exc.reason
    if reason == "unknown_symbol":
        return "51001", "Instrument ID does not exist."
    if reason == "bad_size":
        return "51121", "Order quantity must be a multiple of the lot size."
    if reason == "bad_price":
        return "51000", "Parameter px error"
    if reason == "bad_side":
        return "51000", "Parameter side error"
    if reason == "position_side":
        return "51000", "Parameter posSide error"
    if reason == "insufficient_balance":
        return "51008", f"Order failed. Insufficient {exc.asset} balance in account."
    if reason == "reduce_only":
        return (
            "51169",
            "Order failed because you don't have any positions in this direction for this "
            "contract to reduce or close.",
        )
    return (
        "51400",
        "Order cancellation failed as the order has been filled, canceled or does not exist.",
    )


class OKXTrade:
    """The order-entry endpoints of one OKX venue (its REST object signs them)."""

    def __init__(self, rest: OKXRest) -> None:
        self.rest = rest

    def routes(self) -> list[web.RouteDef]:
        """The signed ``/api/v5/trade`` and position-mode routes."""
        signed = self.rest.signed
        return [
            web.post("/api/v5/trade/order", signed(self.place)),
            web.post("/api/v5/trade/cancel-order", signed(self.cancel)),
            web.get("/api/v5/trade/order", signed(self.details)),
            web.get("/api/v5/trade/orders-history", signed(self.history)),
            web.get("/api/v5/account/config", signed(self.config)),
            web.post("/api/v5/account/set-position-mode", signed(self.set_position_mode)),
        ]

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any] | None:
        try:
            body = _json.loads(await request.read())
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    @staticmethod
    def _outcome(
        venue: Venue, code: str, msg: str, s_code: str, s_msg: str, ord_id: str, cl_ord_id: str
    ) -> web.Response:
        now = str(venue.now_ms())
        item = {
            "clOrdId": cl_ord_id,
            "ordId": ord_id,
            "tag": "",
            "ts": now,
            "sCode": s_code,
            "sMsg": s_msg,
        }
        body = {"code": code, "msg": msg, "data": [item], "inTime": now, "outTime": now}
        return web.json_response(body)

    async def place(self, request: web.Request, venue: Venue) -> web.Response:
        """``POST /api/v5/trade/order``."""
        body = await self._body(request)
        if body is None:
            return _reply("50002", "JSON syntax error", [], 400)
        for name in ("instId", "tdMode", "side", "ordType", "sz"):
            if not body.get(name):
                return _param_error(name, empty=True)
        inst, kind = str(body["instId"]), inst_type(str(body["instId"]))
        if body["side"] not in ("buy", "sell"):
            return _param_error("side")
        if body["ordType"] not in _ORD_TYPES:
            return _param_error("ordType")
        order_type, time_in_force = _ORD_TYPES[body["ordType"]]
        if order_type == "LIMIT" and not body.get("px"):
            return _param_error("px", empty=True)
        mode = body["tdMode"]
        if mode not in ("cash", "cross", "isolated") or (kind != "SPOT" and mode == "cash"):
            return _param_error("tdMode")
        pos_side = _POS_SIDES.get(str(body.get("posSide", "")))
        if pos_side is None or (kind == "SPOT" and pos_side != "BOTH"):
            return _param_error("posSide")
        reduce_only = str(body.get("reduceOnly", "false")).lower()
        if reduce_only not in ("true", "false"):
            return _param_error("reduceOnly")
        target = body.get("tgtCcy", "")
        if target not in ("", "base_ccy", "quote_ccy"):
            return _param_error("tgtCcy")
        size: str | None = str(body["sz"])
        quote_size: str | None = None
        if kind == "SPOT" and order_type == "MARKET":
            # OKX sizes a spot market buy in the quote currency by default.
            in_quote = target == "quote_ccy" or (target == "" and body["side"] == "buy")
            if in_quote:
                size, quote_size = None, str(body["sz"])
        order = OrderRequest(
            symbol=inst,
            side=body["side"].upper(),
            quantity=size,
            price=str(body["px"]) if order_type == "LIMIT" else None,
            order_type=order_type,
            time_in_force=time_in_force,
            client_order_id=str(body["clOrdId"]) if body.get("clOrdId") else None,
            reduce_only=reduce_only == "true",
            position_side=pos_side if kind != "SPOT" else "BOTH",
            quote_quantity=quote_size,
        )
        client_id = str(body.get("clOrdId", ""))
        try:
            placed = venue.matching.submit(order)
        except OrderRejected as exc:
            s_code, s_msg = _rejection(exc)
            return self._outcome(venue, "1", "All operations failed", s_code, s_msg, "", client_id)
        return self._outcome(venue, "0", "", "0", "Order placed", str(placed.order_id), client_id)

    @staticmethod
    def _find(venue: Venue, inst: str, ord_id: str, cl_ord_id: str) -> FakeOrder | None:
        orders = venue.account.orders
        if ord_id:
            found = orders.get(int(ord_id)) if ord_id.isdigit() else None
        else:
            found = next(
                (o for o in reversed(orders.values()) if o.client_order_id == cl_ord_id), None
            )
        return found if found is not None and found.symbol == inst else None

    async def cancel(self, request: web.Request, venue: Venue) -> web.Response:
        """``POST /api/v5/trade/cancel-order``."""
        body = await self._body(request)
        if body is None:
            return _reply("50002", "JSON syntax error", [], 400)
        inst = str(body.get("instId", ""))
        if not inst:
            return _param_error("instId", empty=True)
        ord_id, cl_ord_id = str(body.get("ordId", "")), str(body.get("clOrdId", ""))
        if not ord_id and not cl_ord_id:
            return _param_error("ordId", empty=True)
        if inst not in venue.markets:
            s_code, s_msg = "51001", "Instrument ID does not exist."
            return self._outcome(venue, "1", "All operations failed", s_code, s_msg, ord_id, "")
        order = self._find(venue, inst, ord_id, cl_ord_id)
        try:
            if order is None:
                raise OrderRejected("unknown_order", "no such order")
            cancelled = venue.matching.cancel(order.order_id)
        except OrderRejected as exc:
            s_code, s_msg = _rejection(exc)
            return self._outcome(
                venue, "1", "All operations failed", s_code, s_msg, ord_id, cl_ord_id
            )
        return self._outcome(
            venue, "0", "", "0", "", str(cancelled.order_id), cancelled.client_order_id
        )

    async def details(self, request: web.Request, venue: Venue) -> web.Response:
        """``GET /api/v5/trade/order``."""
        query = request.query
        inst = query.get("instId", "")
        if not inst:
            return _param_error("instId", empty=True)
        ord_id, cl_ord_id = query.get("ordId", ""), query.get("clOrdId", "")
        if not ord_id and not cl_ord_id:
            return _param_error("ordId", empty=True)
        if inst not in venue.markets:
            return _reply("51001", "Instrument ID does not exist.", [], 400)
        order = self._find(venue, inst, ord_id, cl_ord_id)
        if order is None:
            return _reply("51603", "Order does not exist", [])
        return _reply("0", "", [okx_order(order)])

    async def history(self, request: web.Request, venue: Venue) -> web.Response:
        """``GET /api/v5/trade/orders-history``: filled and canceled orders, newest first."""
        query = request.query
        kind = query.get("instType")
        if not kind:
            return _param_error("instType", empty=True)
        if kind not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
            return _param_error("instType")
        inst = query.get("instId")
        state = query.get("state")
        if state not in (None, "filled", "canceled"):
            return _param_error("state")
        limit = query.get("limit", "100")
        if not limit.isdigit() or not 1 <= int(limit) <= 100:
            return _param_error("limit")
        rows = [
            okx_order(o)
            for o in reversed(venue.account.orders.values())
            if not o.is_open and inst_type(o.symbol) == kind and (inst is None or o.symbol == inst)
        ]
        rows = [r for r in rows if state is None or r["state"] == state]
        return _reply("0", "", rows[: int(limit)])

    async def config(self, request: web.Request, venue: Venue) -> web.Response:
        """``GET /api/v5/account/config`` (the fields a trading client reads)."""
        mode = "long_short_mode" if venue.matching.hedge_mode else "net_mode"
        return _reply(
            "0",
            "",
            [{"uid": UID, "mainUid": UID, "acctLv": "2", "posMode": mode, "autoLoan": False}],
        )

    async def set_position_mode(self, request: web.Request, venue: Venue) -> web.Response:
        """``POST /api/v5/account/set-position-mode``."""
        body = await self._body(request)
        if body is None:
            return _reply("50002", "JSON syntax error", [], 400)
        mode = body.get("posMode")
        if mode not in ("net_mode", "long_short_mode"):
            return _param_error("posMode", empty=not mode)
        account = venue.account
        busy = account.open_orders() or any(
            Decimal(p.amount) and p.symbol in venue.markets and inst_type(p.symbol) != "SPOT"
            for p in account.positions.values()
        )
        hedge = mode == "long_short_mode"
        if busy and hedge != venue.matching.hedge_mode:
            return _reply(
                "59000",
                "Settings failed. Delete any open orders or positions before modifying settings.",
                [],
            )
        venue.matching.hedge_mode = hedge
        return _reply("0", "", [{"posMode": mode}])
