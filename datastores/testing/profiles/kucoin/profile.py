"""KuCoin's fake venues (``kucoin-spot``, ``kucoin-futures``): bullets that expire and
move, the classic and UTA WebSocket families, REST snapshots, orders and faults.

Facts (https://www.kucoin.com/docs-new/ ; docs/exchanges/kucoin.md for the list):

* ``POST /api/v1/bullet-public`` (unsigned) / ``bullet-private`` (signed, see
  ``verifier.py``) give a token and an instance server; the socket is
  ``{endpoint}?token=...&connectId=...``, greeted ``{"id", "type": "welcome"}``. A
  token the venue no longer accepts is answered ``{"type": "error", "code": 401}``
  and the socket closed. :meth:`KucoinProfile.expire_token` (the fault
  ``fake.expire_listen_key()``) invalidates every token, moves the instance server
  (a new path on the same host) and drops the connections: a client must fetch a
  new bullet to reconnect.
* classic ``{"id", "type": "subscribe", "topic": "/market/level2:BTC-USDT",
  "privateChannel", "response": true}`` -> ``{"id", "type": "ack"}``; an unknown
  topic -> ``{"type": "error", "code": 404, "data": "topic does not exist"}``.
* spot level2 rows carry their own sequence; futures level2 sends one change per
  message (``sequence`` +1); REST snapshots: spot ``/api/v3/market/orderbook/level2``
  (signed, whole book) and ``/api/v1/market/orderbook/level2_100`` (top 100), futures
  ``/api/v1/level2/snapshot`` (numbers, not strings).
* UTA (tokenless, ``x-push-*.kucoin.com``): welcome ``{"sessionId", "message":
  "welcome", "pingInterval"}``; ``{"id", "action": "SUBSCRIBE", "channel": "obu",
  "tradeType", "symbol", "depth"}`` -> ``{"id", "result": true}``; depth
  ``increment@10ms`` sends a snapshot (``O == C``) then deltas (``O == last + 1``).
  The fake's markets have 400 levels a side, inside UTA's 500-level window.
* ``POST /api/v1/orders`` (signed) places an order; private events follow on
  ``/spotMarket/tradeOrdersV2`` / ``/contractMarket/tradeOrders``,
  ``/account/balance``, ``/contract/position``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal

from aiohttp import web

from .... import _json
from ..._profile import ExchangeProfile, Publication
from ..._verify import FakeKey, ReceivedRequest, Rejected
from ...account import AccountEvent
from ...fake import FakeConnection, iter_levels
from ...market import MarketConfig, MarketUpdate
from ._messages import futures_changes, futures_number, message, obu, order_event, spot_l2update
from .dialect import KucoinDialect
from .verifier import kucoin_error, verify_kucoin

__all__ = ["PROFILES", "KucoinFuturesProfile", "KucoinProfile", "KucoinSpotProfile"]

_UTA_DEPTHS = frozenset({"increment@10ms", "increment", "1", "5", "50"})


def _ok(data: Any) -> web.Response:
    return web.json_response({"code": "200000", "data": data}, dumps=_json.dumps)


def _error(status: int, code: str, msg: str) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=status, dumps=_json.dumps)


class KucoinProfile(ExchangeProfile):
    """What both KuCoin venues share (see the module docstring)."""

    exchange: ClassVar[str] = "kucoin"
    rest_host: ClassVar[str]
    ws_host: ClassVar[str]
    trade_type: ClassVar[str]
    futures: ClassVar[bool] = False

    def __init__(self, venue: Any) -> None:
        super().__init__(venue)
        self._dialect = KucoinDialect()
        #: live token -> (private, endpoint generation)
        self._tokens: dict[str, tuple[bool, int]] = {}
        self._generation = 0
        self._counter = itertools.count(1)

    def market_config(self, symbol: str) -> MarketConfig:
        lot = "1" if self.futures else "0.0001"
        return MarketConfig(symbol, "0.1", lot, "30000", levels=400)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/v1/bullet-public", self._bullet_public),
            web.post("/api/v1/bullet-private", self._bullet_private),
            web.post("/api/v1/orders", self._place_order),
            web.get("/", self._ws),
            web.get("/gen-{generation}/", self._ws),
        ]

    # ------------------------------------------------------------ bullets

    def _endpoint_path(self) -> str:
        return "/" if self._generation == 0 else f"/gen-{self._generation}/"

    def _bullet(self, private: bool) -> web.Response:
        token = f"fake-{'private' if private else 'public'}-{next(self._counter)}"
        self._tokens[token] = (private, self._generation)
        server = {
            "endpoint": f"wss://{self.ws_host}{self._endpoint_path()}",
            "encrypt": True,
            "protocol": "websocket",
            "pingInterval": 18000,
            "pingTimeout": 10000,
        }
        return _ok({"token": token, "instanceServers": [server]})

    async def _bullet_public(self, request: web.Request) -> web.Response:
        return self._bullet(False)

    async def _bullet_private(self, request: web.Request) -> web.Response:
        refused = await self._check_signed(request)
        return refused if refused is not None else self._bullet(True)

    def expire_token(self) -> list[str]:
        """Invalidate every token, move the instance server, drop the classic sockets."""
        expired = list(self._tokens)
        self._tokens.clear()
        self._generation += 1
        for conn in list(self.venue.connections):
            if conn.state.get("token") is not None:
                conn.close(abort=True)
        return expired

    # ------------------------------------------------------------ websocket

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        token = request.query.get("token")
        if token is None:
            return await self.venue.serve_websocket(
                request, self._on_uta_text, on_open=self._uta_open
            )
        generation = int(request.match_info.get("generation", "0"))

        def on_open(conn: FakeConnection) -> None:
            known = self._tokens.get(token)
            if known is None or known[1] != generation:
                conn.send_json(
                    {"id": request.query.get("connectId"), "type": "error", "code": 401}
                    | {"data": "token is invalid"}
                )
                conn.close()
                return
            conn.state["token"] = token
            conn.state["private"] = known[0]
            conn.send_json({"id": request.query.get("connectId", "c1"), "type": "welcome"})

        return await self.venue.serve_websocket(request, self._on_text, on_open=on_open)

    def _on_text(self, conn: FakeConnection, text: str) -> None:
        pong = self._dialect.pong(text, conn.path, self.venue.clock.time())
        if pong is not None:
            if self.venue.faults.answer_pings:
                conn.send_text(pong)
            return
        try:
            request = _json.loads(text)
            kind, topic = request["type"], request["topic"]
            prefix, _, symbols = str(topic).partition(":")
        except (ValueError, TypeError, KeyError):
            conn.send_json({"type": "error", "code": 400, "data": "bad request"})
            return
        request_id = request.get("id")
        names = [s for s in symbols.split(",") if s]
        private = prefix in self.private_topics
        if kind not in ("subscribe", "unsubscribe") or not (
            private or (prefix in self.public_topics and names)
        ):
            conn.send_json({"id": request_id, "type": "error", "code": 404})
            return
        if private and not conn.state.get("private"):
            conn.send_json({"id": request_id, "type": "error", "code": 401, "data": "private"})
            return
        topics = ["user"] if private else [f"{s}|{self.public_topics[prefix]}" for s in names]
        for name in topics:
            if kind == "subscribe":
                conn.subscribe(name)
            else:
                conn.unsubscribe(name)
        if request.get("response"):
            conn.send_json({"id": request_id, "type": "ack"})

    def _uta_open(self, conn: FakeConnection) -> None:
        conn.send_json({"sessionId": f"s-{conn.id}", "message": "welcome", "pingInterval": 18000})

    def _on_uta_text(self, conn: FakeConnection, text: str) -> None:
        pong = self._dialect.pong(text, conn.path, self.venue.clock.time())
        if pong is not None:
            if self.venue.faults.answer_pings:
                conn.send_text(pong)
            return
        try:
            request = _json.loads(text)
            action, channel = request["action"], request["channel"]
            symbol, depth = request["symbol"], str(request.get("depth", "increment@10ms"))
        except (ValueError, TypeError, KeyError):
            conn.send_json({"result": False, "message": "bad request"})
            return
        request_id = request.get("id")
        if (
            channel != "obu"
            or request.get("tradeType") != self.trade_type
            or symbol not in self.venue.markets
            or depth not in _UTA_DEPTHS
        ):
            conn.send_json({"id": request_id, "result": False, "message": "invalid request"})
            return
        topic = f"{symbol}|obu:{depth}"
        if action == "UNSUBSCRIBE":
            conn.unsubscribe(topic)
            conn.send_json({"id": request_id, "result": True})
        elif action == "SUBSCRIBE":
            conn.subscribe(topic)
            conn.send_json({"id": request_id, "result": True})
            if depth == "increment@10ms":
                # Synchronous with the market: no delta can slip in between.
                book = self.venue.book(symbol)
                bids, asks = book.top(500)
                last = book.last_update_id
                frame = obu(self.trade_type, depth, "snapshot", symbol, last, last,
                            iter_levels(asks), iter_levels(bids), self._now_ns())  # fmt: skip
                conn.send_json(frame)
        else:
            conn.send_json({"id": request_id, "result": False, "message": "unknown action"})

    def _now_ns(self) -> int:
        return self.venue.now_ms() * 1_000_000

    # --------------------------------------------------------------- market

    public_topics: ClassVar[Mapping[str, str]] = {}
    private_topics: ClassVar[frozenset[str]] = frozenset()

    def book_messages(self, update: MarketUpdate, now: int) -> list[Any]:
        raise NotImplementedError

    def market_messages(self, update: MarketUpdate) -> Iterable[Publication]:
        venue = self.venue
        symbol = update.symbol
        now = venue.now_ms()
        topic = f"{symbol}|level2"
        if venue.has_subscribers(topic):
            for payload in self.book_messages(update, now):
                yield Publication(topic, payload, symbol, book=True)
        topic = f"{symbol}|obu:increment@10ms"
        if venue.has_subscribers(topic):
            frame = obu(self.trade_type, "increment@10ms", "delta", symbol, update.first_id,
                        update.last_id, iter_levels(update.asks), iter_levels(update.bids),
                        now * 1_000_000)  # fmt: skip
            yield Publication(topic, frame, symbol, book=True)
        market = venue.markets[symbol]
        for name in ("1", "5", "50"):
            topic = f"{symbol}|obu:{name}"
            if venue.has_subscribers(topic):
                asks = iter_levels(market.levels("ask", int(name)))
                bids = iter_levels(market.levels("bid", int(name)))
                frame = obu(self.trade_type, name, None, symbol, update.last_id,
                            update.last_id, asks, bids, now * 1_000_000)  # fmt: skip
                yield Publication(topic, frame, symbol)
        for depth in (5, 50):
            topic = f"{symbol}|depth{depth}"
            if venue.has_subscribers(topic):
                data: dict[str, Any] = {
                    "asks": iter_levels(market.levels("ask", depth)),
                    "bids": iter_levels(market.levels("bid", depth)),
                    "timestamp": now,
                }
                if self.futures:
                    data["sequence"] = update.last_id
                prefix = "/contractMarket" if self.futures else "/spotMarket"
                yield Publication(
                    topic, message(f"{prefix}/level2Depth{depth}:{symbol}", "level2", data), symbol
                )
        topic = f"{symbol}|match"
        if update.trades and venue.has_subscribers(topic):
            for trade in update.trades:
                yield Publication(topic, self.trade_message(symbol, trade, now), symbol)

    def trade_message(self, symbol: str, trade: Any, now: int) -> dict[str, Any]:
        side = "sell" if trade.buyer_is_maker else "buy"
        data = {"symbol": symbol, "side": side, "price": trade.price, "size": trade.size}
        data |= {"tradeId": str(trade.trade_id), "time": str(now * 1_000_000)}
        topic = "/contractMarket/execution" if self.futures else "/market/match"
        return message(f"{topic}:{symbol}", "match", data)

    # ----------------------------------------------------------------- REST

    async def _check_signed(self, request: web.Request) -> web.Response | None:
        received = await ReceivedRequest.of(request, self.rest_host)
        venue = self.venue
        key = FakeKey(venue.api_key, venue.api_secret, venue.api_passphrase)
        try:
            verify_kucoin(received, {venue.api_key: key}, venue.clock.time())
        except Rejected as rejected:
            status, body = kucoin_error(rejected)
            return web.json_response(body, status=status, dumps=_json.dumps)
        return None

    async def _snapshot(self, request: web.Request, depth: int | None) -> web.Response:
        symbol = request.query.get("symbol", "")
        if symbol not in self.venue.markets:
            return _error(400, "400100", "symbol not exists")
        book = self.venue.book(symbol)
        bids, asks = book.top(depth)
        return _ok(self.snapshot_data(symbol, book.last_update_id, asks, bids))

    def snapshot_data(self, symbol: str, sequence: int, asks: Any, bids: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def _place_order(self, request: web.Request) -> web.Response:
        refused = await self._check_signed(request)
        if refused is not None:
            return refused
        try:
            body = _json.loads(await request.read())
            symbol, side, size = body["symbol"], body["side"], str(body["size"])
        except (ValueError, TypeError, KeyError):
            return _error(400, "400100", "bad order")
        if symbol not in self.venue.markets:
            return _error(400, "400100", "symbol not exists")
        venue = self.venue
        event = venue.account.place(venue.now_ms(), symbol, side, size, str(body.get("price", "0")),
                                    str(body.get("type", "limit")).upper(),
                                    body.get("clientOid"))  # fmt: skip
        venue.emit_account(event)
        assert event.order is not None
        return _ok({"orderId": str(event.order.order_id)})

    # --------------------------------------------------------------- faults

    def malformed_message(self, symbol: str) -> Any:
        topic = "/contractMarket/level2" if self.futures else "/market/level2"
        data = {"sequenceStart": "x", "sequence": None, "change": 7, "changes": "oops"}
        return message(f"{topic}:{symbol}", "level2", data)

    def unknown_channel_message(self, symbol: str) -> Any:
        return message(f"/fake/unknownTopic:{symbol}", "fake", {"symbol": symbol})

    def rest_error(self, status: int) -> Any:
        if status == 429:
            return {"code": "429000", "msg": "Too Many Requests"}
        return {"code": str(status * 1000), "msg": f"HTTP {status}"}


class KucoinSpotProfile(KucoinProfile):
    """Spot: ``api.kucoin.com``, ``ws-api-spot.kucoin.com``, ``x-push-spot.kucoin.com``."""

    name = "kucoin-spot"
    rest_host = "api.kucoin.com"
    ws_host = "ws-api-spot.kucoin.com"
    trade_type = "SPOT"
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {
        "api.kucoin.com": "http",
        "ws-api-spot.kucoin.com": "ws",
        "x-push-spot.kucoin.com": "ws",
    }
    default_symbols = ("BTC-USDT",)
    public_topics: ClassVar[Mapping[str, str]] = {
        "/market/level2": "level2",
        "/market/match": "match",
        "/spotMarket/level2Depth5": "depth5",
        "/spotMarket/level2Depth50": "depth50",
    }
    private_topics: ClassVar[frozenset[str]] = frozenset(
        {"/spotMarket/tradeOrdersV2", "/account/balance"}
    )

    def routes(self) -> list[web.RouteDef]:
        return [
            *super().routes(),
            web.get("/api/v3/market/orderbook/level2", self._full_snapshot),
            web.get("/api/v1/market/orderbook/level2_100", self._partial_snapshot),
        ]

    async def _full_snapshot(self, request: web.Request) -> web.Response:
        refused = await self._check_signed(request)
        return refused if refused is not None else await self._snapshot(request, None)

    async def _partial_snapshot(self, request: web.Request) -> web.Response:
        return await self._snapshot(request, 100)

    def snapshot_data(self, symbol: str, sequence: int, asks: Any, bids: Any) -> dict[str, Any]:
        return {"time": self.venue.now_ms(), "sequence": str(sequence),
                "asks": iter_levels(asks), "bids": iter_levels(bids)}  # fmt: skip

    def book_messages(self, update: MarketUpdate, now: int) -> list[Any]:
        return [spot_l2update(update, now)]

    def account_messages(self, event: AccountEvent) -> Iterable[Any]:
        if event.order is not None:
            return order_event(event, event.order, "/spotMarket/tradeOrdersV2")
        return [
            message(
                "/account/balance",
                "account.balance",
                {
                    "accountId": f"trade-{b.asset}",
                    "currency": b.asset,
                    "total": str(float(b.free) + float(b.locked)),
                    "available": b.free,
                    "hold": b.locked,
                    "relationEvent": "main.deposit",
                    "time": str(event.time),
                },
                True,
            )
            for b in event.balances
        ]


class KucoinFuturesProfile(KucoinProfile):
    """Futures: ``api-futures.kucoin.com``, ``ws-api-futures.kucoin.com``,
    ``x-push-futures.kucoin.com``."""

    name = "kucoin-futures"
    rest_host = "api-futures.kucoin.com"
    ws_host = "ws-api-futures.kucoin.com"
    trade_type = "FUTURES"
    futures = True
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {
        "api-futures.kucoin.com": "http",
        "ws-api-futures.kucoin.com": "ws",
        "x-push-futures.kucoin.com": "ws",
    }
    default_symbols = ("XBTUSDTM",)
    public_topics: ClassVar[Mapping[str, str]] = {
        "/contractMarket/level2": "level2",
        "/contractMarket/execution": "match",
        "/contractMarket/level2Depth5": "depth5",
        "/contractMarket/level2Depth50": "depth50",
    }
    private_topics: ClassVar[frozenset[str]] = frozenset(
        {"/contractMarket/tradeOrders", "/contract/positionAll", "/contractAccount/wallet"}
    )

    def routes(self) -> list[web.RouteDef]:
        return [
            *super().routes(),
            web.get("/api/v1/level2/snapshot", self._futures_snapshot),
        ]

    async def _futures_snapshot(self, request: web.Request) -> web.Response:
        return await self._snapshot(request, None)

    def snapshot_data(self, symbol: str, sequence: int, asks: Any, bids: Any) -> dict[str, Any]:
        def numbers(levels: Any) -> list[list[int | float]]:
            return [[futures_number(p), futures_number(s)] for p, s in levels]

        return {"symbol": symbol, "sequence": sequence, "asks": numbers(asks),
                "bids": numbers(bids), "ts": self.venue.now_ms() * 1_000_000}  # fmt: skip

    def book_messages(self, update: MarketUpdate, now: int) -> list[Any]:
        return futures_changes(update, now)

    def account_messages(self, event: AccountEvent) -> Iterable[Any]:
        if event.order is not None:
            return order_event(event, event.order, "/contractMarket/tradeOrders")
        out = []
        for p in event.positions:
            quantity = futures_number(p.amount)
            data = {"symbol": p.symbol, "currentQty": quantity, "isOpen": quantity != 0,
                    "avgEntryPrice": futures_number(p.entry_price),
                    "changeReason": "positionChange", "currentTimestamp": event.time}  # fmt: skip
            out.append(message(f"/contract/position:{p.symbol}", "position.change", data, True))
        for b in event.balances:
            data = {"currency": b.asset, "availableBalance": b.free, "holdBalance": b.locked,
                    "timestamp": str(event.time)}  # fmt: skip
            out.append(message("/contractAccount/wallet", "walletBalance.change", data, True))
        return out


PROFILES: dict[str, type[ExchangeProfile]] = {
    KucoinSpotProfile.name: KucoinSpotProfile,
    KucoinFuturesProfile.name: KucoinFuturesProfile,
}
