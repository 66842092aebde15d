"""Order entry of the fake Binance Spot and USDⓈ-M venues, over the shared
:class:`~datastores.testing.orders.MatchingEngine`.

Spot (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/trading-endpoints):
``POST /api/v3/order`` (``symbol``, ``side``, ``type`` ``LIMIT``/``MARKET``/``LIMIT_MAKER``,
``timeInForce`` ``GTC``/``IOC``/``FOK`` for ``LIMIT``, ``quantity`` or, for ``MARKET``,
``quoteOrderQty``, ``price``, ``newClientOrderId``, ``newOrderRespType``
``ACK``/``RESULT``/``FULL``); ``DELETE``/``GET /api/v3/order`` (``orderId`` or
``origClientOrderId``), ``GET /api/v3/allOrders``. A ``LIMIT_MAKER`` that would take is
refused (``-2010``). What an IOC, FOK or market order leaves is cancelled (Binance says
``EXPIRED``; the fake's orders know only ``CANCELED``).

USDⓈ-M (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api):
``POST /fapi/v1/order`` (also ``positionSide`` ``BOTH``/``LONG``/``SHORT``, ``reduceOnly``,
``timeInForce`` ``GTX`` = post-only, refused with ``-5022`` when it would take),
``DELETE``/``GET /fapi/v1/order``, ``GET /fapi/v1/allOrders``, ``GET``/``POST
/fapi/v1/positionSide/dual`` (hedge mode; ``reduceOnly`` is refused there, ``-1106``).

Errors are ``{"code": -2011, "msg": "Unknown order sent."}`` with HTTP 400
(https://developers.binance.com/docs/binance-spot-api-docs/errors).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from ...account import FakeOrder
from ...orders import OrderRejected, OrderRequest
from ._base import _error, _ok

if TYPE_CHECKING:
    from ._base import _BinanceProfile

__all__ = ["BinanceTrade"]

#: a handler given the request's merged query and form parameters
Handler = Callable[[Mapping[str, str]], Awaitable[web.Response]]

_SPOT_ERRORS = {
    "unknown_symbol": (-1121, "Invalid symbol."),
    "bad_side": (-1117, "Invalid side."),
    "bad_size": (-1013, "Filter failure: LOT_SIZE"),
    "bad_price": (-1013, "Filter failure: PRICE_FILTER"),
    "insufficient_balance": (-2010, "Account has insufficient balance for requested action."),
    "reduce_only": (-1106, "Parameter 'reduceOnly' sent when not required."),
    "position_side": (-1106, "Parameter 'positionSide' sent when not required."),
    "unknown_order": (-2011, "Unknown order sent."),
}
_FUTURES_ERRORS = {
    **_SPOT_ERRORS,
    "bad_size": (-1111, "Precision is over the maximum defined for this asset."),
    "bad_price": (-4014, "Price not increased by tick size."),
    "insufficient_balance": (-2019, "Margin is insufficient."),
    "reduce_only": (-2022, "ReduceOnly Order is rejected."),
    "position_side": (-4061, "Order's position side does not match user's setting."),
}


def _missing(name: str) -> web.Response:
    return _error(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


class BinanceTrade:
    """The order-entry endpoints of one Binance venue (Spot or USDⓈ-M)."""

    def __init__(self, profile: _BinanceProfile) -> None:
        self.profile = profile
        self.futures = profile.futures
        self.errors = _FUTURES_ERRORS if self.futures else _SPOT_ERRORS

    def routes(self) -> list[web.RouteDef]:
        """The signed order routes under the venue's ``rest_prefix``."""
        prefix = self.profile.rest_prefix
        routes = [
            web.post(f"{prefix}/order", self._signed(self.place)),
            web.delete(f"{prefix}/order", self._signed(self.cancel)),
            web.get(f"{prefix}/order", self._signed(self.query)),
            web.get(f"{prefix}/allOrders", self._signed(self.all_orders)),
        ]
        if self.futures:
            routes += [
                web.get(f"{prefix}/positionSide/dual", self._signed(self.get_dual)),
                web.post(f"{prefix}/positionSide/dual", self._signed(self.set_dual)),
            ]
        return routes

    def _signed(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def guarded(request: web.Request) -> web.Response:
            refused = await self.profile.check_signed(request)
            if refused is not None:
                return refused
            raw_query = request.raw_path.partition("?")[2]
            body = (await request.read()).decode("utf-8", "replace")
            return await handler(dict(parse_qsl(raw_query)) | dict(parse_qsl(body)))

        return guarded

    def _refusal(self, exc: OrderRejected) -> web.Response:
        code, msg = self.errors[exc.reason]
        return _error(400, code, msg)

    def _order(self, order: FakeOrder) -> dict[str, Any]:
        return self.profile._rest_order(order)

    # ----------------------------------------------------------------- orders

    async def place(self, params: Mapping[str, str]) -> web.Response:
        """``POST <prefix>/order``."""
        for name in ("symbol", "side", "type"):
            if not params.get(name):
                return _missing(name)
        venue = self.profile.venue
        symbol, kind = params["symbol"].upper(), params["type"]
        if symbol not in venue.markets:
            return _error(400, -1121, "Invalid symbol.")
        if params["side"] not in ("BUY", "SELL"):
            return _error(400, -1117, "Invalid side.")
        kinds = ("LIMIT", "MARKET") if self.futures else ("LIMIT", "MARKET", "LIMIT_MAKER")
        if kind not in kinds:
            return _error(400, -1116, "Invalid orderType.")
        tif = params.get("timeInForce", "GTC" if kind == "LIMIT_MAKER" else "")
        if kind == "LIMIT":
            if not tif:
                return _missing("timeInForce")
            if tif not in (("GTC", "IOC", "FOK", "GTX") if self.futures else ("GTC", "IOC", "FOK")):
                return _error(400, -1115, "Invalid timeInForce.")
        quantity = params.get("quantity")
        quote = params.get("quoteOrderQty") if not self.futures and kind == "MARKET" else None
        if not quantity and not quote:
            return _missing("quantity")
        if kind != "MARKET" and not params.get("price"):
            return _missing("price")
        matching = venue.matching
        position_side = params.get("positionSide", "BOTH") if self.futures else "BOTH"
        reduce_only = params.get("reduceOnly", "false").lower() == "true"
        if self.futures and reduce_only and matching.hedge_mode:
            return _error(400, -1106, "Parameter 'reduceOnly' sent when not required.")
        post_only = kind == "LIMIT_MAKER" or tif == "GTX"
        request = OrderRequest(
            symbol=symbol,
            side=params["side"],
            quantity=quantity or None,
            price=params.get("price") if kind != "MARKET" else None,
            order_type="MARKET" if kind == "MARKET" else "LIMIT",
            time_in_force="POST_ONLY" if post_only else tif or "GTC",
            client_order_id=params.get("newClientOrderId"),
            reduce_only=reduce_only,
            position_side=position_side,
            quote_quantity=None if quantity else quote,
        )
        try:
            price = Decimal(params["price"]) if post_only else None
            if price is not None and matching.crosses(symbol, params["side"], price):
                if self.futures:
                    return _error(
                        400,
                        -5022,
                        "Due to the order could not be executed as maker, the Post Only order "
                        "will be rejected. The order will not be recorded in the order history",
                    )
                return _error(400, -2010, "Order would immediately match and take.")
            order = matching.submit(request)
        except OrderRejected as exc:
            return self._refusal(exc)
        except ArithmeticError:
            return _error(400, -1100, "Illegal characters found in parameter 'price'.")
        answer = self._order(order)
        answer["transactTime" if not self.futures else "updateTime"] = order.created
        if not self.futures and params.get("newOrderRespType", "FULL") == "FULL":
            answer["fills"] = [
                {
                    "price": e.last_price,
                    "qty": e.last_quantity,
                    "commission": "0",
                    "commissionAsset": "USDT",
                    "tradeId": e.trade_id,
                }
                for e in matching.last_trades
            ]
        return _ok(answer)

    def _find(self, params: Mapping[str, str]) -> FakeOrder | web.Response | None:
        """The order named by ``orderId``/``origClientOrderId`` of ``symbol``, an error
        about the parameters, or ``None`` (no such order)."""
        symbol = params.get("symbol", "").upper()
        if not symbol:
            return _missing("symbol")
        if symbol not in self.profile.venue.markets:
            return _error(400, -1121, "Invalid symbol.")
        orders = self.profile.venue.account.orders
        order_id, client_id = params.get("orderId"), params.get("origClientOrderId")
        if order_id:
            found = orders.get(int(order_id)) if order_id.isdigit() else None
        elif client_id:
            found = next(
                (o for o in reversed(orders.values()) if o.client_order_id == client_id), None
            )
        else:
            return _missing("orderId")
        return found if found is not None and found.symbol == symbol else None

    async def cancel(self, params: Mapping[str, str]) -> web.Response:
        """``DELETE <prefix>/order``."""
        found = self._find(params)
        if isinstance(found, web.Response):
            return found
        if found is None:
            return _error(400, -2011, "Unknown order sent.")
        try:
            cancelled = self.profile.venue.matching.cancel(found.order_id)
        except OrderRejected as exc:
            return self._refusal(exc)
        return _ok(self._order(cancelled))

    async def query(self, params: Mapping[str, str]) -> web.Response:
        """``GET <prefix>/order``."""
        found = self._find(params)
        if isinstance(found, web.Response):
            return found
        if found is None:
            return _error(400, -2013, "Order does not exist.")
        return _ok(self._order(found))

    async def all_orders(self, params: Mapping[str, str]) -> web.Response:
        """``GET <prefix>/allOrders`` (``symbol`` required): the symbol's orders, oldest first."""
        symbol = params.get("symbol", "").upper()
        if not symbol:
            return _missing("symbol")
        venue = self.profile.venue
        if symbol not in venue.markets:
            return _error(400, -1121, "Invalid symbol.")
        limit = params.get("limit", "500")
        if not limit.isdigit() or not 1 <= int(limit) <= 1000:
            return _error(400, -1130, "Invalid data sent for a parameter.")
        orders = [o for o in venue.account.orders.values() if o.symbol == symbol]
        return _ok([self._order(o) for o in orders[-int(limit) :]])

    # ---------------------------------------------------------- position mode

    async def get_dual(self, params: Mapping[str, str]) -> web.Response:
        """``GET /fapi/v1/positionSide/dual``."""
        return _ok({"dualSidePosition": self.profile.venue.matching.hedge_mode})

    async def set_dual(self, params: Mapping[str, str]) -> web.Response:
        """``POST /fapi/v1/positionSide/dual`` (``dualSidePosition`` ``true``/``false``)."""
        value = params.get("dualSidePosition", "").lower()
        if value not in ("true", "false"):
            return _missing("dualSidePosition")
        venue = self.profile.venue
        hedge = value == "true"
        if hedge == venue.matching.hedge_mode:
            return _error(400, -4059, "No need to change position side.")
        if venue.account.open_orders():
            return _error(
                400, -4067, "Position side cannot be changed if there exists open orders."
            )
        if any(Decimal(p.amount) for p in venue.account.positions.values()):
            return _error(400, -4068, "Position side cannot be changed if there exists position.")
        venue.matching.hedge_mode = hedge
        return _ok({"code": 200, "msg": "success"})
