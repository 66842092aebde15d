"""BitMEX fake-exchange profile: the Realtime API tables and a few REST endpoints.

Facts (https://www.bitmex.com/app/wsAPI, https://www.bitmex.com/app/apiKeysUsage, the
official connectors, the shared reference ``exchanges-wave2.md`` section 6):

* ``wss://ws.bitmex.com/realtime``: a welcome ``{"info": ..., "version": ...}`` first;
  ``{"op": "subscribe", "args": ["orderBookL2:XBTUSD", ...]}`` is answered per topic with
  ``{"success": true, "subscribe": topic, "request": ...}``, then the table's
  ``partial``; unknown topics get ``{"status": 400, "error": ...}``. Text ``ping`` ->
  ``pong``. Private tables need a signed upgrade request (checked by the dialect).
* ``orderBookL2``: per market update, a ``delete``, an ``update`` (rows without
  ``price`` by default, as in the 2021 capture) and an ``insert`` message, each only
  when it has rows. No sequence, no checksum.
* REST under ``/api/v1`` signed with ``api-expires``/``api-key``/``api-signature``
  (checked by the independent verifier): ``GET/POST/DELETE /order``, ``GET /position``,
  ``/user/margin``, ``/user/wallet``; public ``GET /orderBook/L2``, ``/instrument``.

Quirks on demand (attributes of the profile, ``fake.venues["bitmex"].profile``):
``update_prices`` (update rows repeat ``price``, as newer feeds reportedly do),
``repartial_every`` (send a fresh partial every N updates of a market, as BitMEX may),
:meth:`send_partials` (a re-partial now) and :meth:`lose_next` (withhold the next
``insert``/``update``/``delete`` message of a market: a missed deletion...). The shared
``skip_sequence`` fault withholds the next ``insert`` message: the loss a client can see
once that row changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from aiohttp import web

from .... import _json
from ..._profile import ExchangeProfile, Publication
from ..._verify import FakeKey, ReceivedRequest, Rejected
from ...market import MarketConfig
from ._rows import (
    ACCOUNT,
    BookTable,
    account_rows,
    iso,
    margin_row,
    order_id,
    order_row,
    position_row,
    wallet_row,
)
from .dialect import BitmexDialect
from .verifier import bitmex_error, verify_bitmex

if TYPE_CHECKING:
    from ...account import AccountEvent
    from ...fake import FakeConnection, Venue
    from ...market import MarketUpdate

__all__ = ["PROFILES", "BitmexProfile"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_PUBLIC = frozenset({"orderBookL2", "orderBook10", "trade", "quote", "instrument"})
_PRIVATE = frozenset({"order", "execution", "position", "margin", "wallet"})
_L2 = frozenset({"orderBookL2"})


def _message(table: str, action: str, rows: list[Any], **extra: Any) -> dict[str, Any]:
    return {"table": table, "action": action, **extra, "data": rows}


class BitmexProfile(ExchangeProfile):
    """The BitMEX venue: perpetual swaps ``XBTUSD`` and ``ETHUSD``.

    Attributes:
        operations: ``(connection id, op, args)`` of the client's requests.
        update_prices: update rows carry ``price`` too.
        repartial_every: send each L2 subscriber a fresh partial every this many
            updates of its market (0: never).
    """

    name = "bitmex"
    exchange = "bitmex"
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {
        "www.bitmex.com": "http",
        "ws.bitmex.com": "ws",
    }
    default_symbols = ("XBTUSD", "ETHUSD")
    configs: ClassVar[Mapping[str, MarketConfig]] = {
        "XBTUSD": MarketConfig("XBTUSD", "0.5", "1", "65000"),
        "ETHUSD": MarketConfig("ETHUSD", "0.05", "1", "3200"),
    }

    def __init__(self, venue: Venue) -> None:
        super().__init__(venue)
        self._dialect = BitmexDialect()
        self._tables: dict[str, BookTable] = {}
        self._updates: dict[str, int] = {}
        self._lose: dict[str, list[str]] = {}
        self.operations: list[tuple[int, str, tuple[str, ...]]] = []
        self.update_prices = False
        self.repartial_every = 0

    def market_config(self, symbol: str) -> MarketConfig:
        return self.configs.get(symbol) or MarketConfig(symbol, "0.5", "1", "100")

    def _now(self) -> str:
        return iso(self.venue.now_ms())

    def _table(self, symbol: str) -> BookTable:
        table = self._tables.get(symbol)
        if table is None:
            market = self.venue.markets[symbol]
            index = list(self.venue.markets).index(symbol)
            table = self._tables[symbol] = BookTable(market, index, self.venue.seed)
        return table

    # ------------------------------------------------------------- test hooks

    def lose_next(self, symbol: str, action: Literal["insert", "update", "delete"]) -> None:
        """Withhold the next ``action`` message of ``symbol``'s book from every client."""
        self._lose.setdefault(symbol, []).append(action)

    def send_partials(self, symbol: str | None = None) -> int:
        """Send every L2 subscriber of ``symbol`` (all markets) a fresh partial now."""
        sent = 0
        for name in [symbol] if symbol is not None else list(self.venue.markets):
            for conn in list(self.venue.connections):
                for table in _L2:
                    if f"{table}:{name}" in conn.subscriptions:
                        self._send_partial(conn, table, name)
                        sent += 1
        return sent

    def position(self, symbol: str) -> int | None:
        """The L2 messages sent since the last partial on the newest connection
        subscribed to ``symbol``'s book (what the client's ``last_update_id`` shows
        once it applied them all), or ``None``."""
        found = None
        for conn in self.venue.connections:
            for table in _L2:
                count = conn.state.get(f"{table}:{symbol}")
                if count is not None and (found is None or conn.id > found[0]):
                    found = (conn.id, count)
        return None if found is None else found[1]

    # ----------------------------------------------------------------- routing

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/realtime", self._ws),
            web.get("/api/v1/orderBook/L2", self._rest_book),
            web.get("/api/v1/instrument", self._rest_instrument),
            web.get("/api/v1/order", self._signed(self._rest_orders)),
            web.post("/api/v1/order", self._signed(self._rest_place)),
            web.delete("/api/v1/order", self._signed(self._rest_cancel)),
            web.get("/api/v1/position", self._signed(self._rest_positions)),
            web.get("/api/v1/user/margin", self._signed(self._rest_margin)),
            web.get("/api/v1/user/wallet", self._signed(self._rest_wallet)),
        ]

    def _keys(self) -> dict[str, FakeKey]:
        venue = self.venue
        return {venue.api_key: FakeKey(venue.api_key, venue.api_secret)}

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        check = self._dialect.check_handshake(
            request.path, request.headers, self._keys(), self.venue.clock.time()
        )
        if check is not None and not check.ok:
            body = {"error": {"message": check.reason, "name": "HTTPError"}}
            return web.json_response(body, status=401, dumps=_json.dumps)
        authorized = check is not None

        def opened(conn: FakeConnection) -> None:
            conn.state["authorized"] = authorized
            for text in self._dialect.greeting(request.path, request.query):
                conn.send_text(text)

        return await self.venue.serve_websocket(request, self._on_text, on_open=opened)

    def _on_text(self, conn: FakeConnection, text: str) -> None:
        if text == "ping":
            if self.venue.faults.answer_pings:
                conn.send_text("pong")
            return
        try:
            message = _json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            conn.send_json({"status": 400, "error": "Unable to parse request.", "meta": {}})
            return
        op, args = message.get("op"), message.get("args")
        topics = [args] if isinstance(args, str) else args if isinstance(args, list) else []
        self.operations.append((conn.id, str(op), tuple(str(t) for t in topics)))
        if op == "subscribe":
            for topic in topics:
                self._subscribe(conn, str(topic), message)
        elif op == "unsubscribe":
            for topic in topics:
                conn.unsubscribe(str(topic))
                conn.state.pop(str(topic), None)
                conn.send_json({"success": True, "unsubscribe": topic, "request": message})
        else:
            error = f"Unknown or unsupported op: {op}"
            conn.send_json({"status": 400, "error": error, "meta": {}, "request": message})

    def _subscribe(self, conn: FakeConnection, topic: str, request: Any) -> None:
        table, _, symbol = topic.partition(":")
        known = (table in _PUBLIC and (symbol in self.venue.markets or table == "instrument")) or (
            table in _PRIVATE and not symbol
        )
        if not known or (table in _PRIVATE and not conn.state.get("authorized")):
            error = f"Unknown table: {table}" if not known else "Not authenticated."
            status = 400 if not known else 401
            conn.send_json({"status": status, "error": error, "meta": {}, "request": request})
            return
        if topic in conn.subscriptions:
            error = f"You are already subscribed to this topic: {topic}"
            conn.send_json({"status": 400, "error": error, "meta": {}, "request": request})
            return
        conn.send_json({"success": True, "subscribe": topic, "request": request})
        if table in _L2:
            self._send_partial(conn, table, symbol)
            conn.subscribe(f"orderBookL2:{symbol}", self._counter(conn, topic))
        elif table in _PRIVATE:
            self._send_private_partial(conn, table)
            conn.subscribe(f"private:{table}")
        else:
            self._send_public_partial(conn, table, symbol)
            conn.subscribe(topic)

    @staticmethod
    def _counter(conn: FakeConnection, topic: str) -> Callable[[str], str]:
        def count(text: str) -> str:
            conn.state[topic] = conn.state.get(topic, 0) + 1
            return text

        return count

    def _send_partial(self, conn: FakeConnection, table: str, symbol: str) -> None:
        rows = self._table(symbol).partial_rows(self.venue.markets[symbol], self._now())
        conn.state[f"{table}:{symbol}"] = 0
        conn.send_json(
            _message(
                table,
                "partial",
                rows,
                keys=["symbol", "id", "side"],
                types={"symbol": "symbol", "id": "long", "side": "symbol", "size": "long"},
                foreignKeys={"symbol": "instrument", "side": "side"},
                attributes={"symbol": "parted", "id": "sorted"},
                filter={"symbol": symbol},
            )
        )

    def _send_public_partial(self, conn: FakeConnection, table: str, symbol: str) -> None:
        scope = {"symbol": symbol} if symbol else {}
        if table == "orderBook10":
            rows = [self._image(symbol)]
            keys = ["symbol"]
        elif table == "quote":
            rows, keys = [self._quote(symbol)], []
        elif table == "instrument":
            names = [symbol] if symbol else list(self.venue.markets)
            rows, keys = [self._instrument(name) for name in names], ["symbol"]
        else:  # trade: the recent trades (none kept by the fake)
            rows, keys = [], []
        conn.send_json(_message(table, "partial", rows, keys=keys, filter=scope))

    def _send_private_partial(self, conn: FakeConnection, table: str) -> None:
        now = self._now()
        account = self.venue.account
        keys = {"order": ["orderID"], "execution": ["execID"], "position": ["account", "symbol"]}
        if table == "order":
            rows = [order_row(o, now) for o in account.open_orders()]
        elif table == "position":
            rows = [position_row(p, now) for p in account.positions.values()]
        elif table == "margin":
            rows = [margin_row(b, now) for b in account.balances.values()]
        elif table == "wallet":
            rows = [wallet_row(b, now) for b in account.balances.values()]
        else:
            rows = []
        keys_of = keys.get(table, ["account", "currency"])
        conn.send_json(_message(table, "partial", rows, keys=keys_of, filter={"account": ACCOUNT}))

    # ------------------------------------------------------------ market data

    def _image(self, symbol: str) -> dict[str, Any]:
        market = self.venue.markets[symbol]
        return {
            "symbol": symbol,
            "bids": [[float(p), int(Decimal(s))] for p, s in market.levels("bid", 10)],
            "asks": [[float(p), int(Decimal(s))] for p, s in market.levels("ask", 10)],
            "timestamp": self._now(),
        }

    def _quote(self, symbol: str) -> dict[str, Any]:
        market = self.venue.markets[symbol]
        (bid, bid_size), (ask, ask_size) = market.levels("bid", 1)[0], market.levels("ask", 1)[0]
        return {
            "timestamp": self._now(),
            "symbol": symbol,
            "bidSize": int(Decimal(bid_size)),
            "bidPrice": float(bid),
            "askPrice": float(ask),
            "askSize": int(Decimal(ask_size)),
        }

    def _instrument(self, symbol: str) -> dict[str, Any]:
        config = self.venue.markets[symbol].config
        bid, ask = self.venue.markets[symbol].best()
        return {
            "symbol": symbol,
            "state": "Open",
            "typ": "FFWCSX",
            "tickSize": float(config.tick_size),
            "lotSize": float(config.lot_size),
            "markPrice": float((Decimal(bid) + Decimal(ask)) / 2),
            "timestamp": self._now(),
        }

    def market_messages(self, update: MarketUpdate) -> Iterable[Publication]:
        symbol = update.symbol
        table = self._table(symbol)  # follows every update, read or not
        now = self._now()
        changes = table.changes(update, now, self.update_prices)
        topic = f"orderBookL2:{symbol}"
        lose = self._lose.get(symbol)
        if self.venue.has_subscribers(topic):
            for action in ("delete", "update", "insert"):
                rows = changes[action]
                if not rows:
                    continue
                if lose and lose[0] == action:
                    lose.pop(0)
                    self.venue.faults.count(f"lose_{action}")
                    continue
                # The skip fault withholds inserts: the loss the client can detect.
                payload = _message("orderBookL2", action, rows)
                yield Publication(topic, payload, symbol, book=action == "insert")
        count = self._updates[symbol] = self._updates.get(symbol, 0) + 1
        if self.repartial_every and count % self.repartial_every == 0:
            self.send_partials(symbol)
        if self.venue.has_subscribers(f"orderBook10:{symbol}"):
            yield Publication(
                f"orderBook10:{symbol}", _message("orderBook10", "update", [self._image(symbol)])
            )
        if self.venue.has_subscribers(f"quote:{symbol}"):
            yield Publication(f"quote:{symbol}", _message("quote", "insert", [self._quote(symbol)]))
        if update.trades and self.venue.has_subscribers(f"trade:{symbol}"):
            rows = [
                {
                    "timestamp": now,
                    "symbol": symbol,
                    "side": "Sell" if t.buyer_is_maker else "Buy",
                    "size": int(Decimal(t.size)),
                    "price": float(t.price),
                    "tickDirection": "ZeroPlusTick",
                    "trdMatchID": order_id(t.trade_id),
                    "trdType": "Regular",
                }
                for t in update.trades
            ]
            yield Publication(f"trade:{symbol}", _message("trade", "insert", rows))
            for name in (f"instrument:{symbol}", "instrument"):
                if self.venue.has_subscribers(name):
                    last = {"symbol": symbol, "lastPrice": rows[-1]["price"], "timestamp": now}
                    yield Publication(name, _message("instrument", "update", [last]))

    def account_messages(self, event: AccountEvent) -> Iterable[Any]:
        for table, action, rows in account_rows(event, iso(event.time)):
            if rows and self.venue.has_subscribers(f"private:{table}"):
                self.venue.publish_text(
                    f"private:{table}", _json.dumps(_message(table, action, rows))
                )
        return ()

    # ------------------------------------------------------------------- REST

    def _signed(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            received = await ReceivedRequest.of(request, "www.bitmex.com")
            try:
                verify_bitmex(received, self._keys(), self.venue.clock.time())
            except Rejected as rejected:
                status, body = bitmex_error(rejected)
                return web.json_response(body, status=status, dumps=_json.dumps)
            return await handler(request)

        return guarded

    @staticmethod
    def _ok(data: Any) -> web.Response:
        return web.json_response(data, dumps=_json.dumps)

    @staticmethod
    def _bad(message: str, status: int = 400) -> web.Response:
        body = {"error": {"message": message, "name": "ValidationError"}}
        return web.json_response(body, status=status, dumps=_json.dumps)

    async def _rest_book(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol", "")
        market = self.venue.markets.get(symbol)
        if market is None:
            return self._bad("symbol is invalid")
        depth = int(request.query.get("depth", "25") or 0)
        rows = self._table(symbol).partial_rows(market, self._now())
        if depth:
            asks = [r for r in rows if r["side"] == "Sell"][:depth]
            bids = [r for r in rows if r["side"] == "Buy"][:depth]
            rows = asks + bids
        return self._ok(rows)

    async def _rest_instrument(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")
        names = [symbol] if symbol in self.venue.markets else list(self.venue.markets)
        return self._ok([self._instrument(name) for name in names if name])

    async def _rest_orders(self, request: web.Request) -> web.Response:
        now = self._now()
        symbol = request.query.get("symbol")
        return self._ok([order_row(o, now) for o in self.venue.account.open_orders(symbol)])

    async def _rest_place(self, request: web.Request) -> web.Response:
        try:
            body = _json.loads(await request.read() or b"{}")
            symbol, side = body["symbol"], body["side"]
            quantity = str(body["orderQty"])
            price = str(body.get("price", "0"))
            kind = str(body.get("ordType", "Limit")).upper()
        except (ValueError, KeyError, TypeError):
            return self._bad("symbol, side and orderQty are required")
        if symbol not in self.venue.markets or side not in ("Buy", "Sell"):
            return self._bad("invalid symbol or side")
        event = self.venue.account.place(
            self.venue.now_ms(), symbol, side.upper(), quantity, price, kind, body.get("clOrdID")
        )
        self.venue.emit_account(event)
        assert event.order is not None
        return self._ok(order_row(event.order, self._now()))

    async def _rest_cancel(self, request: web.Request) -> web.Response:
        try:
            body = _json.loads(await request.read() or b"{}")
            wanted = body["orderID"]
        except (ValueError, KeyError, TypeError):
            return self._bad("orderID is required")
        ids = {order_id(n): n for n in self.venue.account.orders}
        number = ids.get(wanted)
        if number is None or not self.venue.account.orders[number].is_open:
            return self._bad("Not Found", 404)
        event = self.venue.account.cancel(self.venue.now_ms(), number)
        self.venue.emit_account(event)
        assert event.order is not None
        return self._ok([order_row(event.order, self._now())])

    async def _rest_positions(self, request: web.Request) -> web.Response:
        now = self._now()
        return self._ok([position_row(p, now) for p in self.venue.account.positions.values()])

    async def _rest_margin(self, request: web.Request) -> web.Response:
        now = self._now()
        return self._ok([margin_row(b, now) for b in self.venue.account.balances.values()])

    async def _rest_wallet(self, request: web.Request) -> web.Response:
        now = self._now()
        balances = list(self.venue.account.balances.values())
        return self._ok(wallet_row(balances[0], now) if balances else {})

    # ---------------------------------------------------------------- faults

    def rest_error(self, status: int) -> Any:
        name = "RateLimitError" if status == 429 else "HTTPError"
        return {"error": {"message": f"HTTP {status}", "name": name}}

    def malformed_message(self, symbol: str) -> Any:
        return {"table": "orderBookL2", "action": "update", "data": "oops"}

    def unknown_channel_message(self, symbol: str) -> Any:
        return {"table": "fakeUnknownTable", "action": "insert", "data": [{"symbol": symbol}]}


PROFILES: dict[str, type[ExchangeProfile]] = {BitmexProfile.name: BitmexProfile}
