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

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl

from aiohttp import web

from ... import _json
from .._profile import ExchangeProfile, Publication, Wrapper
from ..account import AccountEvent, FakeBalance, FakeOrder, FakePosition
from ..fake import FakeConnection, iter_levels
from ..market import MarketConfig, MarketUpdate

__all__ = [
    "PROFILES",
    "BinanceCOINMProfile",
    "BinanceSpotProfile",
    "BinanceUSDSMProfile",
    "binance_signature",
]

_STREAM = re.compile(
    r"^(?P<symbol>[a-z0-9_]+)@(?P<channel>depth(?P<levels>5|10|20)?|trade|aggTrade|bookTicker)"
    r"(?:@(?P<speed>\d+ms))?$"
)
_LISTEN_KEY_TTL = 3600.0


def binance_signature(secret: str, payload: str) -> str:
    """HMAC-SHA256 hex, as Binance signs REST ``totalParams`` and WS API params."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _error(status: int, code: int, msg: str) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=status, dumps=_json.dumps)


def _ok(data: Any) -> web.Response:
    return web.json_response(data, dumps=_json.dumps)


def _without_signature(raw: str) -> tuple[str, str | None]:
    """``raw`` (a query string or form body) without its ``signature`` parameter."""
    if not raw:
        return "", None
    parts = raw.split("&")
    kept = [p for p in parts if not p.startswith("signature=")]
    found = [p.partition("=")[2] for p in parts if p.startswith("signature=")]
    return "&".join(kept), found[-1] if found else None


class _BinanceProfile(ExchangeProfile):
    """What the three Binance venues share."""

    exchange: ClassVar[str] = "binance"
    #: REST path prefix of the depth/time endpoints (``/api/v3``, ``/fapi/v1``...)
    rest_prefix: ClassVar[str]
    depth_limits: ClassVar[tuple[int, ...] | None] = None
    futures: ClassVar[bool] = False
    #: speeds a depth stream name may carry
    speeds: ClassVar[frozenset[str]] = frozenset({"100ms", "1000ms"})
    configs: ClassVar[Mapping[str, MarketConfig]] = {}

    def __init__(self, venue: Any) -> None:
        super().__init__(venue)
        self._listen_keys: dict[str, float] = {}
        self._key_counter = 0

    def market_config(self, symbol: str) -> MarketConfig:
        config = self.configs.get(symbol)
        return (
            config
            if config is not None
            else MarketConfig(symbol, lot_size="0.001", start_price="100")
        )

    # ------------------------------------------------------------- streams

    def parse_stream(self, name: str) -> str | None:
        """The fake's topic for a Binance stream name, or ``None`` if unknown."""
        match = _STREAM.match(name)
        if match is None:
            return None
        symbol = match["symbol"].upper()
        if symbol not in self.venue.markets:
            return None
        speed = match["speed"]
        if speed is not None and speed not in self.speeds:
            return None
        return f"{symbol}|{match['channel']}"

    def _wrapper(self, conn: FakeConnection, stream: str) -> Wrapper | None:
        if not conn.state.get("combined"):
            return None
        head = '{"stream":' + _json.dumps(stream) + ',"data":'
        return lambda text: head + text + "}"

    def _subscribe(self, conn: FakeConnection, streams: Iterable[str]) -> list[str]:
        unknown = []
        for stream in streams:
            topic = self.parse_stream(stream) if isinstance(stream, str) else None
            if topic is None:
                unknown.append(str(stream))
                continue
            conn.subscribe(topic, self._wrapper(conn, stream))
            conn.state.setdefault("streams", {})[stream] = topic
        return unknown

    def _on_market_text(self, conn: FakeConnection, text: str) -> None:
        try:
            request = _json.loads(text)
        except ValueError:
            conn.send_json({"error": {"code": 3, "msg": "Invalid JSON"}, "id": None})
            return
        if not isinstance(request, dict):
            conn.send_json({"error": {"code": 2, "msg": "Invalid request"}, "id": None})
            return
        method = request.get("method")
        request_id = request.get("id")
        params = request.get("params") or []
        if method == "SUBSCRIBE":
            unknown = self._subscribe(conn, params)
            if unknown:
                conn.send_json(
                    {
                        "error": {
                            "code": 2,
                            "msg": f"Invalid request: unknown stream {unknown[0]}",
                        },
                        "id": request_id,
                    }
                )
                return
            conn.send_json({"result": None, "id": request_id})
        elif method == "UNSUBSCRIBE":
            streams = conn.state.setdefault("streams", {})
            for stream in params:
                topic = streams.pop(stream, None)
                if topic is not None and topic not in streams.values():
                    conn.unsubscribe(topic)
            conn.send_json({"result": None, "id": request_id})
        elif method == "LIST_SUBSCRIPTIONS":
            conn.send_json({"result": list(conn.state.get("streams", {})), "id": request_id})
        elif method in ("SET_PROPERTY", "GET_PROPERTY"):
            conn.send_json(
                {"result": None if method == "SET_PROPERTY" else False, "id": request_id}
            )
        else:
            conn.send_json(
                {"error": {"code": 2, "msg": "Invalid request: unknown method"}, "id": request_id}
            )

    async def _ws_raw(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info.get("streams", "")
        names = [n for n in path.split("/") if n]
        if len(names) == 1 and "@" not in names[0] and self.futures:
            return await self._ws_user(request, names[0])

        def on_open(conn: FakeConnection) -> None:
            self._subscribe(conn, names)

        return await self.venue.serve_websocket(request, self._on_market_text, on_open=on_open)

    async def _ws_user(self, request: web.Request, key: str) -> web.StreamResponse:
        raise web.HTTPNotFound()

    async def _ws_combined(self, request: web.Request) -> web.StreamResponse:
        names = [n for n in request.query.get("streams", "").split("/") if n]

        def on_open(conn: FakeConnection) -> None:
            conn.state["combined"] = True
            self._subscribe(conn, names)

        return await self.venue.serve_websocket(request, self._on_market_text, on_open=on_open)

    def market_messages(self, update: MarketUpdate) -> Iterable[Publication]:
        venue = self.venue
        symbol = update.symbol
        now = venue.now_ms()
        topic = f"{symbol}|depth"
        if venue.has_subscribers(topic) or venue.faults.skip.get(symbol):
            yield Publication(topic, self.depth_update(update, now), symbol, book=True)
        for levels in (5, 10, 20):
            topic = f"{symbol}|depth{levels}"
            if venue.has_subscribers(topic):
                yield Publication(topic, self.partial_depth(update, levels, now), symbol)
        topic = f"{symbol}|bookTicker"
        if venue.has_subscribers(topic):
            yield Publication(topic, self.book_ticker(update, now), symbol)
        for trade in update.trades:
            for channel in ("trade", "aggTrade"):
                topic = f"{symbol}|{channel}"
                if venue.has_subscribers(topic):
                    yield Publication(topic, self.trade(channel, symbol, trade, now), symbol)

    def depth_update(self, update: MarketUpdate, now: int) -> dict[str, Any]:
        return {
            "e": "depthUpdate",
            "E": now,
            "s": update.symbol,
            "U": update.first_id,
            "u": update.last_id,
            "b": iter_levels(update.bids),
            "a": iter_levels(update.asks),
        }

    def partial_depth(self, update: MarketUpdate, levels: int, now: int) -> dict[str, Any]:
        market = self.venue.markets[update.symbol]
        return {
            "lastUpdateId": update.last_id,
            "bids": iter_levels(market.levels("bid", levels)),
            "asks": iter_levels(market.levels("ask", levels)),
        }

    def book_ticker(self, update: MarketUpdate, now: int) -> dict[str, Any]:
        market = self.venue.markets[update.symbol]
        (bid, bid_size), (ask, ask_size) = market.levels("bid", 1)[0], market.levels("ask", 1)[0]
        return {
            "u": update.last_id,
            "s": update.symbol,
            "b": bid,
            "B": bid_size,
            "a": ask,
            "A": ask_size,
        }

    def trade(self, channel: str, symbol: str, trade: Any, now: int) -> dict[str, Any]:
        if channel == "trade":
            return {
                "e": "trade", "E": now, "s": symbol, "t": trade.trade_id, "p": trade.price,
                "q": trade.size, "T": now, "m": trade.buyer_is_maker, "M": True,
            }  # fmt: skip
        return {
            "e": "aggTrade", "E": now, "s": symbol, "a": trade.trade_id, "p": trade.price,
            "q": trade.size, "f": trade.trade_id, "l": trade.trade_id, "T": now,
            "m": trade.buyer_is_maker, "M": True,
        }  # fmt: skip

    # ------------------------------------------------------------------ REST

    async def _depth(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")
        if not symbol:
            return _error(
                400,
                -1102,
                "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
            )
        market = self.venue.markets.get(symbol.upper())
        if market is None:
            return _error(400, -1121, "Invalid symbol.")
        try:
            limit = int(request.query.get("limit", "500" if self.futures else "100"))
        except ValueError:
            return _error(400, -1100, "Illegal characters found in parameter 'limit'.")
        if (
            self.depth_limits is not None and limit not in self.depth_limits
        ) or not 1 <= limit <= 5000:
            return _error(400, -1130, "Invalid data sent for a parameter.")
        return _ok(self.depth_snapshot(market.symbol, limit))

    def depth_snapshot(self, symbol: str, limit: int) -> dict[str, Any]:
        market = self.venue.markets[symbol]
        return {
            "lastUpdateId": market.last_update_id,
            "bids": iter_levels(market.levels("bid", limit)),
            "asks": iter_levels(market.levels("ask", limit)),
        }

    async def _time(self, request: web.Request) -> web.Response:
        return _ok({"serverTime": self.venue.now_ms()})

    async def _ping(self, request: web.Request) -> web.Response:
        return _ok({})

    def check_api_key(self, request: web.Request) -> web.Response | None:
        """Binance's answer to a missing or unknown ``X-MBX-APIKEY``, or ``None``."""
        key = request.headers.get("X-MBX-APIKEY")
        if not key:
            return _error(401, -2014, "API-key format invalid.")
        if not hmac.compare_digest(key.encode(), self.venue.api_key.encode()):
            return _error(401, -2015, "Invalid API-key, IP, or permissions for action.")
        return None

    async def check_signed(self, request: web.Request) -> web.Response | None:
        """Verify a SIGNED request like Binance does; the error response, or ``None``."""
        refused = self.check_api_key(request)
        if refused is not None:
            return refused
        raw_query = request.raw_path.partition("?")[2]
        body = (await request.read()).decode("utf-8", "replace")
        query, query_signature = _without_signature(raw_query)
        form, body_signature = _without_signature(body)
        signature = query_signature or body_signature
        params = dict(parse_qsl(raw_query)) | dict(parse_qsl(body))
        if not signature:
            return _error(
                400,
                -1102,
                "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
            )
        if "timestamp" not in params:
            return _error(
                400,
                -1102,
                "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
            )
        expected = binance_signature(self.venue.api_secret, query + form)
        if not hmac.compare_digest(expected, signature.lower()):
            return _error(400, -1022, "Signature for this request is not valid.")
        try:
            timestamp = int(params["timestamp"])
            window = int(params.get("recvWindow", "5000"))
        except ValueError:
            return _error(400, -1100, "Illegal characters found in parameter 'timestamp'.")
        now = self.venue.now_ms()
        if not (timestamp < now + 1000 and now - timestamp <= window):
            return _error(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        return None

    def _signed(self, handler: Callable[[web.Request], Any]) -> Callable[[web.Request], Any]:
        async def guarded(request: web.Request) -> web.StreamResponse:
            refused = await self.check_signed(request)
            if refused is not None:
                return refused
            response: web.StreamResponse = await handler(request)
            return response

        return guarded

    def rest_error(self, status: int) -> Any:
        if status == 429:
            return {
                "code": -1003,
                "msg": "Too many requests; current limit is 6000 request weight per 1 MINUTE.",
            }
        if status == 418:
            return {"code": -1003, "msg": "Way too many requests; IP banned."}
        if status >= 500:
            return {
                "code": -1001,
                "msg": "Internal error; unable to process your request. Please try again.",
            }
        return {"code": -1000, "msg": "An unknown error occurred while processing the request."}

    def malformed_message(self, symbol: str) -> Any:
        # A depth update whose ids and levels are unusable: a client must drop it,
        # count it and resync, never crash or apply half of it.
        return {
            "e": "depthUpdate",
            "E": self.venue.now_ms(),
            "s": symbol,
            "U": "x",
            "u": None,
            "b": "oops",
            "a": [["1"]],
        }

    def unknown_channel_message(self, symbol: str) -> Any:
        return {"e": "fakeUnknownEvent", "E": self.venue.now_ms(), "s": symbol, "x": 1}

    def _rest_order(self, order: FakeOrder) -> dict[str, Any]:
        raise NotImplementedError


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
            "timeInForce": order.time_in_force, "type": order.order_type, "side": order.side,
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
            "c": order.client_order_id, "S": order.side, "o": order.order_type,
            "f": order.time_in_force, "q": order.quantity, "p": order.price, "P": "0",
            "F": "0", "g": -1, "C": order.client_order_id if order.status == "CANCELED" else "",
            "x": event.execution, "X": order.status, "r": "NONE", "i": order.order_id,
            "l": event.last_quantity if filled else "0", "z": order.executed,
            "L": event.last_price if filled else "0", "n": "0", "N": None, "T": event.time,
            "t": event.trade_id if filled else -1, "v": 0, "I": event.trade_id or order.updated,
            "w": order.is_open, "m": False, "M": filled, "O": order.created,
            "Z": order.cum_quote, "Y": "0", "Q": "0", "W": order.created, "V": "NONE",
        }  # fmt: skip


class _BinanceFuturesProfile(_BinanceProfile):
    futures = True
    ping_interval = 180.0
    pong_timeout = 600.0
    speeds = frozenset({"100ms", "250ms", "500ms"})
    depth_limits = (5, 10, 20, 50, 100, 500, 1000)
    listen_key_path: ClassVar[str]
    balance_paths: ClassVar[tuple[str, ...]]
    position_paths: ClassVar[tuple[str, ...]]
    open_orders_path: ClassVar[str]

    def routes(self) -> list[web.RouteDef]:
        routes = [
            web.get(f"{self.rest_prefix}/depth", self._depth),
            web.get(f"{self.rest_prefix}/time", self._time),
            web.get(f"{self.rest_prefix}/ping", self._ping),
            web.post(self.listen_key_path, self._listen_key_create),
            web.put(self.listen_key_path, self._listen_key_keepalive),
            web.delete(self.listen_key_path, self._listen_key_close),
            web.get(self.open_orders_path, self._signed(self._open_orders)),
        ]
        routes += [web.get(p, self._signed(self._balance)) for p in self.balance_paths]
        routes += [web.get(p, self._signed(self._positions)) for p in self.position_paths]
        # Un-routed and routed (2026: /public, /market, /private) stream URLs.
        for prefix in ("", "/public", "/market", "/private"):
            routes += [
                web.get(f"{prefix}/ws", self._ws_raw),
                web.get(prefix + "/ws/{streams:.+}", self._ws_raw),
                web.get(f"{prefix}/stream", self._ws_combined),
            ]
        return routes

    def depth_update(self, update: MarketUpdate, now: int) -> dict[str, Any]:
        message = {
            "e": "depthUpdate", "E": now, "T": now, "s": update.symbol,
            "U": update.first_id, "u": update.last_id, "pu": update.prev_id,
            "b": iter_levels(update.bids), "a": iter_levels(update.asks),
        }  # fmt: skip
        return message

    def partial_depth(self, update: MarketUpdate, levels: int, now: int) -> dict[str, Any]:
        market = self.venue.markets[update.symbol]
        message = self.depth_update(update, now)
        message["b"] = iter_levels(market.levels("bid", levels))
        message["a"] = iter_levels(market.levels("ask", levels))
        return message

    def book_ticker(self, update: MarketUpdate, now: int) -> dict[str, Any]:
        return {"e": "bookTicker", "E": now, "T": now, **super().book_ticker(update, now)}

    def trade(self, channel: str, symbol: str, trade: Any, now: int) -> dict[str, Any]:
        message = super().trade(channel, symbol, trade, now)
        message.pop("M", None)
        return message

    def depth_snapshot(self, symbol: str, limit: int) -> dict[str, Any]:
        now = self.venue.now_ms()
        snapshot = super().depth_snapshot(symbol, limit)
        return {"lastUpdateId": snapshot["lastUpdateId"], "E": now, "T": now, **snapshot}

    # -------------------------------------------------------------- listenKey

    def _new_listen_key(self) -> str:
        self._key_counter += 1
        seed = f"{self.venue.seed}:{self.name}:{self._key_counter}".encode()
        return hashlib.sha256(seed).hexdigest()

    def _live_keys(self) -> list[str]:
        now = self.venue.clock.monotonic()
        for key, expires in list(self._listen_keys.items()):
            if expires <= now:
                del self._listen_keys[key]
        return list(self._listen_keys)

    async def _listen_key_create(self, request: web.Request) -> web.Response:
        refused = self.check_api_key(request)
        if refused is not None:
            return refused
        keys = self._live_keys()
        # An active key is returned again (and extended), as Binance does.
        key = keys[0] if keys else self._new_listen_key()
        self._listen_keys[key] = self.venue.clock.monotonic() + _LISTEN_KEY_TTL
        return _ok({"listenKey": key})

    async def _listen_key_keepalive(self, request: web.Request) -> web.Response:
        refused = self.check_api_key(request)
        if refused is not None:
            return refused
        keys = self._live_keys()
        if not keys:
            return _error(400, -1125, "This listenKey does not exist.")
        self._listen_keys[keys[0]] = self.venue.clock.monotonic() + _LISTEN_KEY_TTL
        return _ok({"listenKey": keys[0]})

    async def _listen_key_close(self, request: web.Request) -> web.Response:
        refused = self.check_api_key(request)
        if refused is not None:
            return refused
        self._listen_keys.clear()
        for conn in list(self.venue.connections):
            if conn.state.get("listen_key"):
                conn.close()
        return _ok({})

    async def _ws_user(self, request: web.Request, key: str) -> web.StreamResponse:
        valid = key in self._live_keys()

        def on_open(conn: FakeConnection) -> None:
            if not valid:
                conn.close(code=1008)
                return
            conn.state["listen_key"] = key
            conn.subscribe("user")

        return await self.venue.serve_websocket(
            request, lambda conn, text: None, market_stream=False, on_open=on_open
        )

    def expire_token(self) -> list[str]:
        keys = self._live_keys()
        now = self.venue.now_ms()
        for key in keys:
            text = _json.dumps({"e": "listenKeyExpired", "E": now, "listenKey": key})
            for conn in list(self.venue.connections):
                if conn.state.get("listen_key") == key:
                    conn.send_text(text)
                    conn.close()
        self._listen_keys.clear()
        return keys

    # ------------------------------------------------------------ account REST

    async def _open_orders(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")
        if symbol is not None and symbol not in self.venue.markets:
            return _error(400, -1121, "Invalid symbol.")
        return _ok([self._rest_order(o) for o in self.venue.account.open_orders(symbol)])

    def _rest_order(self, order: FakeOrder) -> dict[str, Any]:
        executed = float(order.executed)
        average = float(order.cum_quote) / executed if executed else 0.0
        return {
            "avgPrice": f"{average:.5f}", "clientOrderId": order.client_order_id,
            "cumQuote": order.cum_quote, "executedQty": order.executed,
            "orderId": order.order_id, "origQty": order.quantity,
            "origType": order.order_type, "price": order.price, "reduceOnly": False,
            "side": order.side, "positionSide": "BOTH", "status": order.status,
            "stopPrice": "0", "closePosition": False, "symbol": order.symbol,
            "time": order.created, "timeInForce": order.time_in_force,
            "type": order.order_type, "updateTime": order.updated,
            "workingType": "CONTRACT_PRICE", "priceProtect": False,
        }  # fmt: skip

    async def _balance(self, request: web.Request) -> web.Response:
        now = self.venue.now_ms()
        return _ok([self._rest_balance(b, now) for b in self.venue.account.balances.values()])

    def _rest_balance(self, balance: FakeBalance, now: int) -> dict[str, Any]:
        return {
            "accountAlias": "SgsR", "asset": balance.asset, "balance": balance.free,
            "crossWalletBalance": balance.free, "crossUnPnl": "0",
            "availableBalance": balance.free, "maxWithdrawAmount": balance.free,
            "marginAvailable": True, "updateTime": now,
        }  # fmt: skip

    async def _positions(self, request: web.Request) -> web.Response:
        positions = self.venue.account.positions.values()
        return _ok([self._rest_position(p) for p in positions])

    def _rest_position(self, position: FakePosition) -> dict[str, Any]:
        market = self.venue.markets.get(position.symbol)
        mark = market.best()[0] if market is not None else position.entry_price
        return {
            "symbol": position.symbol, "positionAmt": position.amount,
            "entryPrice": position.entry_price, "breakEvenPrice": position.entry_price,
            "markPrice": mark, "unRealizedProfit": "0", "liquidationPrice": "0",
            "leverage": "10", "maxNotionalValue": "20000000", "marginType": "cross",
            "isolatedMargin": "0", "isAutoAddMargin": "false",
            "positionSide": position.position_side, "notional": "0",
            "isolatedWallet": "0", "updateTime": self.venue.now_ms(),
        }  # fmt: skip

    # ------------------------------------------------------- private messages

    def account_messages(self, event: AccountEvent) -> Iterable[Any]:
        if event.kind == "order" and event.order is not None:
            yield self._order_update(event, event.order)
        elif event.kind in ("balance", "position"):
            reason = "DEPOSIT" if event.kind == "balance" else "ORDER"
            yield {
                "e": "ACCOUNT_UPDATE", "E": event.time, "T": event.time,
                "a": {
                    "m": reason,
                    "B": [
                        {"a": b.asset, "wb": b.free, "cw": b.free, "bc": "0"}
                        for b in event.balances
                    ],
                    "P": [
                        {
                            "s": p.symbol, "pa": p.amount, "ep": p.entry_price,
                            "bep": p.entry_price, "cr": "0", "up": "0", "mt": "cross",
                            "iw": "0", "ps": p.position_side,
                        }
                        for p in event.positions
                    ],
                },
            }  # fmt: skip

    def _order_update(self, event: AccountEvent, order: FakeOrder) -> dict[str, Any]:
        filled = event.execution == "TRADE"
        executed = float(order.executed)
        average = float(order.cum_quote) / executed if executed else 0.0
        return {
            "e": "ORDER_TRADE_UPDATE", "E": event.time, "T": event.time,
            "o": {
                "s": order.symbol, "c": order.client_order_id, "S": order.side,
                "o": order.order_type, "f": order.time_in_force, "q": order.quantity,
                "p": order.price, "ap": f"{average:.5f}", "sp": "0", "x": event.execution,
                "X": order.status, "i": order.order_id,
                "l": event.last_quantity if filled else "0", "z": order.executed,
                "L": event.last_price if filled else "0", "N": "USDT", "n": "0",
                "T": event.time, "t": event.trade_id if filled else 0, "b": "0", "a": "0",
                "m": False, "R": False, "wt": "CONTRACT_PRICE", "ot": order.order_type,
                "ps": "BOTH", "cp": False, "rp": "0", "pP": False, "si": 0, "ss": 0,
                "V": "NONE", "pm": "NONE", "gtd": 0,
            },
        }  # fmt: skip


class BinanceUSDSMProfile(_BinanceFuturesProfile):
    """Binance USDⓈ-M futures: fapi.binance.com, fstream.binance.com."""

    name = "binance-usdsm"
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {
        "fapi.binance.com": "http",
        "fstream.binance.com": "ws",
    }
    default_symbols = ("BTCUSDT", "ETHUSDT")
    rest_prefix = "/fapi/v1"
    listen_key_path = "/fapi/v1/listenKey"
    open_orders_path = "/fapi/v1/openOrders"
    balance_paths = ("/fapi/v2/balance", "/fapi/v3/balance")
    position_paths = ("/fapi/v2/positionRisk", "/fapi/v3/positionRisk")
    configs: ClassVar[Mapping[str, MarketConfig]] = {
        "BTCUSDT": MarketConfig("BTCUSDT", "0.10", "0.001", "65000", price_decimals=2),
        "ETHUSDT": MarketConfig("ETHUSDT", "0.01", "0.001", "3200"),
    }


class BinanceCOINMProfile(_BinanceFuturesProfile):
    """Binance COIN-M futures: dapi.binance.com, dstream.binance.com."""

    name = "binance-coinm"
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {
        "dapi.binance.com": "http",
        "dstream.binance.com": "ws",
    }
    default_symbols = ("BTCUSD_PERP", "ETHUSD_PERP")
    rest_prefix = "/dapi/v1"
    listen_key_path = "/dapi/v1/listenKey"
    open_orders_path = "/dapi/v1/openOrders"
    balance_paths = ("/dapi/v1/balance",)
    position_paths = ("/dapi/v1/positionRisk",)
    configs: ClassVar[Mapping[str, MarketConfig]] = {
        "BTCUSD_PERP": MarketConfig("BTCUSD_PERP", "0.1", "1", "65000", price_decimals=1),
        "ETHUSD_PERP": MarketConfig("ETHUSD_PERP", "0.01", "1", "3200"),
    }

    def depth_update(self, update: MarketUpdate, now: int) -> dict[str, Any]:
        message = super().depth_update(update, now)
        message["ps"] = update.symbol.partition("_")[0]
        return message

    def depth_snapshot(self, symbol: str, limit: int) -> dict[str, Any]:
        snapshot = super().depth_snapshot(symbol, limit)
        return {**snapshot, "symbol": symbol, "pair": symbol.partition("_")[0]}

    def _rest_balance(self, balance: FakeBalance, now: int) -> dict[str, Any]:
        return {
            "accountAlias": "SgsR", "asset": balance.asset, "balance": balance.free,
            "withdrawAvailable": balance.free, "crossWalletBalance": balance.free,
            "crossUnPnl": "0", "availableBalance": balance.free, "updateTime": now,
        }  # fmt: skip


PROFILES: dict[str, type[ExchangeProfile]] = {
    BinanceSpotProfile.name: BinanceSpotProfile,
    BinanceUSDSMProfile.name: BinanceUSDSMProfile,
    BinanceCOINMProfile.name: BinanceCOINMProfile,
}
