"""Coincheck's fake venue: ``coincheck.com`` (REST), ``ws-api.coincheck.com`` (public
stream) and ``stream.coincheck.com`` (private stream), all on one server.

Modelled from the exchange's documentation (https://coincheck.com/documents/exchange/api)
and the wire facts in the project's reference:

* public socket: ``{"type": "subscribe", "channel": "<pair>-<channel>"}``, one channel
  per frame, never acknowledged; unknown pairs and channels are silently ignored, and
  so is ``unsubscribe``. No snapshot on subscription: the first frame is a diff.
* ``<pair>-orderbook``: ``[pair, {"bids": [[rate, amount]...], "asks": [...],
  "last_update_at": "<epoch seconds>"}]`` with absolute amounts, deletions ("0")
  listed first on each side, no sequence (the documented channel);
* ``<pair>-limit-range-orderbook`` (undocumented): ``[pair, {"sequence_number": n,
  "upper": [{rate, ask_amount, bid_amount}...], "lower": [...], "last_update_at"}]``,
  ``n`` one more per diff and pair (this fake's reading of an undocumented channel);
  each row gives both amounts at its rate;
* ``<pair>-trades``: arrays ``[time, id, pair, rate, amount, taker side, taker order id,
  maker order id, itayose id]``;
* ``GET /api/order_books?pair=`` (at most 200 levels a side) and ``&version=1.0``
  (rows and ``sequence_number``);
* private socket: ``{"type": "login", ...}`` checked by :mod:`.dialect`, then
  ``{"type": "subscribe", "channels": ["order-events", "execution-events"]}``. Coincheck
  pushes no event for a new order; fills push ``PARTIALLY_FILL``/``FILL`` and an
  execution, cancels ``CANCEL``;
* signed REST (:mod:`.verifier`): ``POST /api/exchange/orders`` (limit orders),
  ``DELETE /api/exchange/orders/{id}``, ``GET /api/exchange/orders/opens``,
  ``GET /api/accounts/balance``.

Not modelled: a second subscription of a channel on one socket doubling its frames,
the idle socket closed after about 60 s, the public stream trailing REST by seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl

from aiohttp import web

from .... import _json
from ..._profile import ExchangeProfile, Publication
from ..._verify import FakeKey, ReceivedRequest, Rejected
from ...account import AccountEvent, FakeOrder
from ...fake import FakeConnection
from ...market import MarketConfig, MarketUpdate
from .dialect import CoincheckDialect
from .verifier import CoincheckVerifier, coincheck_error

__all__ = ["PROFILES", "CoincheckProfile"]

_REST_HOST = "coincheck.com"
#: most levels a side ``GET /api/order_books`` returns
_REST_DEPTH = 200
_ORDER_TYPE = {"BUY": "buy", "SELL": "sell"}


def _json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_json.dumps)


def _iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _deletions_first(levels: Iterable[tuple[str, str]]) -> list[list[str]]:
    """``[[rate, amount]]``, deletions first (as the exchange lists them)."""
    pairs = list(levels)
    zero = [[p, s] for p, s in pairs if Decimal(s) == 0]
    return zero + [[p, s] for p, s in pairs if Decimal(s) != 0]


class CoincheckProfile(ExchangeProfile):
    """The Coincheck venue (``btc_jpy`` and ``eth_jpy`` by default)."""

    name: ClassVar[str] = "coincheck"
    exchange: ClassVar[str] = "coincheck"
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {
        _REST_HOST: "http",
        "ws-api.coincheck.com": "ws",
        "stream.coincheck.com": "ws",
    }
    default_symbols: ClassVar[tuple[str, ...]] = ("btc_jpy", "eth_jpy")

    def __init__(self, venue: Any) -> None:
        super().__init__(venue)
        self._dialect = CoincheckDialect()
        self._verifier = CoincheckVerifier()
        #: the last ``sequence_number`` of each pair (one per market update)
        self._sequences: dict[str, int] = {}

    def market_config(self, symbol: str) -> MarketConfig:
        # Rates are whole yen printed with one decimal ("10001000.0"), as on the wire.
        if symbol == "btc_jpy":
            return MarketConfig(symbol, "1", "0.00000001", "10000000", levels=80, price_decimals=1)
        return MarketConfig(symbol, "1", "0.00000001", "400000", levels=80, price_decimals=1)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self._ws),
            web.get("/private", self._ws),
            web.get("/api/order_books", self._order_books),
            web.post("/api/exchange/orders", self._new_order),
            web.delete("/api/exchange/orders/{id}", self._cancel_order),
            web.get("/api/exchange/orders/opens", self._open_orders),
            web.get("/api/accounts/balance", self._balance),
        ]

    def sequence(self, pair: str) -> int:
        """The ``sequence_number`` of ``pair``'s latest diff (sent or withheld)."""
        return self._sequences.get(pair, 0)

    # ---------------------------------------------------------------- market

    def _rows(self, update: MarketUpdate) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """The update's levels as rows (both amounts at each changed rate): the rates
        of ask changes go ``upper``, those of bid changes ``lower``."""
        asks, bids = dict(update.asks), dict(update.bids)
        upper = [
            {"rate": rate, "ask_amount": amount, "bid_amount": bids.get(rate, "0")}
            for rate, amount in update.asks
        ]
        lower = [
            {"rate": rate, "ask_amount": asks.get(rate, "0"), "bid_amount": amount}
            for rate, amount in update.bids
            if rate not in asks
        ]
        return upper, lower

    def market_messages(self, update: MarketUpdate) -> Iterable[Publication]:
        venue, pair = self.venue, update.symbol
        sequence = self._sequences[pair] = self._sequences.get(pair, 0) + 1
        at = str(venue.now_ms() // 1000)
        topic = f"{pair}|limit-range-orderbook"
        if venue.has_subscribers(topic):
            upper, lower = self._rows(update)
            data = {"sequence_number": sequence, "upper": upper, "lower": lower}
            payload = [pair, {**data, "last_update_at": at}]
            yield Publication(topic, payload, pair, book=True)
        topic = f"{pair}|orderbook"
        if venue.has_subscribers(topic):
            data = {"bids": _deletions_first(update.bids), "asks": _deletions_first(update.asks)}
            yield Publication(topic, [pair, {**data, "last_update_at": at}], pair, book=True)
        topic = f"{pair}|trades"
        if update.trades and venue.has_subscribers(topic):
            trades = [
                [at, str(t.trade_id), pair, t.price, t.size,
                 "sell" if t.buyer_is_maker else "buy",
                 str(t.trade_id * 2), str(t.trade_id * 2 + 1), None]
                for t in update.trades
            ]  # fmt: skip
            yield Publication(topic, trades)

    def _book_snapshot(self, pair: str, sequenced: bool) -> Any:
        market = self.venue.markets[pair]
        asks, bids = market.levels("ask", _REST_DEPTH), market.levels("bid", _REST_DEPTH)
        if not sequenced:
            return {"asks": [[p, s] for p, s in asks], "bids": [[p, s] for p, s in bids]}
        return {
            "sequence_number": self.sequence(pair),
            "upper": [{"rate": p, "ask_amount": s, "bid_amount": "0"} for p, s in asks],
            "lower": [{"rate": p, "ask_amount": "0", "bid_amount": s} for p, s in bids],
        }

    # ---------------------------------------------------------------- socket

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        return await self.venue.serve_websocket(
            request, self._on_text, market_stream=request.path != "/private"
        )

    def _on_text(self, conn: FakeConnection, text: str) -> None:
        venue = self.venue
        keys = {venue.api_key: FakeKey(venue.api_key, venue.api_secret)}
        check = self._dialect.login(text, conn.path, keys, venue.clock.time())
        if check is not None:
            conn.state["login"] = check.ok
            conn.send_json(check.reply)
            return
        try:
            request = _json.loads(text)
        except ValueError:
            return  # the exchange says nothing
        if not isinstance(request, dict) or request.get("type") != "subscribe":
            return  # unsubscribe is ignored too
        channel = request.get("channel")
        if isinstance(channel, str):
            pair, _, name = channel.partition("-")
            if pair in venue.markets and name in ("orderbook", "limit-range-orderbook", "trades"):
                conn.subscribe(f"{pair}|{name}")
        channels = request.get("channels")
        if isinstance(channels, list) and conn.state.get("login"):
            for name in channels:
                if name in ("order-events", "execution-events"):
                    conn.subscribe(f"user|{name}")

    # --------------------------------------------------------------- account

    def _order_event(self, event: AccountEvent, order: FakeOrder) -> dict[str, Any]:
        if event.execution == "CANCELED":
            kind = "CANCEL"
        else:
            kind = "FILL" if order.status == "FILLED" else "PARTIALLY_FILL"
        return {
            "channel": "order-events", "id": order.order_id, "pair": order.symbol,
            "order_event": kind, "order_type": _ORDER_TYPE[order.side], "rate": order.price,
            "stop_loss_rate": None, "maker_fee_rate": "0.0", "taker_fee_rate": "0.001",
            "amount": order.quantity, "market_buy_amount": None,
            "latest_executed_amount": event.last_quantity if kind != "CANCEL" else None,
            "latest_executed_market_buy_amount": None, "expired_type": None,
            "prevented_match_id": None, "expired_amount": None,
            "expired_market_buy_amount": None, "time_in_force": "good_til_cancelled",
            "event_time": _iso(event.time),
        }  # fmt: skip

    def account_messages(self, event: AccountEvent) -> list[Any]:
        # Published here on the per-channel user topics; nothing goes on the shared "user".
        order, venue = event.order, self.venue
        if event.kind != "order" or order is None or event.execution == "NEW":
            return []  # Coincheck pushes nothing for a new order
        venue.publish_text("user|order-events", _json.dumps(self._order_event(event, order)))
        if event.execution == "TRADE":
            base, quote = order.symbol.split("_")
            quantity, price = Decimal(event.last_quantity), Decimal(event.last_price)
            sign = 1 if order.side == "BUY" else -1
            execution = {
                "channel": "execution-events", "id": event.trade_id,
                "order_id": order.order_id, "event_time": _iso(event.time),
                "funds": {base: format(sign * quantity, "f"),
                          quote: format(-sign * quantity * price, "f")},
                "pair": order.symbol, "rate": event.last_price, "fee_currency": None,
                "fee": "0.0", "liquidity": "M", "side": _ORDER_TYPE[order.side],
            }  # fmt: skip
            venue.publish_text("user|execution-events", _json.dumps(execution))
        return []

    # ------------------------------------------------------------------ REST

    async def _order_books(self, request: web.Request) -> web.Response:
        pair = request.query.get("pair", "btc_jpy")
        if pair not in self.venue.markets:
            return _json_response({"success": False, "error": "invalid pair"}, 400)
        return _json_response(self._book_snapshot(pair, request.query.get("version") == "1.0"))

    async def _signed(self, request: web.Request) -> tuple[bytes, web.Response | None]:
        """The body, and the error answer when the signature does not pass."""
        body = await request.read()
        received = await ReceivedRequest.of(request, _REST_HOST)
        venue = self.venue
        keys = {venue.api_key: FakeKey(venue.api_key, venue.api_secret)}
        try:
            self._verifier(received, keys, venue.clock.time())
        except Rejected as rejected:
            status, answer = coincheck_error(rejected)
            return body, _json_response(answer, status)
        return body, None

    async def _new_order(self, request: web.Request) -> web.Response:
        body, refused = await self._signed(request)
        if refused is not None:
            return refused
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        if not form and body:
            form = {k: str(v) for k, v in _json.loads(body).items()}
        pair, kind = form.get("pair", ""), form.get("order_type", "")
        venue = self.venue
        if pair not in venue.markets or kind not in ("buy", "sell") or not form.get("rate"):
            return _json_response({"success": False, "error": "limit buy/sell orders only"}, 400)
        try:
            event = venue.account.place(
                venue.now_ms(), pair, kind.upper(), form.get("amount", ""), form["rate"],
                "LIMIT", None,
            )  # fmt: skip
        except (ValueError, ArithmeticError) as exc:
            return _json_response({"success": False, "error": str(exc)}, 400)
        venue.emit_account(event)
        order = event.order
        assert order is not None
        return _json_response(
            {
                "success": True, "id": order.order_id, "rate": order.price,
                "amount": order.quantity, "order_type": kind, "time_in_force":
                "good_til_cancelled", "stop_loss_rate": None, "market_buy_amount": None,
                "pair": pair, "created_at": _iso(order.created),
            }
        )  # fmt: skip

    async def _cancel_order(self, request: web.Request) -> web.Response:
        _, refused = await self._signed(request)
        if refused is not None:
            return refused
        venue = self.venue
        try:
            event = venue.account.cancel(venue.now_ms(), int(request.match_info["id"]))
        except (KeyError, ValueError):
            return _json_response({"success": False, "error": "The order doesn't exist."}, 404)
        venue.emit_account(event)
        return _json_response({"success": True, "id": int(request.match_info["id"])})

    def _open_order(self, order: FakeOrder) -> dict[str, Any]:
        pending = Decimal(order.quantity) - Decimal(order.executed)
        return {
            "id": order.order_id, "order_type": _ORDER_TYPE[order.side], "rate": order.price,
            "pair": order.symbol, "pending_amount": format(pending.normalize(), "f"),
            "pending_market_buy_amount": None, "stop_loss_rate": None,
            "created_at": _iso(order.created),
        }  # fmt: skip

    async def _open_orders(self, request: web.Request) -> web.Response:
        _, refused = await self._signed(request)
        if refused is not None:
            return refused
        orders = [self._open_order(order) for order in self.venue.account.open_orders()]
        return _json_response({"success": True, "orders": orders})

    async def _balance(self, request: web.Request) -> web.Response:
        _, refused = await self._signed(request)
        if refused is not None:
            return refused
        answer: dict[str, Any] = {"success": True}
        for asset, balance in self.venue.account.balances.items():
            answer[asset.lower()] = balance.free
            answer[f"{asset.lower()}_reserved"] = balance.locked
        return _json_response(answer)

    # ---------------------------------------------------------------- faults

    def malformed_message(self, symbol: str) -> Any:
        return [symbol, {"sequence_number": "x", "upper": "oops", "lower": None}]

    def unknown_channel_message(self, symbol: str) -> Any:
        return {"type": "fake-unknown-channel", "pair": symbol}

    def rest_error(self, status: int) -> Any:
        return {"success": False, "error": f"HTTP {status}"}


PROFILES: dict[str, type[ExchangeProfile]] = {"coincheck": CoincheckProfile}
"""This exchange's venues (found by ``profiles.resolve_profiles()``)."""
