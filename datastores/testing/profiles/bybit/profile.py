"""Bybit V5 fake-exchange profiles: the spot and linear (USDT perpetual) categories.

Both venues are served by one server, as on Bybit, where every category shares
``api.bybit.com`` and ``stream.bybit.com``: the first Bybit venue of a fake
owns the server and routes by path (``/v5/public/{category}``) or by the
``category`` query parameter to the venue of that category (``venue.peers``).

Facts from the official docs (shared reference, section 5, and the pages linked):

* public streams ``/v5/public/spot`` and ``/v5/public/linear``; private
  ``/v5/private``; ``{"op":"subscribe","args":[...]}`` answered
  ``{"success":true,"ret_msg":..,"conn_id":..,"req_id":..,"op":"subscribe"}``;
  spot takes at most 10 args per request;
  https://bybit-exchange.github.io/docs/v5/ws/connect
* ``{"op":"ping"}``: public spot/linear answer ``{"success":true,"ret_msg":"pong",
  "op":"ping",..}``, private ``{"op":"pong","args":[ms],..}``;
* ``{"op":"auth","args":[key, expires, hex(HMAC-SHA256(secret, "GET/realtime" +
  expires))]}`` with ``expires`` in the future (checked by the independent
  verifier of :mod:`datastores.testing._ws_dialects`);
* ``orderbook.{1,50,200,1000}.{symbol}``: a snapshot after each subscription,
  then deltas; ``u`` is per topic and grows by one per message, ``seq`` is the
  cross sequence; depth 1 sends snapshots only. Levels pushed out of the
  window by better ones are not deleted explicitly (the store trims to the
  depth); levels deleted on the exchange are sent with size ``"0"``;
  https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
* ``orderbook.full.{symbol}``: deltas only, ``u`` strictly +1, bootstrapped
  from ``GET /v5/market/full_orderbook`` whose ``u`` matches the stream;
  https://bybit-exchange.github.io/docs/v5/websocket/public/full-ob
* REST answers ``{"retCode":0,"retMsg":"OK","result":..,"retExtInfo":{},"time":..}``;
  signed requests carry ``X-BAPI-*`` headers (checked by the independent
  verifier of :mod:`datastores.testing._verify`);
  https://bybit-exchange.github.io/docs/v5/guide#authentication
* no checksum and no listenKey.

Market data are built by :mod:`._market` (the profiles' base class), private
rows by :mod:`._account`, REST answers by :mod:`._rest`.
"""

from __future__ import annotations

import itertools
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from aiohttp import web

from .... import _json
from ..._profile import ExchangeProfile
from ..._verify import FakeKey
from ...market import MarketConfig
from ...orders import Instrument
from ._account import private_payloads
from ._market import BybitMarketData
from ._rest import CATEGORIES, BybitRest, rest_error_body
from .dialect import BybitDialect

if TYPE_CHECKING:
    from ...account import AccountEvent, FakeBalance
    from ...fake import FakeConnection, Venue

__all__ = ["PROFILES", "BybitLinearProfile", "BybitProfile", "BybitSpotProfile"]

_PRIVATE_TOPICS = frozenset({"order", "execution", "position", "wallet"})
_CATEGORISED = frozenset({"order", "execution", "position"})
#: prefix of the fake's internal topics for private streams
_PRIVATE = "private|"


def _conn_id(conn: FakeConnection) -> str:
    return str(uuid.UUID(int=conn.id))


class BybitProfile(BybitMarketData):
    """What the Bybit categories share; subclasses set :attr:`category`.

    Attributes:
        operations: ``(connection id, op, args)`` of the last 1000 client
            requests other than pings (to assert resubscriptions).
        pings: application pings (``{"op": "ping"}``) received, answered or not.
    """

    exchange: ClassVar[str] = "bybit"
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {
        "api.bybit.com": "http",
        "api.bytick.com": "http",
        "stream.bybit.com": "ws",
        "stream.bytick.com": "ws",
    }
    #: depths of ``orderbook.{depth}.{symbol}``
    depths: ClassVar[frozenset[int]] = frozenset({1, 50, 200, 1000})
    #: ``limit`` of ``GET /v5/market/orderbook`` when none is given
    default_limit: ClassVar[int] = 25
    #: most topics in one subscribe request (``None``: no limit)
    max_subscribe_args: ClassVar[int | None] = None
    configs: ClassVar[Mapping[str, MarketConfig]] = {}

    def __init__(self, venue: Venue) -> None:
        super().__init__(venue)
        self._seq = itertools.count(8_000_000_001)
        self._message_ids = itertools.count(1)
        self._dialect = BybitDialect()
        self.operations: deque[tuple[int, str, tuple[str, ...]]] = deque(maxlen=1000)
        self.pings = 0

    def market_config(self, symbol: str) -> MarketConfig:
        config = self.configs.get(symbol)
        return config if config is not None else MarketConfig(symbol, "0.01", "0.001", "100")

    # ----------------------------------------------------------------- routing

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v5/public/{category}", self._ws_public),
            web.get("/v5/private", self._ws_private),
            *BybitRest(self).routes(),
        ]

    def category_profile(self, category: str | None) -> BybitProfile | None:
        """The profile of ``category`` among the venues sharing this server."""
        for venue in self.venue.peers.values():
            profile = venue.profile
            if (
                isinstance(profile, BybitProfile)
                and profile.category == category
                and venue.server is self.venue.server
            ):
                return profile
        return None

    def _bybit_venues(self) -> list[Venue]:
        server = self.venue.server
        return [
            v
            for v in self.venue.peers.values()
            if isinstance(v.profile, BybitProfile) and v.server is server
        ]

    # -------------------------------------------------------------- websockets

    async def _ws_public(self, request: web.Request) -> web.StreamResponse:
        target = self.category_profile(request.match_info["category"])
        if target is None:
            raise web.HTTPNotFound()
        return await target.venue.serve_websocket(request, target._on_public_text)

    async def _ws_private(self, request: web.Request) -> web.StreamResponse:
        return await self.venue.serve_websocket(request, self._on_private_text, market_stream=False)

    def _parse(self, conn: FakeConnection, text: str) -> dict[str, Any] | None:
        try:
            message = _json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            self._reply(conn, None, False, "error:request is not a JSON object", None)
            return None
        args = message.get("args")
        op = message.get("op")
        if op != "ping":
            names = tuple(str(a) for a in args) if isinstance(args, list) else ()
            self.operations.append((conn.id, str(op), names))
        return message

    @staticmethod
    def _reply(conn: FakeConnection, op: Any, success: bool, ret_msg: str, req_id: Any) -> None:
        reply: dict[str, Any] = {
            "success": success,
            "ret_msg": ret_msg,
            "conn_id": _conn_id(conn),
            "op": op,
        }
        if req_id is not None:
            reply["req_id"] = req_id
        conn.send_json(reply)

    def _pong(self, conn: FakeConnection, text: str, req_id: Any) -> None:
        self.pings += 1
        if not conn.venue.faults.answer_pings:
            return
        raw = self._dialect.pong(text, conn.path, self.venue.clock.time())
        if raw is None:
            return
        reply = _json.loads(raw)
        reply["conn_id"] = _conn_id(conn)
        if req_id is not None:
            reply["req_id"] = req_id
        conn.send_json(reply)

    @staticmethod
    def _topics(args: Any) -> list[str] | None:
        if isinstance(args, list) and args and all(isinstance(a, str) for a in args):
            return list(args)
        return None

    def _unsubscribe(self, conn: FakeConnection, args: Any, req_id: Any, prefix: str) -> None:
        topics = self._topics(args)
        if topics is None:
            self._reply(conn, "unsubscribe", False, "error:args must be a list of topics", req_id)
            return
        for topic in topics:
            conn.unsubscribe(prefix + topic)
        self._reply(conn, "unsubscribe", True, "", req_id)

    # ------------------------------------------------------------ public stream

    def _on_public_text(self, conn: FakeConnection, text: str) -> None:
        message = self._parse(conn, text)
        if message is None:
            return
        op = message.get("op")
        req_id = message.get("req_id")
        if op == "ping":
            self._pong(conn, text, req_id)
        elif op == "subscribe":
            self._subscribe_public(conn, message.get("args"), req_id)
        elif op == "unsubscribe":
            self._unsubscribe(conn, message.get("args"), req_id, "")
        else:
            self._reply(conn, op, False, f"error:unsupported op {op!r}", req_id)

    def _parse_topic(self, topic: str) -> tuple[str, int | None, str] | None:
        """``(kind, depth, symbol)`` of a public topic this venue serves, or ``None``."""
        parts = topic.split(".")
        markets = self.venue.markets
        if len(parts) == 3 and parts[0] == "orderbook" and parts[2] in markets:
            if parts[1] == "full":
                return "full", None, parts[2]
            if parts[1].isdigit() and int(parts[1]) in self.depths:
                return "book", int(parts[1]), parts[2]
            return None
        if len(parts) == 2 and parts[0] in ("publicTrade", "tickers") and parts[1] in markets:
            return parts[0], None, parts[1]
        return None

    def _subscribe_public(self, conn: FakeConnection, args: Any, req_id: Any) -> None:
        topics = self._topics(args)
        if topics is None:
            self._reply(conn, "subscribe", False, "error:args must be a list of topics", req_id)
            return
        limit = self.max_subscribe_args
        if limit is not None and len(topics) > limit:
            self._reply(conn, "subscribe", False, f"error:args size >{limit}", req_id)
            return
        parsed: list[tuple[str, tuple[str, int | None, str]]] = []
        for topic in topics:
            spec = self._parse_topic(topic)
            if spec is None:
                self._reply(
                    conn, "subscribe", False, f"error:handler not found,topic:{topic}", req_id
                )
                return
            if topic in conn.subscriptions or any(topic == t for t, _ in parsed):
                self._reply(
                    conn, "subscribe", False, f"error:already subscribed,topic:{topic}", req_id
                )
                return
            parsed.append((topic, spec))
        self._reply(conn, "subscribe", True, "subscribe", req_id)
        for topic, (kind, depth, symbol) in parsed:
            conn.subscribe(topic)
            if kind == "book" and depth is not None:
                conn.send_json(self._book_snapshot(topic, symbol, depth))
            elif kind == "tickers":
                conn.send_json(self._ticker_snapshot(symbol))

    # ----------------------------------------------------------- private stream

    def api_keys(self) -> dict[str, FakeKey]:
        """The venue's API key, as the verifiers take it."""
        venue = self.venue
        return {venue.api_key: FakeKey(venue.api_key, venue.api_secret)}

    def _on_private_text(self, conn: FakeConnection, text: str) -> None:
        message = self._parse(conn, text)
        if message is None:
            return
        op = message.get("op")
        req_id = message.get("req_id")
        if op == "ping":
            self._pong(conn, text, req_id)
        elif op == "auth":
            check = self._dialect.login(text, conn.path, self.api_keys(), self.venue.clock.time())
            if check is None or check.reply is None:
                return
            reply = dict(check.reply)
            reply["conn_id"] = _conn_id(conn)
            if check.ok:
                conn.state["authorized"] = True
            conn.send_json(reply)
        elif op == "subscribe":
            self._subscribe_private(conn, message.get("args"), req_id)
        elif op == "unsubscribe":
            self._unsubscribe(conn, message.get("args"), req_id, _PRIVATE)
        else:
            self._reply(conn, op, False, f"error:unsupported op {op!r}", req_id)

    def _subscribe_private(self, conn: FakeConnection, args: Any, req_id: Any) -> None:
        if not conn.state.get("authorized"):
            self._reply(conn, "subscribe", False, "Request not authorized", req_id)
            return
        topics = self._topics(args)
        if topics is None:
            self._reply(conn, "subscribe", False, "error:args must be a list of topics", req_id)
            return
        for topic in topics:
            base, _, category = topic.partition(".")
            known = topic in _PRIVATE_TOPICS or (base in _CATEGORISED and category in CATEGORIES)
            if not known:
                self._reply(
                    conn, "subscribe", False, f"error:handler not found,topic:{topic}", req_id
                )
                return
        if len({"." in t for t in topics}) > 1:
            # https://bybit-exchange.github.io/docs/v5/websocket/private/order
            self._reply(
                conn,
                "subscribe",
                False,
                "error:all-in-one and categorised topics cannot be mixed in one request",
                req_id,
            )
            return
        for topic in topics:
            conn.subscribe(_PRIVATE + topic)
        self._reply(conn, "subscribe", True, "", req_id)

    def instrument(self, symbol: str) -> Instrument | None:
        # Sizes are in the base coin; linear contracts are USDT-margined perpetuals.
        for quote in ("USDT", "USDC"):
            if symbol.endswith(quote) and len(symbol) > len(quote):
                base = symbol[: -len(quote)]
                return Instrument(symbol, base, quote, derivative=self.category == "linear")
        return None

    def mark_price(self, symbol: str) -> str:
        """The mark price shown with positions (the best bid; ``"0"`` for an unknown symbol)."""
        market = self.venue.markets.get(symbol)
        return market.best()[0] if market is not None else "0"

    def unified_balances(self) -> dict[str, FakeBalance]:
        """The unified wallet: balances set on any Bybit venue of this server."""
        balances: dict[str, FakeBalance] = {}
        for venue in self._bybit_venues():
            balances.update(venue.account.balances)
        return balances

    def next_seq(self) -> int:
        """The next cross sequence (``seq``) of private rows."""
        return next(self._seq)

    def account_messages(self, event: AccountEvent) -> Iterable[Any]:
        # Every category's private messages go out on the one /v5/private stream, so
        # they are published on the server venue's private topics, not on "user".
        server = self.venue.server
        payloads = private_payloads(
            event,
            self.category,
            mark=self.mark_price,
            seq=self.next_seq(),
            balances=self.unified_balances(),
        )
        for topic, rows in payloads:
            names = [topic] if topic not in _CATEGORISED else [topic, f"{topic}.{self.category}"]
            for name in names:
                internal = _PRIVATE + name
                if server.has_subscribers(internal):
                    message = {
                        "id": str(uuid.UUID(int=next(self._message_ids))),
                        "topic": name,
                        "creationTime": event.time,
                        "data": rows,
                    }
                    server.publish_text(internal, _json.dumps(message))
        return ()

    # ---------------------------------------------------------------- faults

    def rest_error(self, status: int) -> Any:
        return rest_error_body(status, self.venue.now_ms())

    def malformed_message(self, symbol: str) -> Any:
        # A book delta whose u and levels are unusable: a client must drop and count
        # it, never apply part of it.
        now = self.venue.now_ms()
        return {
            "topic": f"orderbook.50.{symbol}",
            "type": "delta",
            "ts": now,
            "data": {"s": symbol, "b": "oops", "a": [["1"]], "u": "x", "seq": None},
            "cts": now,
        }

    def unknown_channel_message(self, symbol: str) -> Any:
        return {
            "topic": f"fakeUnknownChannel.{symbol}",
            "type": "snapshot",
            "ts": self.venue.now_ms(),
            "data": {"symbol": symbol, "value": "1"},
        }


class BybitLinearProfile(BybitProfile):
    """Bybit linear (USDT perpetuals): ``/v5/public/linear``, ``category=linear``."""

    name = "bybit-linear"
    category = "linear"
    default_symbols = ("BTCUSDT", "ETHUSDT")
    default_limit = 25
    configs: ClassVar[Mapping[str, MarketConfig]] = {
        "BTCUSDT": MarketConfig("BTCUSDT", "0.10", "0.001", "65000", price_decimals=2),
        "ETHUSDT": MarketConfig("ETHUSDT", "0.01", "0.01", "3200"),
    }


class BybitSpotProfile(BybitProfile):
    """Bybit spot: ``/v5/public/spot``, ``category=spot`` (at most 10 topics per subscribe)."""

    name = "bybit-spot"
    category = "spot"
    default_symbols = ("BTCUSDT", "ETHUSDT")
    default_limit = 1
    max_subscribe_args = 10
    ticker_deltas = False
    configs: ClassVar[Mapping[str, MarketConfig]] = {
        "BTCUSDT": MarketConfig("BTCUSDT", "0.01", "0.000001", "65010"),
        "ETHUSDT": MarketConfig("ETHUSDT", "0.01", "0.00001", "3201"),
    }


PROFILES: dict[str, type[ExchangeProfile]] = {
    BybitLinearProfile.name: BybitLinearProfile,
    BybitSpotProfile.name: BybitSpotProfile,
}
