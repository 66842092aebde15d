"""The fake GMO Coin's REST side: signed private endpoints, tokens, orders, maintenance.

From https://api.coin.z.com/docs/en/ : answers are ``{"status": 0, "data": ...,
"responsetime": ...}``, errors ``{"status": <n>, "messages": [{"message_code",
"message_string"}]}`` with HTTP 200. Assumptions of this fake (not documented by
GMO Coin): an unknown or expired token is refused with ``ERR-5106``; during a
maintenance every REST answer is ``ERR-5201``.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .... import _json
from ..._verify import FakeKey, ReceivedRequest, Rejected
from .verifier import gmocoin_error, verify_gmocoin

if TYPE_CHECKING:
    from ...account import FakeOrder
    from .profile import GMOCoinProfile

__all__ = ["TOKEN_TTL", "GMOCoinRest"]

#: an access token lives 60 minutes from its creation or last extension
TOKEN_TTL = 3600.0
#: at most 5 tokens per key: creating a sixth deletes the one closest to expiry
MAX_TOKENS = 5


def iso(ms: int) -> str:
    """Milliseconds since the epoch -> ``"2024-01-01T00:00:00.000Z"``."""
    from datetime import datetime, timezone

    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class GMOCoinRest:
    """The REST routes of one fake GMO Coin venue (owned by its profile)."""

    def __init__(self, profile: GMOCoinProfile) -> None:
        self.profile = profile
        self.venue = profile.venue
        #: token -> expiry (venue clock, monotonic seconds)
        self.tokens: dict[str, float] = {}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/public/v1/status", self._status),
            web.get("/public/v1/orderbooks", self._orderbooks),
            web.post("/private/v1/ws-auth", self._signed(self._token_create)),
            web.put("/private/v1/ws-auth", self._signed(self._token_extend)),
            web.delete("/private/v1/ws-auth", self._signed(self._token_delete)),
            web.get("/private/v1/activeOrders", self._signed(self._active_orders)),
            web.get("/private/v1/openPositions", self._signed(self._open_positions)),
            web.get("/private/v1/positionSummary", self._signed(self._position_summary)),
            web.get("/private/v1/latestExecutions", self._signed(self._latest_executions)),
            web.post("/private/v1/order", self._signed(self._order)),
            web.post("/private/v1/cancelOrder", self._signed(self._cancel_order)),
        ]

    # ------------------------------------------------------------- answers

    def ok(self, data: Any = None) -> web.Response:
        body: dict[str, Any] = {"status": 0, "responsetime": iso(self.venue.now_ms())}
        if data is not None:
            body["data"] = data
        return web.json_response(body, dumps=_json.dumps)

    def error(self, code: str, message: str, status: int = 1) -> web.Response:
        body = {
            "status": status,
            "messages": [{"message_code": code, "message_string": message}],
            "responsetime": iso(self.venue.now_ms()),
        }
        return web.json_response(body, dumps=_json.dumps)

    def maintenance(self) -> web.Response:
        return self.error("ERR-5201", "MAINTENANCE. Please wait for a while", status=5)

    def _signed(self, handler: Any) -> Any:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if self.profile.in_maintenance:
                return self.maintenance()
            body = await request.read()
            received = await ReceivedRequest.of(request, "api.coin.z.com")
            keys = {self.venue.api_key: FakeKey(self.venue.api_key, self.venue.api_secret)}
            try:
                verify_gmocoin(received, keys, self.venue.clock.time())
            except Rejected as rejected:
                status, answer = gmocoin_error(rejected)
                return web.json_response(answer, status=status, dumps=_json.dumps)
            try:
                payload = _json.loads(body) if body else {}
            except ValueError:
                return self.error("ERR-5106", "Invalid request parameter.")
            response: web.StreamResponse = await handler(request, payload)
            return response

        return guarded

    # -------------------------------------------------------------- public

    async def _status(self, request: web.Request) -> web.Response:
        return self.ok({"status": "MAINTENANCE" if self.profile.in_maintenance else "OPEN"})

    async def _orderbooks(self, request: web.Request) -> web.Response:
        if self.profile.in_maintenance:
            return self.maintenance()
        symbol = request.query.get("symbol", "")
        if symbol not in self.venue.markets:
            return self.error("ERR-5106", "Invalid request parameter. symbol")
        frame = self.profile.book_frame(symbol, depth=500)
        frame.pop("channel")
        return self.ok(frame)

    # -------------------------------------------------------------- tokens

    def token_valid(self, token: str) -> bool:
        expiry = self.tokens.get(token)
        return expiry is not None and expiry > self.venue.clock.monotonic()

    async def _token_create(self, request: web.Request, payload: Any) -> web.Response:
        now = self.venue.clock.monotonic()
        self.tokens = {t: e for t, e in self.tokens.items() if e > now}
        if len(self.tokens) >= MAX_TOKENS:
            del self.tokens[min(self.tokens, key=self.tokens.__getitem__)]
        token = secrets.token_urlsafe(48)
        self.tokens[token] = now + TOKEN_TTL
        return self.ok(token)

    async def _token_extend(self, request: web.Request, payload: Any) -> web.Response:
        token = payload.get("token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not self.token_valid(token):
            return self.error("ERR-5106", "Invalid request parameter. token")
        self.tokens[token] = self.venue.clock.monotonic() + TOKEN_TTL
        return self.ok()

    async def _token_delete(self, request: web.Request, payload: Any) -> web.Response:
        token = payload.get("token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or self.tokens.pop(token, None) is None:
            return self.error("ERR-5106", "Invalid request parameter. token")
        return self.ok()

    # ------------------------------------------------------------- account

    def rest_order(self, order: FakeOrder) -> dict[str, Any]:
        return {
            "rootOrderId": order.order_id,
            "orderId": order.order_id,
            "symbol": order.symbol,
            "side": order.side,
            "orderType": "NORMAL",
            "executionType": order.order_type,
            "settleType": "OPEN",
            "size": order.quantity,
            "executedSize": order.executed,
            "price": order.price,
            "losscutPrice": "0",
            "status": "ORDERED",
            "timeInForce": "FAS",
            "timestamp": iso(order.created),
        }

    async def _active_orders(self, request: web.Request, payload: Any) -> web.Response:
        symbol = request.query.get("symbol")
        if not symbol:
            return self.error("ERR-5106", "Invalid request parameter. symbol")
        orders = self.venue.account.open_orders(symbol)
        return self.ok({"list": [self.rest_order(o) for o in orders]})

    async def _open_positions(self, request: web.Request, payload: Any) -> web.Response:
        symbol = request.query.get("symbol")
        if not symbol:
            return self.error("ERR-5106", "Invalid request parameter. symbol")
        items = [
            self.profile.position_item(p)
            for p in self.profile.open_positions()
            if p.symbol == symbol
        ]
        return self.ok({"list": items})

    async def _position_summary(self, request: web.Request, payload: Any) -> web.Response:
        symbol = request.query.get("symbol")
        items = [
            self.profile.summary_item(p)
            for p in self.profile.open_positions()
            if symbol is None or p.symbol == symbol
        ]
        return self.ok({"list": items})

    async def _latest_executions(self, request: web.Request, payload: Any) -> web.Response:
        symbol = request.query.get("symbol")
        items = [e for e in self.profile.executions if symbol is None or e["symbol"] == symbol]
        return self.ok({"list": items[-100:]})

    async def _order(self, request: web.Request, payload: Any) -> web.Response:
        try:
            symbol, side = payload["symbol"], payload["side"]
            size, kind = payload["size"], payload.get("executionType", "LIMIT")
            price = payload.get("price", "0")
            Decimal(size)
        except (KeyError, TypeError, ArithmeticError, ValueError):
            return self.error("ERR-5106", "Invalid request parameter.")
        if symbol not in self.venue.markets or side not in ("BUY", "SELL"):
            return self.error("ERR-5106", "Invalid request parameter. symbol")
        event = self.venue.account.place(self.venue.now_ms(), symbol, side, size, price, kind, None)
        self.venue.emit_account(event)
        assert event.order is not None
        return self.ok(str(event.order.order_id))

    async def _cancel_order(self, request: web.Request, payload: Any) -> web.Response:
        order_id = payload.get("orderId") if isinstance(payload, dict) else None
        try:
            event = self.venue.account.cancel(self.venue.now_ms(), int(order_id))  # type: ignore[arg-type]
        except (KeyError, ValueError, TypeError):
            return self.error(
                "ERR-5122", "The request is invalid due to the status of the specified order."
            )
        self.venue.emit_account(event)
        return self.ok()
