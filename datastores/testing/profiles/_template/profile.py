"""The example exchange's fake venue: the market on the ``book`` and ``trade`` channels,
a signed REST endpoint, and the faults in the exchange's own shapes.

TODO(<x>): your exchange's facts, each with the doc link it comes from, e.g.

* ``wss://stream.example.invalid/ws``: ``{"op": "subscribe", "channel": "book",
  "symbol": ...}`` answered ``{"op": "subscribe", "success": true, ...}``, then a
  ``snapshot`` and ``update`` messages whose ``first`` is the previous ``last`` + 1;
  ``{"op": "ping"}`` answered ``{"op": "pong"}``;
* ``GET https://api.example.invalid/api/v1/account``: signed (see ``verifier.py``).

How a profile is written: :mod:`datastores.testing._profile` and docs/testing.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal

from aiohttp import web

from .... import _json
from ..._profile import ExchangeProfile, Publication
from ..._verify import FakeKey, ReceivedRequest, Rejected
from ...fake import FakeConnection, iter_levels
from ...market import MarketConfig, MarketUpdate
from .dialect import ExampleDialect
from .verifier import example_error, verify_example

__all__ = ["PROFILES", "ExampleProfile"]


class ExampleProfile(ExchangeProfile):
    """The example exchange's only venue (``FakeExchange("_template")``)."""

    name = "_template"
    exchange = "example"
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {
        "api.example.invalid": "http",
        "stream.example.invalid": "ws",
    }
    default_symbols = ("BTC-USD",)

    def __init__(self, venue: Any) -> None:
        super().__init__(venue)
        self._dialect = ExampleDialect()

    def market_config(self, symbol: str) -> MarketConfig:
        return MarketConfig(symbol, "0.1", "0.001", "30000", levels=200)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/ws", self._ws),
            web.get("/api/v1/account", self._account),
        ]

    # -------------------------------------------------------------- websocket

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        return await self.venue.serve_websocket(request, self._on_text)

    def _on_text(self, conn: FakeConnection, text: str) -> None:
        pong = self._dialect.pong(text, conn.path, self.venue.clock.time())
        if pong is not None:
            if self.venue.faults.answer_pings:
                conn.send_text(pong)
            return
        try:
            request = _json.loads(text)
            op, channel, symbol = request["op"], request["channel"], request["symbol"]
        except (ValueError, TypeError, KeyError):
            conn.send_json({"op": "error", "success": False, "message": "bad request"})
            return
        if channel not in ("book", "trade") or symbol not in self.venue.markets:
            conn.send_json({"op": op, "success": False, "message": f"unknown {channel} {symbol}"})
            return
        topic = f"{symbol}|{channel}"
        reply = {"op": op, "channel": channel, "symbol": symbol, "success": True}
        if op == "unsubscribe":
            conn.unsubscribe(topic)
            conn.send_json(reply)
        elif op == "subscribe":
            conn.subscribe(topic)
            conn.send_json(reply)
            if channel == "book":
                # Synchronous with the market: no update can slip in between.
                conn.send_json(self._snapshot(symbol))
        else:
            conn.send_json({"op": op, "success": False, "message": "unknown op"})

    def _snapshot(self, symbol: str) -> dict[str, Any]:
        book = self.venue.book(symbol)
        bids, asks = book.top()
        data = {
            "first": book.last_update_id,
            "last": book.last_update_id,
            "asks": iter_levels(asks),
            "bids": iter_levels(bids),
        }
        return {"channel": "book", "type": "snapshot", "symbol": symbol, "data": data}

    def market_messages(self, update: MarketUpdate) -> Iterable[Publication]:
        symbol = update.symbol
        topic = f"{symbol}|book"
        if self.venue.has_subscribers(topic):
            data = {
                "first": update.first_id,
                "last": update.last_id,
                "asks": iter_levels(update.asks),
                "bids": iter_levels(update.bids),
            }
            payload = {"channel": "book", "type": "update", "symbol": symbol, "data": data}
            yield Publication(topic, payload, symbol, book=True)
        topic = f"{symbol}|trade"
        if update.trades and self.venue.has_subscribers(topic):
            trades = [
                {
                    "id": t.trade_id,
                    "price": t.price,
                    "size": t.size,
                    "side": "sell" if t.buyer_is_maker else "buy",
                }
                for t in update.trades
            ]
            yield Publication(topic, {"channel": "trade", "symbol": symbol, "data": trades})

    # ------------------------------------------------------------------- REST

    async def _account(self, request: web.Request) -> web.Response:
        received = await ReceivedRequest.of(request, "api.example.invalid")
        keys = {self.venue.api_key: FakeKey(self.venue.api_key, self.venue.api_secret)}
        try:
            verify_example(received, keys, self.venue.clock.time())
        except Rejected as rejected:
            status, body = example_error(rejected)
            return web.json_response(body, status=status, dumps=_json.dumps)
        balances = [
            {"asset": b.asset, "free": b.free, "locked": b.locked}
            for b in self.venue.account.balances.values()
        ]
        return web.json_response({"code": 0, "balances": balances}, dumps=_json.dumps)

    # ----------------------------------------------------------------- faults

    def malformed_message(self, symbol: str) -> Any:
        data: dict[str, Any] = {"first": "x", "last": None, "asks": [], "bids": []}
        return {"channel": "book", "type": "update", "symbol": symbol, "data": data}

    def unknown_channel_message(self, symbol: str) -> Any:
        return {"channel": "example-unknown", "symbol": symbol, "data": {}}

    def rest_error(self, status: int) -> Any:
        return {"code": status, "message": f"HTTP {status}"}


PROFILES: dict[str, type[ExchangeProfile]] = {ExampleProfile.name: ExampleProfile}
