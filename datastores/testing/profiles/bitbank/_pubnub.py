"""bitbank's fake private side: the signed REST API (assets, active orders, margin
positions, order entry, the private-stream channel and token) and the PubNub
subscribe endpoint the private stream comes through.

* ``GET /v1/user/subscribe`` (signed): ``{"success": 1, "data": {"pubnub_channel",
  "pubnub_token"}}``; every call gives a new token living :attr:`PrivateApi.token_ttl`
  seconds of the venue clock (bitbank does not document the lifetime).
* ``GET /v2/subscribe/<subscribe key>/<channel>/0?uuid=&tt=&tr=&auth=<token>``
  (PubNub subscribe v2): ``tt`` ``0`` or absent answers at once with the current
  timetoken and no messages; otherwise the messages published after ``tt``, waiting
  up to :attr:`PrivateApi.poll_timeout` seconds for one. An expired token is answered
  HTTP 403 ``{"message": "Token is expired.", "error": true, "status": 403}``.
* Messages ``{"a", "f", "p": {"t", "r"}, "k", "c", "d": {"method", "params"}}`` with
  ``d`` the private-stream payload (private-stream.md): ``spot_order_new``,
  ``spot_order``, ``spot_trade``, ``asset_update``, ``margin_position_update``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from decimal import Decimal
from typing import Any

from aiohttp import web

from .... import _json
from ..._verify import FakeKey, ReceivedRequest, Rejected
from .verifier import bitbank_error, verify_bitbank

__all__ = ["SUBSCRIBE_KEY", "PrivateApi"]

#: bitbank's public PubNub subscribe key (private-stream.md)
SUBSCRIBE_KEY = "sub-c-ecebae8e-dd60-11e6-b6b1-02ee2ddab7fe"
_REGION = 4
_STATUS = {"NEW": "UNFILLED", "PARTIALLY_FILLED": "PARTIALLY_FILLED", "FILLED": "FULLY_FILLED"}


def _ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_json.dumps)


def _str(value: Decimal) -> str:
    return format(value.normalize(), "f")


class PrivateApi:
    """The private REST routes and the PubNub endpoint of one bitbank venue."""

    def __init__(self, profile: Any) -> None:
        self.profile = profile
        self.venue = profile.venue
        #: seconds a token lives (venue clock)
        self.token_ttl = 3600.0
        #: seconds a long-poll waits for a message
        self.poll_timeout = 5.0
        #: the account's PubNub channel
        self.channel = "private-fake-channel-0001"
        #: token -> expiry (venue clock seconds)
        self.tokens: dict[str, float] = {}
        #: long-polls answered, by token (tests look at which token was used)
        self.polls: list[str] = []
        self._token_ids = itertools.count(1)
        self._messages: deque[tuple[int, Any]] = deque(maxlen=1000)
        self._timetoken = self.venue.now_ms() * 10000
        self._published: asyncio.Event | None = None

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/user/subscribe", self._subscribe_token),
            web.get("/v1/user/assets", self._assets),
            web.get("/v1/user/spot/active_orders", self._active_orders),
            web.get("/v1/user/margin/positions", self._positions),
            web.post("/v1/user/spot/order", self._order),
            web.post("/v1/user/spot/cancel_order", self._cancel),
            web.get("/v2/subscribe/{key}/{channel}/{callback}", self._poll),
        ]

    # --------------------------------------------------------------- tokens

    def expire_tokens(self) -> list[str]:
        """Expire every token now; returns them."""
        expired = list(self.tokens)
        now = self.venue.clock.time()
        for token in expired:
            self.tokens[token] = min(self.tokens[token], now)
        return expired

    # ------------------------------------------------------------ messages

    def _next_timetoken(self) -> int:
        timetoken: int = max(self._timetoken + 1, self.venue.now_ms() * 10000)
        self._timetoken = timetoken
        return timetoken

    def publish(self, payload: dict[str, Any]) -> None:
        """Publish one private-stream payload (``{"method", "params"}``)."""
        self._messages.append((self._next_timetoken(), payload))
        if self._published is not None:
            self._published.set()
            self._published = None  # the waiting polls wake; later ones wait on a new one

    def _order_row(self, order: Any) -> dict[str, Any]:
        remaining = Decimal(order.quantity) - Decimal(order.executed)
        status = _STATUS.get(order.status)
        if order.status == "CANCELED":
            status = "CANCELED_PARTIALLY_FILLED" if Decimal(order.executed) else "CANCELED_UNFILLED"
        executed = Decimal(order.executed)
        average = Decimal(order.cum_quote) / executed if executed else Decimal(0)
        return {
            "order_id": order.order_id, "pair": order.symbol, "side": order.side.lower(),
            "position_side": None, "type": order.order_type.lower(),
            "start_amount": order.quantity, "remaining_amount": _str(remaining),
            "executed_amount": order.executed, "price": order.price, "post_only": False,
            "user_cancelable": True, "average_price": _str(average),
            "ordered_at": order.created, "expire_at": None, "trigger_price": None,
            "status": status,
        }  # fmt: skip

    def on_account_event(self, event: Any) -> None:
        """Publish a scripted account event as the private stream does."""
        if event.kind == "order" and event.order is not None:
            order = event.order
            method = "spot_order_new" if event.execution == "NEW" else "spot_order"
            self.publish({"method": method, "params": [self._order_row(order)]})
            if event.execution == "TRADE":
                trade = {
                    "trade_id": event.trade_id, "order_id": order.order_id, "pair": order.symbol,
                    "side": order.side.lower(), "position_side": None,
                    "type": order.order_type.lower(), "amount": event.last_quantity,
                    "price": event.last_price, "maker_taker": "maker", "fee_amount_base": "0",
                    "fee_amount_quote": "0", "fee_occurred_amount_quote": "0",
                    "profit_loss": None, "interest": None, "executed_at": event.time,
                }  # fmt: skip
                self.publish({"method": "spot_trade", "params": [trade]})
        elif event.kind == "balance":
            self.publish(
                {"method": "asset_update", "params": [self._asset(b) for b in event.balances]}
            )
        elif event.kind == "position":
            rows = [self._position(p) for p in event.positions]
            self.publish({"method": "margin_position_update", "params": rows})

    @staticmethod
    def _asset(balance: Any) -> dict[str, Any]:
        total = Decimal(balance.free) + Decimal(balance.locked)
        return {
            "asset": balance.asset, "amount_precision": 4, "onhand_amount": _str(total),
            "locked_amount": balance.locked, "free_amount": balance.free,
            "withdrawing_amount": "0",
        }  # fmt: skip

    @staticmethod
    def _position(position: Any) -> dict[str, Any]:
        amount = Decimal(position.amount)
        return {
            "pair": position.symbol, "position_side": "long" if amount >= 0 else "short",
            "open": _str(abs(amount)), "locked": "0", "product": "0",
            "average_price": position.entry_price, "unrealized_fee": "0",
            "unrealized_interest": "0",
        }  # fmt: skip

    # ----------------------------------------------------------------- REST

    async def _checked(self, request: web.Request) -> tuple[web.Response | None, bytes]:
        body = await request.read()
        received = await ReceivedRequest.of(request, "api.bitbank.cc")
        venue = self.venue
        try:
            verify_bitbank(
                received, {venue.api_key: FakeKey(venue.api_key, venue.api_secret)},
                venue.clock.time(),
            )  # fmt: skip
        except Rejected as rejected:
            status, error = bitbank_error(rejected)
            return _ok(error, status), body
        return None, body

    async def _subscribe_token(self, request: web.Request) -> web.Response:
        refused, _ = await self._checked(request)
        if refused is not None:
            return refused
        token = f"fake-pubnub-token-{next(self._token_ids):04d}"
        self.tokens[token] = self.venue.clock.time() + self.token_ttl
        return _ok({"success": 1, "data": {"pubnub_channel": self.channel, "pubnub_token": token}})

    async def _assets(self, request: web.Request) -> web.Response:
        refused, _ = await self._checked(request)
        if refused is not None:
            return refused
        assets = [self._asset(b) for b in self.venue.account.balances.values()]
        return _ok({"success": 1, "data": {"assets": assets}})

    async def _active_orders(self, request: web.Request) -> web.Response:
        refused, _ = await self._checked(request)
        if refused is not None:
            return refused
        pair = request.query.get("pair")
        orders = [self._order_row(o) for o in self.venue.account.open_orders(pair)]
        return _ok({"success": 1, "data": {"orders": orders}})

    async def _positions(self, request: web.Request) -> web.Response:
        refused, _ = await self._checked(request)
        if refused is not None:
            return refused
        positions = [self._position(p) for p in self.venue.account.positions.values()]
        data = {"notice": {}, "payables": {"amount": "0"}, "positions": positions}
        return _ok({"success": 1, "data": data})

    async def _order(self, request: web.Request) -> web.Response:
        refused, body = await self._checked(request)
        if refused is not None:
            return refused
        try:
            order = _json.loads(body)
            pair, side = order["pair"], str(order["side"]).upper()
            amount, price = str(order["amount"]), str(order["price"])
            kind = str(order.get("type", "limit")).upper()
        except (ValueError, TypeError, KeyError):
            return _ok({"success": 0, "data": {"code": 70001}})
        if pair not in self.venue.markets or side not in ("BUY", "SELL"):
            return _ok({"success": 0, "data": {"code": 30009}})
        venue = self.venue
        event = venue.account.place(venue.now_ms(), pair, side, amount, price, kind, None)
        venue.emit_account(event)
        return _ok({"success": 1, "data": self._order_row(event.order)})

    async def _cancel(self, request: web.Request) -> web.Response:
        refused, body = await self._checked(request)
        if refused is not None:
            return refused
        venue = self.venue
        try:
            order_id = int(_json.loads(body)["order_id"])
            event = venue.account.cancel(venue.now_ms(), order_id)
        except (ValueError, TypeError, KeyError):
            return _ok({"success": 0, "data": {"code": 50009}})
        venue.emit_account(event)
        return _ok({"success": 1, "data": self._order_row(event.order)})

    # --------------------------------------------------------------- PubNub

    async def _poll(self, request: web.Request) -> web.Response:
        key, channel = request.match_info["key"], request.match_info["channel"]
        token = request.query.get("auth", "")
        if key != SUBSCRIBE_KEY or channel != self.channel:
            return _ok({"message": "Forbidden", "error": True, "status": 403}, 403)
        expiry = self.tokens.get(token)
        if expiry is None:
            return _ok({"message": "Forbidden", "error": True, "status": 403}, 403)
        if self.venue.clock.time() >= expiry:
            error = {"message": "Token is expired.", "error": True, "service": "Access Manager"}
            return _ok({**error, "status": 403}, 403)
        self.polls.append(token)
        try:
            since = int(request.query.get("tt", "0"))
        except ValueError:
            return _ok({"message": "Invalid timetoken", "error": True, "status": 400}, 400)
        if since == 0:
            return self._answer(self._timetoken, [])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.poll_timeout
        messages = [(t, d) for t, d in self._messages if t > since]
        while not messages:
            # Hold the poll until a message, the timeout, or the client leaves (aiohttp
            # does not cancel a handler whose client went away: the fake must notice).
            transport = request.transport
            left = deadline - loop.time()
            if transport is None or transport.is_closing() or left <= 0:
                return self._answer(since, [])
            published = self._published = self._published or asyncio.Event()
            try:
                await asyncio.wait_for(published.wait(), min(0.05, left))
            except asyncio.TimeoutError:
                pass
            messages = [(t, d) for t, d in self._messages if t > since]
        return self._answer(messages[-1][0], messages)

    def _answer(self, timetoken: int, messages: list[tuple[int, Any]]) -> web.Response:
        rows = [
            {"a": "4", "f": 0, "p": {"t": str(t), "r": _REGION}, "k": SUBSCRIBE_KEY,
             "c": self.channel, "d": data}
            for t, data in messages
        ]  # fmt: skip
        return _ok({"t": {"t": str(timetoken), "r": _REGION}, "m": rows})
