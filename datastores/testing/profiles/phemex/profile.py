"""The fake Phemex: one venue serving ``wss://ws.phemex.com`` and ``api.phemex.com``.

From the documentation (https://phemex-docs.github.io/) and the 2026-09 wire notes:

* one socket for every family: ``orderbook.subscribe`` (COIN-M ``BTCUSD``, spot
  ``sBTCUSDT``) and ``orderbook_p.subscribe`` (USDⓈ-M ``BTCUSDT``) with params
  ``[symbol]`` (30 levels), ``[symbol, true]`` (full book), ``[symbol, false, n]``
  (n of 0 = 30, 1, 5, 10, 30; 20 is refused); the wrong family or an unknown symbol
  is ``{"error": {"code": 6001, "message": "invalid argument"}, ...}``;
  ``orderbook(_p).unsubscribe`` with ``[]`` stops every book of that family on the
  socket. ``trade(_p).subscribe``; ``aop(_p).subscribe`` after ``user.auth``;
* a book ``snapshot`` on subscription and every :attr:`PhemexProfile.snapshot_every`
  updates of a symbol (Phemex: about every 60 s), ``incremental`` otherwise
  (:mod:`._market`); :meth:`PhemexProfile.publish_snapshots` sends one at once;
* the 30 s rule: a socket that has sent no ``server.ping`` for 30 s is closed, even
  while it receives data (protocol ping frames are answered but do not count here);
* ``GET /g-accounts/accountPositions`` signed (``verifier.py``).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, Literal

from aiohttp import web

from .... import _json
from ..._profile import ExchangeProfile, Publication
from ..._verify import FakeKey, ReceivedRequest, Rejected
from ...account import AccountEvent
from ...fake import FakeConnection
from ...market import MarketConfig, MarketUpdate
from ._market import BookViews, family
from .dialect import PhemexDialect
from .verifier import phemex_error, verify_phemex

__all__ = ["PING_RULE", "PROFILES", "PhemexProfile"]

#: seconds a socket may go without a client ping (https://phemex-docs.github.io/#heartbeat)
PING_RULE = 30.0
#: the depths a subscription may ask for (0: the full book)
_DEPTHS = frozenset({0, 1, 5, 10, 30})
#: the account id of the fake's USDⓈ-M (``...3``) and COIN-M (``...1``) accounts
ACCOUNT_P, ACCOUNT = 675340003, 675340001
_STATUS = {
    "NEW": "New",
    "PARTIALLY_FILLED": "PartiallyFilled",
    "FILLED": "Filled",
    "CANCELED": "Canceled",
}


class PhemexProfile(ExchangeProfile):
    """Phemex (``FakeExchange("phemex")``): COIN-M, USDⓈ-M and spot on one socket."""

    name = "phemex"
    exchange = "phemex"
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {
        "api.phemex.com": "http",
        "ws.phemex.com": "ws",
    }
    default_symbols = ("BTCUSDT",)
    #: market updates of a symbol between two periodic book snapshots
    snapshot_every: ClassVar[int] = 200

    def __init__(self, venue: Any) -> None:
        super().__init__(venue)
        self._dialect = PhemexDialect()
        self._views = BookViews()
        self._sequence = itertools.count(1_000_000)
        self._book_sequence: dict[str, int] = {}
        self._since_snapshot: dict[str, int] = {}

    def market_config(self, symbol: str) -> MarketConfig:
        if symbol.startswith("s"):
            return MarketConfig(symbol, "0.01", "0.000001", "65000", levels=200)
        if symbol.endswith("USDT"):
            return MarketConfig(symbol, "0.1", "0.001", "65000", levels=200)
        return MarketConfig(symbol, "0.5", "1", "65000", levels=200)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self._ws),
            web.get("/ws", self._ws),
            web.get("/g-accounts/accountPositions", self._account_positions),
            web.get("/exchange/public/md/v2/kline/last", self._kline_last),
        ]

    def book_sequence(self, symbol: str) -> int | None:
        """The ``sequence`` of the last book message made for ``symbol``."""
        return self._book_sequence.get(symbol)

    # -------------------------------------------------------------- websocket

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        watchdogs: list[asyncio.Future[None]] = []

        def on_open(conn: FakeConnection) -> None:
            conn.state["pinged"] = self.venue.clock.monotonic()
            watchdogs.append(asyncio.ensure_future(self._ping_rule(conn)))

        try:
            return await self.venue.serve_websocket(request, self._on_text, on_open=on_open)
        finally:
            for watchdog in watchdogs:
                watchdog.cancel()

    async def _ping_rule(self, conn: FakeConnection) -> None:
        clock = self.venue.clock
        while not conn.closing:
            left = conn.state["pinged"] + PING_RULE - clock.monotonic()
            if left <= 0:
                conn.state["closed_for_no_ping"] = True
                conn.close(code=1000)
                return
            await clock.sleep(left)

    def _on_text(self, conn: FakeConnection, text: str) -> None:
        now = self.venue.clock.time()
        pong = self._dialect.pong(text, conn.path, now)
        if pong is not None:
            conn.state["pinged"] = self.venue.clock.monotonic()
            if self.venue.faults.answer_pings:
                conn.send_text(pong)
            return
        keys = {self.venue.api_key: FakeKey(self.venue.api_key, self.venue.api_secret)}
        check = self._dialect.login(text, conn.path, keys, now)
        if check is not None:
            conn.state["authorized"] = check.ok
            conn.send_json(check.reply)
            return
        try:
            request = _json.loads(text)
            method, params, req_id = request["method"], request.get("params", []), request["id"]
        except (ValueError, TypeError, KeyError):
            conn.send_json({"error": {"code": 6001, "message": "invalid argument"}, "id": None})
            return
        if not isinstance(method, str) or not isinstance(params, list):
            self._error(conn, req_id)
        elif method in ("orderbook.subscribe", "orderbook_p.subscribe"):
            self._subscribe_book(conn, method, params, req_id)
        elif method in ("orderbook.unsubscribe", "orderbook_p.unsubscribe"):
            self._unsubscribe_books(conn, method.split(".")[0], params, req_id)
        elif method in ("trade.subscribe", "trade_p.subscribe"):
            symbol = params[0] if params else None
            if not self._known(symbol, "trades_p" if method == "trade_p.subscribe" else "trades"):
                self._error(conn, req_id)
                return
            conn.subscribe(f"{symbol}|trade")
            self._ok(conn, req_id)
        elif method in ("aop.subscribe", "aop_p.subscribe"):
            self._subscribe_aop(conn, method == "aop_p.subscribe", req_id)
        else:
            self._error(conn, req_id, 6001, f"unknown method {method[:40]}")

    def _ok(self, conn: FakeConnection, req_id: Any) -> None:
        conn.send_json({"error": None, "id": req_id, "result": {"status": "success"}})

    def _error(
        self, conn: FakeConnection, req_id: Any, code: int = 6001, message: str = "invalid argument"
    ) -> None:
        conn.send_json({"error": {"code": code, "message": message}, "id": req_id, "result": None})

    def _known(self, symbol: object, key: str) -> bool:
        """``symbol`` is listed and belongs to the family whose data key is ``key``."""
        if not isinstance(symbol, str) or symbol not in self.venue.markets:
            return False
        fam = family(symbol)
        return key in (fam.key, fam.trades_key)

    def _subscribe_book(
        self, conn: FakeConnection, method: str, params: list[Any], req_id: Any
    ) -> None:
        symbol = params[0] if params else None
        key = "orderbook_p" if method == "orderbook_p.subscribe" else "book"
        depth: object = 30
        if len(params) >= 2 and params[1] is True:
            depth = 0
        elif len(params) >= 3:
            depth = params[2] or 30  # [symbol, false, 0] is 30 levels, not the full book
        if not self._known(symbol, key) or depth not in _DEPTHS:
            self._error(conn, req_id)
            return
        assert isinstance(symbol, str)
        assert isinstance(depth, int)
        topic = f"{symbol}|book|{depth}"
        fresh = not self.venue.has_subscribers(topic)
        conn.subscribe(topic)
        self._ok(conn, req_id)
        if fresh:
            self._views.forget(symbol, depth)
        # Synchronous with the market: no update slips in between.
        conn.send_json(self._book_message(symbol, depth, "snapshot", None))

    def _unsubscribe_books(
        self, conn: FakeConnection, prefix: str, params: list[Any], req_id: Any
    ) -> None:
        key = "orderbook_p" if prefix == "orderbook_p" else "book"
        for topic in list(conn.subscriptions):
            symbol, _, kind = topic.partition("|")
            wanted = not params or symbol in params
            if kind.startswith("book|") and family(symbol).key == key and wanted:
                conn.unsubscribe(topic)
        self._ok(conn, req_id)

    def _book_message(
        self, symbol: str, depth: int, kind: str, update: MarketUpdate | None
    ) -> dict[str, Any]:
        market = self.venue.markets[symbol]
        if update is None:
            asks, bids = self._views.snapshot(market, depth)
        else:
            asks, bids = self._views.incremental(market, depth, update)
        sequence = next(self._sequence)
        self._book_sequence[symbol] = sequence
        return {
            family(symbol).key: {"asks": asks, "bids": bids},
            "depth": depth,
            "sequence": sequence,
            "symbol": symbol,
            "timestamp": self.venue.now_ms() * 1_000_000,
            "type": kind,
        }

    def publish_snapshots(self, symbol: str | None = None) -> int:
        """Send every book subscription of ``symbol`` (or of every symbol) its periodic
        snapshot now. Returns how many were published."""
        sent = 0
        for name in [symbol] if symbol is not None else list(self.venue.markets):
            self._since_snapshot[name] = 0
            for depth in sorted(_DEPTHS):
                topic = f"{name}|book|{depth}"
                if self.venue.has_subscribers(topic):
                    message = self._book_message(name, depth, "snapshot", None)
                    self.venue.publish(Publication(topic, message, name))
                    sent += 1
        return sent

    def market_messages(self, update: MarketUpdate) -> Iterable[Publication]:
        symbol = update.symbol
        count = self._since_snapshot.get(symbol, 0) + 1
        self._since_snapshot[symbol] = count
        for depth in sorted(_DEPTHS):
            topic = f"{symbol}|book|{depth}"
            if self.venue.has_subscribers(topic):
                message = self._book_message(symbol, depth, "incremental", update)
                yield Publication(topic, message, symbol, book=True)
        topic = f"{symbol}|trade"
        if update.trades and self.venue.has_subscribers(topic):
            fam = family(symbol)
            stamp = self.venue.now_ms() * 1_000_000
            rows = [
                [stamp, "Sell" if t.buyer_is_maker else "Buy", fam.price(t.price), fam.size(t.size)]
                for t in update.trades
            ]
            message = {
                "sequence": next(self._sequence),
                "symbol": symbol,
                fam.trades_key: rows,
                "type": "incremental",
            }
            yield Publication(topic, message, symbol)
        if count >= self.snapshot_every:
            self.publish_snapshots(symbol)

    # ---------------------------------------------------------------- private

    def _subscribe_aop(self, conn: FakeConnection, hedged: bool, req_id: Any) -> None:
        if not conn.state.get("authorized"):
            self._error(conn, req_id, 6012, "unauthorized")
            return
        conn.subscribe("user")
        self._ok(conn, req_id)
        account = self.venue.account
        suffix = "_p" if hedged else ""
        conn.send_json(
            {
                f"accounts{suffix}": [_account_row(b, hedged) for b in account.balances.values()],
                f"orders{suffix}": [_order_row(o, hedged, "New") for o in account.open_orders()],
                f"positions{suffix}": [
                    _position_row(p, hedged) for p in account.positions.values()
                ],
                "sequence": next(self._sequence),
                "timestamp": self.venue.now_ms() * 1_000_000,
                "type": "snapshot",
            }
        )

    def account_messages(self, event: AccountEvent) -> Iterable[Any]:
        """AOP incrementals, USDⓈ-M (``_p``) for USDⓈ-M symbols and balances."""
        hedged = True
        rows: dict[str, list[Any]] = {}
        if event.order is not None:
            hedged = family(event.order.symbol).key == "orderbook_p"
            action = "Cancel" if event.execution == "CANCELED" else "New"
            rows["orders"] = [_order_row(event.order, hedged, action)]
        rows["accounts"] = [_account_row(b, hedged) for b in event.balances]
        rows["positions"] = [_position_row(p, hedged) for p in event.positions]
        suffix = "_p" if hedged else ""
        message: dict[str, Any] = {f"{k}{suffix}": v for k, v in rows.items()}
        message |= {
            "sequence": next(self._sequence),
            "timestamp": event.time * 1_000_000,
            "type": "incremental",
        }
        return [message]

    # ------------------------------------------------------------------- REST

    async def _kline_last(self, request: web.Request) -> web.Response:
        """``GET /exchange/public/md/v2/kline/last?symbol=&resolution=&limit=``
        (https://phemex-docs.github.io/#query-kline): the last ``limit`` bars of
        USDⓈ-M rows (decimal strings), flat at the market's start price."""
        symbol = request.query.get("symbol", "")
        try:
            resolution = int(request.query.get("resolution", "60"))
            limit = min(int(request.query.get("limit", "5")), 1000)
        except ValueError:
            return web.json_response({"code": 10001, "msg": "invalid argument", "data": None})
        if not symbol or resolution <= 0:
            return web.json_response({"code": 10001, "msg": "invalid argument", "data": None})
        price = self.market_config(symbol).start_price
        last = int(self.venue.clock.time()) // resolution * resolution
        rows = [
            [last - i * resolution, resolution, price, price, price, price, price, "0", "0"]
            for i in reversed(range(limit))
        ]
        body = {"code": 0, "msg": "OK", "data": {"total": -1, "rows": rows}}
        return web.json_response(body, dumps=_json.dumps)

    async def _account_positions(self, request: web.Request) -> web.Response:
        received = await ReceivedRequest.of(request, "api.phemex.com")
        keys = {self.venue.api_key: FakeKey(self.venue.api_key, self.venue.api_secret)}
        try:
            verify_phemex(received, keys, self.venue.clock.time())
        except Rejected as rejected:
            status, body = phemex_error(rejected)
            return web.json_response(body, status=status, dumps=_json.dumps)
        currency = request.query.get("currency", "USDT")
        balance = self.venue.account.balances.get(currency)
        data = {
            "account": _account_row(balance, True) if balance else None,
            "positions": [_position_row(p, True) for p in self.venue.account.positions.values()],
        }
        return web.json_response({"code": 0, "msg": "", "data": data}, dumps=_json.dumps)

    # ----------------------------------------------------------------- faults

    def malformed_message(self, symbol: str) -> Any:
        key = family(symbol).key
        book: dict[str, list[Any]] = {"asks": [], "bids": []}
        return {key: book, "depth": 30, "sequence": "x", "symbol": symbol, "type": "incremental"}

    def unknown_channel_message(self, symbol: str) -> Any:
        return {"fake_unknown_p": {"x": 1}, "sequence": 1, "symbol": symbol}

    def rest_error(self, status: int) -> Any:
        return {"code": status, "msg": f"HTTP {status}", "data": None}


def _account_row(balance: Any, hedged: bool) -> dict[str, Any]:
    total = str(Decimal(balance.free) + Decimal(balance.locked))
    if hedged:
        return {
            "accountID": ACCOUNT_P,
            "currency": balance.asset,
            "accountBalanceRv": total,
            "totalUsedBalanceRv": balance.locked,
        }
    scale = Decimal(10) ** 8
    return {
        "accountID": ACCOUNT,
        "currency": balance.asset,
        "accountBalanceEv": int(Decimal(total) * scale),
        "totalUsedBalanceEv": int(Decimal(balance.locked) * scale),
    }


def _order_row(order: Any, hedged: bool, action: str) -> dict[str, Any]:
    fam = family(order.symbol)
    row: dict[str, Any] = {
        "accountID": ACCOUNT_P if hedged else ACCOUNT,
        "action": action,
        "clOrdID": order.client_order_id,
        "orderID": str(order.order_id),
        "ordStatus": _STATUS.get(order.status, order.status),
        "ordType": "Limit" if order.order_type == "LIMIT" else "Market",
        "side": "Buy" if order.side == "BUY" else "Sell",
        "symbol": order.symbol,
        "transactTimeNs": order.updated * 1_000_000,
    }
    if hedged:
        row |= {"priceRp": order.price, "orderQtyRq": order.quantity, "cumQtyRq": order.executed}
    else:
        row |= {
            "priceEp": fam.price(order.price),
            "orderQty": fam.size(order.quantity),
            "cumQty": fam.size(order.executed),
        }
    return row


def _position_row(position: Any, hedged: bool) -> dict[str, Any]:
    fam = family(position.symbol)
    if hedged:
        return {
            "accountID": ACCOUNT_P,
            "symbol": position.symbol,
            "posSide": "Merged",
            "sizeRq": position.amount,
            "avgEntryPriceRp": position.entry_price,
        }
    return {
        "accountID": ACCOUNT,
        "symbol": position.symbol,
        "size": fam.size(position.amount),
        "avgEntryPriceEp": fam.price(position.entry_price),
    }


PROFILES: dict[str, type[ExchangeProfile]] = {PhemexProfile.name: PhemexProfile}
