"""What the three Binance venues share: streams, depth, signatures, errors (see binance.py)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from aiohttp import web

from .... import _json
from ..._profile import ExchangeProfile, Publication, Wrapper
from ...account import FakeOrder
from ...fake import FakeConnection, iter_levels
from ...market import MarketConfig, MarketUpdate
from ...orders import Instrument

__all__ = ["binance_signature"]

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

    def instrument(self, symbol: str) -> Instrument | None:
        # Spot and USDⓈ-M symbols end with their quote (margin) asset; sizes are in the
        # base asset. COIN-M contracts (sized in USD, margined in the base) take no orders.
        if symbol.endswith("_PERP") or "_" in symbol:
            return None
        for quote in ("USDT", "USDC", "FDUSD", "BTC", "ETH"):
            if symbol.endswith(quote) and len(symbol) > len(quote):
                return Instrument(symbol, symbol[: -len(quote)], quote, derivative=self.futures)
        return None
