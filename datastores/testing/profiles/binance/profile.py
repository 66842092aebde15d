"""Binance fake-exchange profiles: Spot, USDⓈ-M futures and COIN-M futures.

Facts from the official docs (see shared reference and the links below):

* market streams: raw ``/ws/<stream>`` and combined ``/stream?streams=a/b``
  (payload wrapped as ``{"stream":..,"data":..}``); ``SUBSCRIBE`` /
  ``UNSUBSCRIBE`` / ``LIST_SUBSCRIPTIONS`` answered ``{"result":..,"id":N}``;
  https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
* diff depth ``depthUpdate`` with ``U``/``u`` (spot) and ``U``/``u``/``pu`` plus
  ``T`` (futures; COIN-M adds ``ps``); no checksum on any Binance book;
* the server sends ping frames (spot every 20 s, futures every 3 min) and drops
  a client that does not pong within 1 min (spot) / 10 min (futures);
* REST errors are ``{"code": -1121, "msg": "Invalid symbol."}``;
* signed REST: HMAC-SHA256 hex of the query string concatenated with the body,
  ``signature`` last, ``X-MBX-APIKEY`` header, ``timestamp`` within ``recvWindow``;
  https://developers.binance.com/docs/binance-spot-api-docs/rest-api/endpoint-security-type
* futures user data: ``POST/PUT/DELETE /fapi/v1/listenKey`` (API-key header
  only), stream on ``/ws/<listenKey>``, ``listenKeyExpired`` when it lapses;
* spot user data (listenKeys retired in 2026): WebSocket API ``/ws-api/v3``,
  ``userDataStream.subscribe.signature`` answered with a ``subscriptionId``,
  events framed ``{"subscriptionId":N,"event":{...}}``;
  https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/user-data-stream-requests
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal

from aiohttp import web

from .... import _json
from ..._profile import ExchangeProfile, Wrapper
from ...account import AccountEvent, FakeOrder
from ...fake import FakeConnection
from ...market import MarketConfig
from ._base import _BinanceProfile, _error, _ok, binance_signature
from ._futures import BinanceCOINMProfile, BinanceUSDSMProfile
from ._trade import BinanceTrade

__all__ = [
    "PROFILES",
    "BinanceCOINMProfile",
    "BinanceSpotProfile",
    "BinanceUSDSMProfile",
    "binance_signature",
]


def _type(order: FakeOrder) -> str:
    # A post-only spot order is its own type on Binance.
    return "LIMIT_MAKER" if order.time_in_force == "POST_ONLY" else order.order_type


def _tif(order: FakeOrder) -> str:
    return "GTC" if order.time_in_force == "POST_ONLY" else order.time_in_force


class BinanceSpotProfile(_BinanceProfile):
    """Binance Spot: api.binance.com, stream.binance.com, ws-api.binance.com."""

    name = "binance-spot"
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {
        "api.binance.com": "http",
        "api-gcp.binance.com": "http",
        "api1.binance.com": "http",
        "api2.binance.com": "http",
        "api3.binance.com": "http",
        "api4.binance.com": "http",
        "data-api.binance.vision": "http",
        "stream.binance.com": "ws",
        "data-stream.binance.vision": "ws",
        "ws-api.binance.com": "ws",
    }
    default_symbols = ("BTCUSDT", "ETHUSDT")
    ping_interval = 20.0
    pong_timeout = 60.0
    rest_prefix = "/api/v3"
    configs: ClassVar[Mapping[str, MarketConfig]] = {
        "BTCUSDT": MarketConfig(
            "BTCUSDT", "0.01", "0.00001", "65000", price_decimals=8, size_decimals=8
        ),
        "ETHUSDT": MarketConfig(
            "ETHUSDT", "0.01", "0.0001", "3200", price_decimals=8, size_decimals=8
        ),
    }

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v3/depth", self._depth),
            web.get("/api/v3/time", self._time),
            web.get("/api/v3/ping", self._ping),
            web.get("/api/v3/account", self._signed(self._account)),
            web.get("/api/v3/openOrders", self._signed(self._open_orders)),
            *BinanceTrade(self).routes(),
            web.get("/ws", self._ws_raw),
            web.get("/ws/{streams:.+}", self._ws_raw),
            web.get("/stream", self._ws_combined),
            web.get("/ws-api/v3", self._ws_api),
        ]

    async def _account(self, request: web.Request) -> web.Response:
        account = self.venue.account
        return _ok(
            {
                "makerCommission": 10,
                "takerCommission": 10,
                "buyerCommission": 0,
                "sellerCommission": 0,
                "canTrade": True,
                "canWithdraw": True,
                "canDeposit": True,
                "brokered": False,
                "requireSelfTradePrevention": False,
                "updateTime": self.venue.now_ms(),
                "accountType": "SPOT",
                "balances": [
                    {"asset": b.asset, "free": b.free, "locked": b.locked}
                    for b in account.balances.values()
                ],
                "permissions": ["SPOT"],
                "uid": 1000001,
            }
        )

    async def _open_orders(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")
        if symbol is not None and symbol not in self.venue.markets:
            return _error(400, -1121, "Invalid symbol.")
        return _ok([self._rest_order(o) for o in self.venue.account.open_orders(symbol)])

    def _rest_order(self, order: FakeOrder) -> dict[str, Any]:
        return {
            "symbol": order.symbol, "orderId": order.order_id, "orderListId": -1,
            "clientOrderId": order.client_order_id, "price": order.price,
            "origQty": order.quantity, "executedQty": order.executed,
            "cummulativeQuoteQty": order.cum_quote, "status": order.status,
            "timeInForce": _tif(order), "type": _type(order), "side": order.side,
            "stopPrice": "0", "icebergQty": "0", "time": order.created,
            "updateTime": order.updated, "isWorking": True, "workingTime": order.created,
            "origQuoteOrderQty": "0", "selfTradePreventionMode": "NONE",
        }  # fmt: skip

    # ------------------------------------------------- WebSocket API (user data)

    async def _ws_api(self, request: web.Request) -> web.StreamResponse:
        return await self.venue.serve_websocket(request, self._on_api_text, market_stream=False)

    def _on_api_text(self, conn: FakeConnection, text: str) -> None:
        try:
            request = _json.loads(text)
            request_id = request.get("id")
            method = request["method"]
            params = request.get("params") or {}
        except (ValueError, AttributeError, KeyError):
            conn.send_json(
                {"id": None, "status": 400, "error": {"code": -1000, "msg": "Malformed request."}}
            )
            return
        if method == "ping":
            conn.send_json({"id": request_id, "status": 200, "result": {}})
        elif method == "time":
            conn.send_json(
                {"id": request_id, "status": 200, "result": {"serverTime": self.venue.now_ms()}}
            )
        elif method == "userDataStream.subscribe.signature":
            error = self._check_ws_signature(params)
            if error is not None:
                conn.send_json(
                    {
                        "id": request_id,
                        "status": error[0],
                        "error": {"code": error[1], "msg": error[2]},
                    }
                )
                return
            subscription = conn.state.get("next_subscription", 0)
            conn.state["next_subscription"] = subscription + 1
            conn.subscribe("user", self._event_wrapper(subscription))
            conn.send_json(
                {"id": request_id, "status": 200, "result": {"subscriptionId": subscription}}
            )
        elif method == "userDataStream.unsubscribe":
            conn.unsubscribe("user")
            conn.send_json({"id": request_id, "status": 200, "result": {}})
        else:
            conn.send_json(
                {
                    "id": request_id,
                    "status": 400,
                    "error": {"code": -1020, "msg": "This operation is not supported."},
                }
            )

    @staticmethod
    def _event_wrapper(subscription: int) -> Wrapper:
        head = '{"subscriptionId":' + str(subscription) + ',"event":'
        return lambda text: head + text + "}"

    def _check_ws_signature(self, params: Any) -> tuple[int, int, str] | None:
        """WS API signature: HMAC hex over ``k=v`` of the params sorted by key."""
        if not isinstance(params, dict) or "signature" not in params:
            return (
                400,
                -1102,
                "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
            )
        if params.get("apiKey") != self.venue.api_key:
            return 401, -2015, "Invalid API-key, IP, or permissions for action."
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
        expected = binance_signature(self.venue.api_secret, payload)
        if not hmac.compare_digest(expected, str(params["signature"]).lower()):
            return 400, -1022, "Signature for this request is not valid."
        try:
            timestamp = int(params["timestamp"])
        except (KeyError, ValueError, TypeError):
            return (
                400,
                -1102,
                "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
            )
        now = self.venue.now_ms()
        if not (timestamp < now + 1000 and now - timestamp <= int(params.get("recvWindow", 5000))):
            return 400, -1021, "Timestamp for this request is outside of the recvWindow."
        return None

    def account_messages(self, event: AccountEvent) -> Iterable[Any]:
        if event.kind == "order" and event.order is not None:
            yield self._execution_report(event, event.order)
        elif event.kind == "balance":
            yield {
                "e": "outboundAccountPosition", "E": event.time, "u": event.time,
                "B": [{"a": b.asset, "f": b.free, "l": b.locked} for b in event.balances],
            }  # fmt: skip
        elif event.kind == "position":
            raise ValueError("spot accounts have no positions")

    def _execution_report(self, event: AccountEvent, order: FakeOrder) -> dict[str, Any]:
        filled = event.execution == "TRADE"
        return {
            "e": "executionReport", "E": event.time, "s": order.symbol,
            "c": order.client_order_id, "S": order.side, "o": _type(order),
            "f": _tif(order), "q": order.quantity, "p": order.price, "P": "0",
            "F": "0", "g": -1, "C": order.client_order_id if order.status == "CANCELED" else "",
            "x": event.execution, "X": order.status, "r": "NONE", "i": order.order_id,
            "l": event.last_quantity if filled else "0", "z": order.executed,
            "L": event.last_price if filled else "0", "n": "0", "N": None, "T": event.time,
            "t": event.trade_id if filled else -1, "v": 0, "I": event.trade_id or order.updated,
            "w": order.is_open, "m": False, "M": filled, "O": order.created,
            "Z": order.cum_quote, "Y": "0", "Q": "0", "W": order.created, "V": "NONE",
        }  # fmt: skip


PROFILES: dict[str, type[ExchangeProfile]] = {
    BinanceSpotProfile.name: BinanceSpotProfile,
    BinanceUSDSMProfile.name: BinanceUSDSMProfile,
    BinanceCOINMProfile.name: BinanceCOINMProfile,
}
