"""The fake GMO Coin: whole-book ``orderbooks`` frames, ticker, trades, private events,
access tokens that expire, a weekly maintenance, and the subscribe rate limit.

From https://api.coin.z.com/docs/en/ (and, marked, observations on the wire):

* ``wss://api.coin.z.com/ws/public/v1`` and ``/ws/private/v1/<token>``: requests
  ``{"command": "subscribe" | "unsubscribe", "channel": ..., "symbol": ...}`` get no
  acknowledgement; a bad one gets ``{"error": "ERR-5106 Invalid request parameter.
  <field>"}``; more than one request per second per IP gets ``{"error": "ERR-5003
  Request too many."}`` and is ignored (#restrictions; the text as observed).
* ``orderbooks``: every frame is the whole book, 30 asks ascending and 30 bids
  descending (the depth as observed), with ``timestamp`` (ISO ms); one frame per
  market update here (GMO Coin sends at most about two a second).
* the server pings every 60 s and drops a client after three missed pongs.
* a private-stream handshake with an unknown or expired token is refused (HTTP 401
  here; GMO Coin's own answer is not documented); during a maintenance every
  handshake gets HTTP 503 (#maintenance) and REST ``ERR-5201``.
* private channels: ``orderEvents`` (``NOR`` on a new order, ``COR`` on a cancel),
  ``executionEvents`` (fills; a full fill is only there), ``positionEvents``
  (``OPR``/``UPR``/``CPR``), ``positionSummaryEvents`` (``INIT`` on subscription,
  then ``UPDATE``).

Tests drive the maintenance with ``fake.profile.start_maintenance()`` /
``end_maintenance()`` (tokens do not survive it) and expire tokens with
``fake.expire_listen_key()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, Literal

from aiohttp import web

from .... import _json
from ..._profile import ExchangeProfile, Publication
from ...account import AccountEvent, FakeOrder, FakePosition
from ...fake import FakeConnection
from ...market import MarketConfig, MarketUpdate
from ._rest import GMOCoinRest, iso

__all__ = ["PROFILES", "GMOCoinProfile"]

PUBLIC_CHANNELS = frozenset({"ticker", "orderbooks", "trades"})
PRIVATE_CHANNELS = frozenset(
    {"executionEvents", "orderEvents", "positionEvents", "positionSummaryEvents"}
)
#: levels a side in an ``orderbooks`` frame
FRAME_DEPTH = 30
#: seconds between two subscribe/unsubscribe requests from one IP
REQUEST_INTERVAL = 1.0


class GMOCoinProfile(ExchangeProfile):
    """GMO Coin's only venue (``FakeExchange("gmocoin")``): spot ``BTC``, leverage ``BTC_JPY``."""

    name = "gmocoin"
    exchange = "gmocoin"
    # REST and both streams share one host (the Client redirects wss:// there too).
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {"api.coin.z.com": "http"}
    default_symbols = ("BTC_JPY", "BTC")
    ping_interval = 60.0
    pong_timeout = 180.0

    def __init__(self, venue: Any) -> None:
        super().__init__(venue)
        self.rest = GMOCoinRest(self)
        self.in_maintenance = False
        #: subscribe/unsubscribe requests refused with ERR-5003
        self.rejected_requests = 0
        self._last_request: float | None = None
        #: symbol -> ``timestamp`` (ms) of its last orderbooks frame
        self.frame_ms: dict[str, int] = {}
        #: fills, REST shape (``latestExecutions``)
        self.executions: list[dict[str, Any]] = []
        self._position_ids: dict[str, int] = {}
        self._next_position_id = 1_000_001
        self._next_execution_id = 70_000_001

    def market_config(self, symbol: str) -> MarketConfig:
        if symbol.endswith("_JPY") or symbol == "BTC":
            return MarketConfig(symbol, "1", "0.0001", "9000000", levels=200)
        return MarketConfig(symbol, "0.001", "0.0001", "100", levels=200)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/ws/public/v1", self._ws_public),
            web.get("/ws/private/v1/{token}", self._ws_private),
            *self.rest.routes(),
        ]

    # -------------------------------------------------------------- websocket

    async def _ws_public(self, request: web.Request) -> web.StreamResponse:
        if self.in_maintenance:
            raise web.HTTPServiceUnavailable()
        return await self.venue.serve_websocket(request, self._on_text)

    async def _ws_private(self, request: web.Request) -> web.StreamResponse:
        if self.in_maintenance:
            raise web.HTTPServiceUnavailable()
        token = request.match_info["token"]
        if not self.rest.token_valid(token):
            raise web.HTTPUnauthorized()

        def on_open(conn: FakeConnection) -> None:
            conn.state["token"] = token

        return await self.venue.serve_websocket(
            request, self._on_text, market_stream=False, on_open=on_open
        )

    def _on_text(self, conn: FakeConnection, text: str) -> None:
        try:
            request = _json.loads(text)
        except ValueError:
            conn.send_text("ERR-5106 Invalid request parameter.")  # not JSON, as observed
            return
        if not isinstance(request, dict):
            conn.send_json({"error": "ERR-5106 Invalid request parameter."})
            return
        command = request.get("command")
        if command not in ("subscribe", "unsubscribe"):
            conn.send_json({"error": "ERR-5106 Invalid request parameter. command"})
            return
        now = self.venue.clock.monotonic()
        if self._last_request is not None and now - self._last_request < REQUEST_INTERVAL:
            self.rejected_requests += 1
            conn.send_json({"error": "ERR-5003 Request too many."})
            return
        self._last_request = now
        channel = request.get("channel")
        private = "token" in conn.state
        if channel not in (PRIVATE_CHANNELS if private else PUBLIC_CHANNELS):
            conn.send_json({"error": "ERR-5106 Invalid request parameter. channel"})
            return
        if private:
            topic = f"user|{channel}"
        else:
            symbol = request.get("symbol")
            if symbol not in self.venue.markets:
                conn.send_json({"error": "ERR-5106 Invalid request parameter. symbol"})
                return
            topic = f"{symbol}|{channel}"
        if command == "unsubscribe":
            conn.unsubscribe(topic)
            return
        conn.subscribe(topic)
        if channel == "orderbooks":
            conn.send_json(self.book_frame(request["symbol"]))
        elif channel == "positionSummaryEvents":
            for position in self.open_positions():
                conn.send_json(self._summary_event(position, "INIT"))

    # ----------------------------------------------------------------- market

    def _frame_timestamp(self, symbol: str) -> int:
        # Strictly increasing per symbol, as real frames (about 0.5 s apart) are.
        ms = max(self.venue.now_ms(), self.frame_ms.get(symbol, 0) + 1)
        self.frame_ms[symbol] = ms
        return ms

    def book_frame(self, symbol: str, depth: int = FRAME_DEPTH) -> dict[str, Any]:
        """The whole book of ``symbol`` as one ``orderbooks`` frame."""
        market = self.venue.markets[symbol]
        return {
            "channel": "orderbooks",
            "asks": [{"price": p, "size": s} for p, s in market.levels("ask", depth)],
            "bids": [{"price": p, "size": s} for p, s in market.levels("bid", depth)],
            "symbol": symbol,
            "timestamp": iso(self._frame_timestamp(symbol)),
        }

    def market_messages(self, update: MarketUpdate) -> Iterable[Publication]:
        symbol = update.symbol
        venue = self.venue
        topic = f"{symbol}|orderbooks"
        if venue.has_subscribers(topic) or venue.faults.skip.get(symbol):
            yield Publication(topic, self.book_frame(symbol), symbol, book=True)
        now = iso(venue.now_ms())
        topic = f"{symbol}|trades"
        if update.trades and venue.has_subscribers(topic):
            for trade in update.trades:
                side = "SELL" if trade.buyer_is_maker else "BUY"
                payload = {
                    "channel": "trades",
                    "price": trade.price,
                    "side": side,
                    "size": trade.size,
                    "timestamp": now,
                    "symbol": symbol,
                }
                yield Publication(topic, payload, symbol)
        topic = f"{symbol}|ticker"
        if venue.has_subscribers(topic):
            bid, ask = venue.markets[symbol].best()
            last = update.trades[-1].price if update.trades else bid
            payload = {
                "channel": "ticker",
                "ask": ask,
                "bid": bid,
                "high": ask,
                "last": last,
                "low": bid,
                "symbol": symbol,
                "timestamp": now,
                "volume": "0",
            }
            yield Publication(topic, payload, symbol)

    # ---------------------------------------------------------------- account

    def open_positions(self) -> list[FakePosition]:
        return [p for p in self.venue.account.positions.values() if Decimal(p.amount) != 0]

    def position_item(self, position: FakePosition) -> dict[str, Any]:
        amount = Decimal(position.amount)
        return {
            "positionId": self._position_ids.setdefault(position.symbol, self._new_position_id()),
            "symbol": position.symbol,
            "side": "BUY" if amount > 0 else "SELL",
            "size": format(abs(amount), "f"),
            "orderdSize": "0",
            "price": position.entry_price,
            "lossGain": "0",
            "leverage": "2",
            "losscutPrice": "0",
            "timestamp": iso(self.venue.now_ms()),
        }

    def summary_item(self, position: FakePosition) -> dict[str, Any]:
        amount = Decimal(position.amount)
        return {
            "averagePositionRate": position.entry_price,
            "positionLossGain": "0",
            "side": "BUY" if amount > 0 else "SELL",
            "sumOrderQuantity": "0",
            "sumPositionQuantity": format(abs(amount), "f"),
            "symbol": position.symbol,
        }

    def _summary_event(self, position: FakePosition, kind: str) -> dict[str, Any]:
        return {
            "channel": "positionSummaryEvents",
            **self.summary_item(position),
            "timestamp": iso(self.venue.now_ms()),
            "msgType": kind,
        }

    def _new_position_id(self) -> int:
        self._next_position_id += 1
        return self._next_position_id

    def _order_event(self, order: FakeOrder, kind: str, status: str) -> dict[str, Any]:
        return {
            "channel": "orderEvents",
            "orderId": order.order_id,
            "symbol": order.symbol,
            "settleType": "OPEN",
            "executionType": order.order_type,
            "side": order.side,
            "orderStatus": status,
            "cancelType": "USER" if status == "CANCELED" else "",
            "orderTimestamp": iso(order.created),
            "orderPrice": order.price,
            "orderSize": order.quantity,
            "orderExecutedSize": order.executed,
            "losscutPrice": "0",
            "timeInForce": "FAS",
            "msgType": kind,
        }

    def _execution_event(self, event: AccountEvent, order: FakeOrder) -> dict[str, Any]:
        self._next_execution_id += 1
        item = {
            "orderId": order.order_id,
            "executionId": self._next_execution_id,
            "symbol": order.symbol,
            "settleType": "OPEN",
            "executionType": order.order_type,
            "side": order.side,
            "executionPrice": event.last_price,
            "executionSize": event.last_quantity,
            "orderTimestamp": iso(order.created),
            "executionTimestamp": iso(event.time),
            "lossGain": "0",
            "fee": "0",
            "orderPrice": order.price,
            "orderSize": order.quantity,
            "orderExecutedSize": order.executed,
            "timeInForce": "FAS",
        }
        self.executions.append(
            {k: item[k] for k in ("orderId", "executionId", "symbol", "side", "fee")}
            | {"price": event.last_price, "size": event.last_quantity, "timestamp": iso(event.time)}
        )
        return {"channel": "executionEvents", **item, "msgType": "ER"}

    def account_messages(self, event: AccountEvent) -> Iterable[Any]:
        # Each private channel is its own topic: published here, nothing on "user".
        order = event.order
        messages: list[dict[str, Any]] = []
        if event.kind == "order" and order is not None:
            if event.execution == "NEW":
                messages.append(self._order_event(order, "NOR", "ORDERED"))
            elif event.execution == "CANCELED":
                messages.append(self._order_event(order, "COR", "CANCELED"))
            elif event.execution == "TRADE":
                messages.append(self._execution_event(event, order))
        elif event.kind == "position":
            for position in event.positions:
                known = position.symbol in self._position_ids
                item = self.position_item(position)
                if Decimal(position.amount) == 0:
                    self._position_ids.pop(position.symbol, None)
                    kind = "CPR"
                else:
                    kind = "UPR" if known else "OPR"
                messages.append({"channel": "positionEvents", **item, "msgType": kind})
                messages.append(self._summary_event(position, "UPDATE"))
        for message in messages:
            self.venue.publish_text(f"user|{message['channel']}", _json.dumps(message))
        return ()

    # ----------------------------------------------------------------- faults

    def start_maintenance(self) -> None:
        """The weekly maintenance begins: every connection drops, handshakes get 503,
        REST answers ``ERR-5201``."""
        self.in_maintenance = True
        for conn in list(self.venue.connections):
            conn.close(code=1001)

    def end_maintenance(self) -> list[str]:
        """The maintenance is over; no token survived it. Returns the tokens lost."""
        self.in_maintenance = False
        lost = list(self.rest.tokens)
        self.rest.tokens.clear()
        return lost

    def expire_token(self) -> list[str]:
        expired = list(self.rest.tokens)
        self.rest.tokens.clear()
        for conn in list(self.venue.connections):
            if "token" in conn.state:
                conn.close(code=1000)
        return expired

    def malformed_message(self, symbol: str) -> Any:
        return {
            "channel": "orderbooks",
            "asks": "oops",
            "bids": [{"price": None}],
            "symbol": symbol,
            "timestamp": iso(self.venue.now_ms()),
        }

    def unknown_channel_message(self, symbol: str) -> Any:
        return {"channel": "gmocoin-unknown", "symbol": symbol}

    def rest_error(self, status: int) -> Any:
        return {
            "status": 5 if status >= 500 else 1,
            "messages": [{"message_code": "ERR-5003", "message_string": f"HTTP {status}"}],
        }


PROFILES: dict[str, type[ExchangeProfile]] = {GMOCoinProfile.name: GMOCoinProfile}
