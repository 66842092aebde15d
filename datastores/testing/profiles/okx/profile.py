"""OKX fake-exchange profiles: production (``okx``) and demo trading (``okx-demo``).

Facts from the OKX v5 docs (https://www.okx.com/docs-v5/en/, shared reference):

* WebSocket ``/ws/v5/public``, ``/ws/v5/private``, ``/ws/v5/business``;
  ``{"op": "subscribe", "args": [{"channel": .., "instId": ..}]}`` is answered
  ``{"event": "subscribe", "arg": {..}, "connId": ..}``, failures
  ``{"event": "error", "code": "600xx", "msg": .., "connId": ..}`` (60011 not
  logged in, 60012 invalid request, 60013 invalid args, 60018 unknown
  channel); the text ``ping`` is answered ``pong``;
  #overview-websocket-subscribe, #overview-websocket-connect
* login ``{"op": "login", "args": [{apiKey, passphrase, timestamp, sign}]}``,
  ``sign`` = Base64 HMAC-SHA256 of ``timestamp + "GET/users/self/verify"``,
  timestamp in seconds, 30 s window; ``{"event": "login", "code": "0"}`` or
  ``{"event": "error", "code": "60009"}``; #overview-websocket-login. Verified
  by :class:`~datastores.testing._ws_dialects.OkxDialect` (independent code).
* order books: see :mod:`._books` (400/50-level windows, seqId/prevSeqId,
  checksum, the 2026 removal of the WS snapshot and of the checksum);
  ``tickers``: :mod:`._tickers`; private channels: :mod:`._private` (shapes in
  :mod:`._account`); REST endpoints: :mod:`._rest`;
* REST ``{"code": "0", "msg": "", "data": [...]}``; errors
  ``{"code": "50011", "msg": .., "data": []}``; signed requests
  (``OK-ACCESS-*`` headers) verified by :func:`~datastores.testing._verify.verify_okx`;
  #overview-rest-authentication
* demo trading: the same REST hosts with ``x-simulated-trading: 1`` and
  separate keys (``okx_demo``), WebSocket on ``wspap.okx.com``;
  #overview-demo-trading-services

REST hosts map to the production venue, which answers a request carrying
``x-simulated-trading: 1`` for the demo venue (``Venue.peers``): the keys are
checked against the demo key, the data come from the demo market and account.
Demo and production keep separate keys, markets and accounts. (Alone,
``FakeExchange("okx-demo")`` serves only the demo WebSocket.)

OKX-only switches on the profile instance (``fake.venues["okx"].profile``):
``ws_snapshots`` / ``checksums`` (set both ``False`` for OKX's 2026 books:
no WS snapshot, checksum 0, clients bootstrap from REST), :meth:`keepalive`
and :meth:`reset_sequence`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal

from aiohttp import web

from .... import _json
from ..._connection import FakeConnection
from ..._profile import ExchangeProfile, Publication
from ..._verify import FakeKey
from ...account import AccountEvent
from ...fake import Venue
from ...market import MarketConfig, MarketUpdate
from ...orders import Instrument
from ._books import BookWindow, book_message, market_checksum, okx_checksum, top_levels
from ._private import OKXPrivate
from ._rest import INST_TYPES, OKXRest, rest_error_body
from ._tickers import Tickers
from .dialect import OkxDialect

__all__ = ["PROFILES", "OKXDemoProfile", "OKXProfile"]

#: incremental book channels: depth of the window they publish
INCREMENTAL_DEPTHS: dict[str, int] = {"books": 400, "books-l2-tbt": 400, "books50-l2-tbt": 50}
#: channels whose every push is the whole (shallow) book
WHOLE_BOOK_DEPTHS: dict[str, int] = {"books5": 5, "bbo-tbt": 1}
#: public channels that need a logged-in connection (VIP books)
LOGIN_CHANNELS = frozenset({"books-l2-tbt", "books50-l2-tbt"})
PUBLIC_CHANNELS = frozenset({*INCREMENTAL_DEPTHS, *WHOLE_BOOK_DEPTHS, "trades", "tickers"})
PRIVATE_CHANNELS = frozenset({"orders", "positions", "account", "balance_and_position"})
#: base currency of a swap -> base per contract (``ctVal``)
CONTRACT_VALUES = {"BTC": "0.01", "ETH": "0.1"}
REST_HOSTS: dict[str, Literal["http", "ws"]] = {
    "www.okx.com": "http",
    "aws.okx.com": "http",
    "my.okx.com": "http",
    "app.okx.com": "http",
}


class OKXProfile(ExchangeProfile):
    """OKX production: www.okx.com (REST), ws.okx.com (WebSocket)."""

    name: ClassVar[str] = "okx"
    exchange: ClassVar[str] = "okx"
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {
        **REST_HOSTS,
        "ws.okx.com": "ws",
        "wsaws.okx.com": "ws",
    }
    default_symbols = ("BTC-USDT", "ETH-USDT", "BTC-USDT-SWAP")
    has_checksum = True
    #: demo trading: this venue answers requests carrying ``x-simulated-trading: 1``
    demo: ClassVar[bool] = False
    configs: ClassVar[Mapping[str, MarketConfig]] = {
        "BTC-USDT": MarketConfig("BTC-USDT", "0.1", "0.00000001", "65000", levels=600),
        "ETH-USDT": MarketConfig("ETH-USDT", "0.01", "0.000001", "3200", levels=600),
        "BTC-USDT-SWAP": MarketConfig("BTC-USDT-SWAP", "0.1", "0.01", "65000", levels=600),
    }

    def __init__(self, venue: Venue) -> None:
        super().__init__(venue)
        #: send ``action: snapshot`` after a book subscription (False: OKX 2026,
        #: the first push is an update and clients bootstrap from REST)
        self.ws_snapshots = True
        #: send real checksums (False: OKX 2026, the field is always 0)
        self.checksums = True
        self._dialect = OkxDialect()
        self._windows: dict[tuple[str, int], BookWindow] = {}
        self._tops: dict[str, tuple[list[list[str]], list[list[str]]]] = {}
        self._private = OKXPrivate(self)
        self._offsets: dict[str, int] = {}
        self._tickers = Tickers(venue)

    def market_config(self, symbol: str) -> MarketConfig:
        config = self.configs.get(symbol)
        if config is not None:
            return config
        return MarketConfig(symbol, "0.01", "0.0001", "100", levels=600)

    def instrument(self, symbol: str) -> Instrument | None:
        # Swaps are linear USDT-margined; sizes are contracts of ctVal base currency
        # (BTC-USDT-SWAP: 0.01 BTC, ETH-USDT-SWAP: 0.1 ETH; GET /api/v5/public/instruments).
        parts = symbol.split("-")
        if len(parts) == 2:
            return Instrument(symbol, parts[0], parts[1])
        if len(parts) == 3 and parts[2] == "SWAP":
            value = CONTRACT_VALUES.get(parts[0], "1")
            return Instrument(symbol, parts[0], parts[1], derivative=True, contract_value=value)
        return None

    # ---------------------------------------------------------------- helpers

    def seq_id(self, inst: str, market_id: int) -> int:
        """The ``seqId`` OKX shows for the generator's update id ``market_id``."""
        return market_id + self._offsets.get(inst, 0)

    def venue_for(self, demo: bool) -> Venue | None:
        """The running OKX venue for production or demo trading."""
        for venue in self.venue.peers.values():
            if isinstance(venue.profile, OKXProfile) and venue.profile.demo == demo:
                return venue
        return None

    @staticmethod
    def _conn_id(conn: FakeConnection) -> str:
        return f"{conn.id:08x}"

    def _send_error(self, conn: FakeConnection, code: str, msg: str) -> None:
        conn.send_json({"event": "error", "code": code, "msg": msg, "connId": self._conn_id(conn)})

    def _window(self, inst: str, depth: int) -> BookWindow:
        window = self._windows.get((inst, depth))
        if window is None:
            market = self.venue.markets[inst]
            window = BookWindow(market, depth, self.seq_id(inst, market.last_update_id))
            self._windows[(inst, depth)] = window
        return window

    # -------------------------------------------------------------- WebSocket

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/ws/v5/public", self._ws_public),
            web.get("/ws/v5/private", self._ws_private),
            web.get("/ws/v5/business", self._ws_business),
            *OKXRest(self).routes(),
        ]

    async def _ws_public(self, request: web.Request) -> web.StreamResponse:
        return await self.venue.serve_websocket(
            request, lambda conn, text: self._on_text(conn, text, PUBLIC_CHANNELS)
        )

    async def _ws_private(self, request: web.Request) -> web.StreamResponse:
        return await self.venue.serve_websocket(
            request,
            lambda conn, text: self._on_text(conn, text, PRIVATE_CHANNELS),
            market_stream=False,
        )

    async def _ws_business(self, request: web.Request) -> web.StreamResponse:
        # Candles, trades-all, algo orders... are not emulated: every channel is unknown.
        return await self.venue.serve_websocket(
            request, lambda conn, text: self._on_text(conn, text, frozenset())
        )

    def _on_text(self, conn: FakeConnection, text: str, channels: frozenset[str]) -> None:
        if text == "ping":
            if self.venue.faults.answer_pings:
                conn.send_text("pong")
            return
        try:
            request = _json.loads(text)
        except ValueError:
            request = None
        if not isinstance(request, dict) or not isinstance(request.get("op"), str):
            self._send_error(conn, "60012", f"Invalid request: {text[:300]}")
            return
        op = request["op"]
        if op == "login":
            self._login(conn, text)
            return
        args = request.get("args")
        if op not in ("subscribe", "unsubscribe") or not isinstance(args, list) or not args:
            self._send_error(conn, "60012", f"Invalid request: {text[:300]}")
            return
        for arg in args:
            self._on_subscription(conn, op, arg, channels)

    def _login(self, conn: FakeConnection, text: str) -> None:
        venue = self.venue
        keys = {
            venue.api_key: FakeKey(
                venue.api_key, venue.api_secret, venue.api_passphrase, demo=self.demo
            )
        }
        check = self._dialect.login(text, conn.path, keys, venue.clock.time())
        if check is None:  # not a login after all
            self._send_error(conn, "60012", "Invalid request")
            return
        if check.ok:
            conn.state["login"] = True
        conn.send_json({**check.reply, "connId": self._conn_id(conn)})

    def _topic(
        self, conn: FakeConnection, arg: Any, channels: frozenset[str]
    ) -> tuple[str, str] | tuple[None, None]:
        """``(topic, channel)`` for a subscription arg, or an error sent and ``(None, None)``."""
        if not isinstance(arg, dict) or not isinstance(arg.get("channel"), str):
            self._send_error(conn, "60013", f"Invalid args: {_json.dumps(arg)[:300]}")
            return None, None
        channel: str = arg["channel"]
        inst = arg.get("instId")
        if channel not in channels or (
            channel in PUBLIC_CHANNELS and inst not in self.venue.markets
        ):
            self._send_error(
                conn,
                "60018",
                f"Wrong URL or channel:{channel},instId:{inst} doesn't exist. Please use the "
                "correct URL, channel and parameters referring to API document.",
            )
            return None, None
        if (channel in PRIVATE_CHANNELS or channel in LOGIN_CHANNELS) and not conn.state.get(
            "login"
        ):
            self._send_error(conn, "60011", "Please log in")
            return None, None
        if channel in PUBLIC_CHANNELS:
            return f"{inst}|{channel}", channel
        kind = arg.get("instType")
        if channel in ("orders", "positions") and kind not in INST_TYPES:
            self._send_error(conn, "60013", f"Invalid args: instType {kind!r}")
            return None, None
        return self._private.register(channel, arg), channel

    def _on_subscription(
        self, conn: FakeConnection, op: str, arg: Any, channels: frozenset[str]
    ) -> None:
        topic, channel = self._topic(conn, arg, channels)
        if topic is None or channel is None:
            return
        conn.send_json({"event": op, "arg": arg, "connId": self._conn_id(conn)})
        if op == "unsubscribe":
            conn.unsubscribe(topic)
            return
        conn.subscribe(topic)
        if channel in PUBLIC_CHANNELS:
            self._first_public_push(conn, channel, arg["instId"])
        else:
            count = sum(
                1
                for c in self.venue.connections
                if any(t.startswith(f"private|{channel}|") for t in c.subscriptions)
            )
            conn.send_json(
                {
                    "event": "channel-conn-count",
                    "channel": channel,
                    "connCount": str(count),
                    "connId": self._conn_id(conn),
                }
            )
            self._private.first_push(conn, channel, topic)

    def _first_public_push(self, conn: FakeConnection, channel: str, inst: str) -> None:
        market = self.venue.markets[inst]
        now = self.venue.now_ms()
        depth = INCREMENTAL_DEPTHS.get(channel)
        if depth is not None:
            window = self._window(inst, depth)
            if self.ws_snapshots:
                asks, bids = top_levels(market, depth)
                checksum = okx_checksum(asks, bids) if self.checksums else 0
                conn.send_json(
                    book_message(
                        channel,
                        inst,
                        "snapshot",
                        asks,
                        bids,
                        ts=now,
                        checksum=checksum,
                        prev=-1,
                        seq=window.seq,
                    )
                )
        elif channel in WHOLE_BOOK_DEPTHS:
            asks, bids = self._tops[f"{inst}|{channel}"] = top_levels(
                market, WHOLE_BOOK_DEPTHS[channel]
            )
            seq = self.seq_id(inst, market.last_update_id)
            conn.send_json(self._whole_book(channel, inst, asks, bids, now, seq))
        elif channel == "tickers":
            conn.send_json(self._tickers.message(inst, now))

    # ------------------------------------------------------------- market data

    def market_messages(self, update: MarketUpdate) -> Iterable[Publication]:
        venue = self.venue
        inst = update.symbol
        market = venue.markets[inst]
        now = venue.now_ms()
        seq = self.seq_id(inst, update.last_id)
        for depth in (400, 50):
            subscribed = [
                channel
                for channel, d in INCREMENTAL_DEPTHS.items()
                if d == depth and venue.has_subscribers(f"{inst}|{channel}")
            ]
            if not subscribed:
                # Nobody watches: forget the window (a new subscription starts afresh).
                self._windows.pop((inst, depth), None)
                continue
            window = self._window(inst, depth)
            asks, bids = window.advance(market, update)
            if not asks and not bids:
                continue  # nothing changed inside the window: OKX sends nothing
            prev, window.seq = window.seq, seq
            checksum = market_checksum(market) if self.checksums else 0
            for channel in subscribed:
                payload = book_message(
                    channel,
                    inst,
                    "update",
                    asks,
                    bids,
                    ts=now,
                    checksum=checksum,
                    prev=prev,
                    seq=seq,
                )
                yield Publication(f"{inst}|{channel}", payload, inst, book=True)
        for channel, depth in WHOLE_BOOK_DEPTHS.items():
            topic = f"{inst}|{channel}"
            if not venue.has_subscribers(topic):
                self._tops.pop(topic, None)
                continue
            top = top_levels(market, depth)
            if self._tops.get(topic) == top:
                continue  # pushed only when it changed
            self._tops[topic] = top
            yield Publication(topic, self._whole_book(channel, inst, *top, now, seq), inst)
        self._tickers.track(update)
        topic = f"{inst}|trades"
        if update.trades and venue.has_subscribers(topic):
            data = [
                {
                    "instId": inst,
                    "tradeId": str(t.trade_id),
                    "px": t.price,
                    "sz": t.size,
                    # the taker's side: a resting bid was hit by a seller
                    "side": "sell" if t.buyer_is_maker else "buy",
                    "ts": str(now),
                    "count": "1",
                    "source": "0",
                }
                for t in update.trades
            ]
            yield Publication(topic, {"arg": {"channel": "trades", "instId": inst}, "data": data})
        topic = f"{inst}|tickers"
        if venue.has_subscribers(topic):
            yield Publication(topic, self._tickers.message(inst, now), inst)

    @staticmethod
    def _whole_book(
        channel: str, inst: str, asks: list[list[str]], bids: list[list[str]], now: int, seq: int
    ) -> dict[str, Any]:
        item: dict[str, Any] = {"asks": asks, "bids": bids, "ts": str(now), "seqId": seq}
        if channel == "books5":
            item["instId"] = inst
        return {"arg": {"channel": channel, "instId": inst}, "data": [item]}

    def mark_price(self, inst: str) -> str:
        """The mark price shown with positions (the best bid)."""
        market = self.venue.markets.get(inst)
        return market.best()[0] if market is not None else ""

    # ------------------------------------------------------------ OKX extras

    def book_seq(self, symbol: str, channel: str = "books") -> int | None:
        """The ``seqId`` of the last book message of ``channel`` for ``symbol`` (what
        a client in sync has applied), or ``None`` when nobody subscribes to it."""
        depth = INCREMENTAL_DEPTHS.get(channel)
        if depth is None:
            raise ValueError(f"{channel!r} is not an incremental book channel")
        window = self._windows.get((symbol, depth))
        return window.seq if window is not None else None

    def keepalive(self, symbol: str) -> int:
        """Push OKX's keep-alive on every incremental book of ``symbol``: an empty
        update whose ``seqId`` equals its ``prevSeqId`` (sent after about 60 s
        without change). Returns the number of connections reached."""
        now = self.venue.now_ms()
        reached = 0
        for channel, depth in INCREMENTAL_DEPTHS.items():
            window = self._windows.get((symbol, depth))
            if window is None:
                continue
            checksum = market_checksum(self.venue.markets[symbol]) if self.checksums else 0
            payload = book_message(
                channel,
                symbol,
                "update",
                [],
                [],
                ts=now,
                checksum=checksum,
                prev=window.seq,
                seq=window.seq,
            )
            reached += self.venue.publish_text(f"{symbol}|{channel}", _json.dumps(payload))
        return reached

    def reset_sequence(self, symbol: str, drop: int = 1_000_000) -> None:
        """Emulate maintenance: from the next update on, ``seqId`` values of
        ``symbol`` are ``drop`` lower, so that update has ``seqId < prevSeqId``
        (which OKX documents as legal; sequencing continues from it)."""
        self._offsets[symbol] = self._offsets.get(symbol, 0) - drop

    # ---------------------------------------------------------- private data

    def account_messages(self, event: AccountEvent) -> Iterable[Any]:
        """Publish ``event`` on each private subscription it concerns, framed with
        that subscription's own ``arg`` (so nothing goes through ``"user"``)."""
        self._private.publish(event)
        return ()

    # ----------------------------------------------------------------- faults

    def corrupt_checksum(self, payload: Any) -> Any:
        corrupted = copy.deepcopy(payload)
        item = corrupted["data"][0]
        inst = corrupted["arg"]["instId"]
        # Also in checksum-0 mode: a non-zero wrong value, which a client verifies.
        true = item["checksum"] or market_checksum(self.venue.markets[inst])
        wrong = true + 1 if true != -1 else 1
        item["checksum"] = wrong - (1 << 32) if wrong >= 1 << 31 else wrong
        return corrupted

    def malformed_message(self, symbol: str) -> Any:
        # A book update whose fields are unusable: a client must drop and count it
        # (and resync that book), never crash or apply part of it.
        return {
            "arg": {"channel": "books", "instId": symbol},
            "action": "update",
            "data": [
                {
                    "asks": "oops",
                    "bids": [["1"]],
                    "ts": str(self.venue.now_ms()),
                    "checksum": "x",
                    "prevSeqId": None,
                    "seqId": "abc",
                }
            ],
        }

    def unknown_channel_message(self, symbol: str) -> Any:
        return {
            "arg": {"channel": "fake-unknown-channel", "instId": symbol},
            "data": [{"instId": symbol, "x": "1", "ts": str(self.venue.now_ms())}],
        }

    def rest_error(self, status: int) -> Any:
        return rest_error_body(status)


class OKXDemoProfile(OKXProfile):
    """OKX demo trading: wspap.okx.com (WebSocket); REST on the production hosts with
    ``x-simulated-trading: 1``. Its keys (``okx_demo``) are not the production keys."""

    name: ClassVar[str] = "okx-demo"
    exchange: ClassVar[str] = "okx_demo"
    # Not the REST hosts: venues naming one host share one server, which cannot tell
    # wspap.okx.com from ws.okx.com; the production venue answers demo REST requests.
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {"wspap.okx.com": "ws"}
    demo: ClassVar[bool] = True
    key_suffix: ClassVar[str] = "-demo"


PROFILES: dict[str, type[ExchangeProfile]] = {
    OKXProfile.name: OKXProfile,
    OKXDemoProfile.name: OKXDemoProfile,
}
