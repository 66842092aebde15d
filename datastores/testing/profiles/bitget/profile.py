"""Bitget fake-exchange profile: the v2 ("classic") API and the legacy v1 mix API.

One venue, ``bitget``, serves both versions, because they share their hosts
(``api.bitget.com``, ``ws.bitget.com``) and a redirect maps a whole host to one
server. Facts from the official docs:

* WS ``/v2/ws/public``, ``/v2/ws/private`` and v1 ``/mix/v1/stream``;
  ``{"op": "subscribe", "args": [{"instType", "channel", "instId"}]}`` answered
  ``{"event": "subscribe", "arg": {...}}`` per arg, errors
  ``{"event": "error", "arg", "code", "msg", "op"}``; text ``ping`` -> ``pong``;
  https://www.bitget.com/api-doc/common/websocket-intro
* login ``{"op": "login", "args": [{apiKey, passphrase, timestamp, sign}]}``,
  sign = base64 HMAC-SHA256 of ``timestamp + "GET" + "/user/verify"``, seconds,
  30 s window (checked by :class:`~datastores.testing._ws_dialects.BitgetDialect`);
* ``books``: a full ``snapshot`` then ``update`` deltas (``"0"`` deletes) with
  ``checksum`` (signed CRC32 of the best 25 levels interleaved
  ``bid:size:ask:size``, from the strings as sent, the longer side's rest
  appended) and, in v2, an increasing ``seq``; ``books1/5/15`` push a full top-N
  snapshot each time (``seq``, no checksum); v1 ``books`` holds 200 levels;
  https://www.bitget.com/api-doc/spot/websocket/public/Depth-Channel
  https://bitgetlimited.github.io/apidoc/en/mix/#order-book-channel
* REST: ``ACCESS-KEY/SIGN/TIMESTAMP/PASSPHRASE`` headers, base64 HMAC-SHA256 of
  ``timestamp + method + path[?query] + body`` (ms, checked by
  :func:`~datastores.testing._verify.verify_bitget`); errors are HTTP 400
  ``{"code": "40009", "msg": "sign signature error", "requestTime": .., "data": null}``;
  https://www.bitget.com/api-doc/common/signature

Symbols of this fake are ``"<instType>:<instId>"`` (``"SPOT:BTCUSDT"``,
``"USDT-FUTURES:BTCUSDT"``): the same instId is a different market in each
instType. v1 (``instType: "mc"``, instId ``BTCUSDT``) reads the futures markets,
as on the real exchange where v1 and v2 futures are the same books.

Book levels, the checksum, the v1 window, trades and tickers are shaped by
:mod:`._market`, the account's pushes and rows by :mod:`._account`, REST
answers by :mod:`._rest`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Literal

from aiohttp import web

from .... import _json
from ..._profile import ExchangeProfile, Publication
from ..._verify import FakeKey
from ...account import AccountEvent
from ...fake import FakeConnection
from ...market import MarketConfig, MarketUpdate
from ...orders import Instrument
from ._account import INST_TYPES, V1_TYPES, BitgetAccount, split
from ._market import (
    CHECKSUM_LEVELS,
    V1_DEPTH,
    Levels,
    Ticker,
    V1Books,
    bitget_checksum,
    ticker_data,
    trade_row,
    wire_levels,
    wrong_checksum,
)
from ._rest import BitgetRest, rest_error_body
from .dialect import BitgetDialect

__all__ = ["PROFILES", "BitgetProfile", "bitget_checksum"]

#: book channel -> levels per push (``None``: the whole book)
_BOOK_CHANNELS: dict[str, int | None] = {"books": None, "books1": 1, "books5": 5, "books15": 15}
_PUBLIC = frozenset({*_BOOK_CHANNELS, "trade", "ticker"})
_PRIVATE = {
    "v2": frozenset({"orders", "fill", "positions", "account"}),
    "v1": frozenset({"orders", "positions", "account"}),
}
_CONFIGS = {
    "SPOT:BTCUSDT": MarketConfig("SPOT:BTCUSDT", "0.01", "0.000001", "65000"),
    "SPOT:ETHUSDT": MarketConfig("SPOT:ETHUSDT", "0.01", "0.0001", "3200"),
    "USDT-FUTURES:BTCUSDT": MarketConfig("USDT-FUTURES:BTCUSDT", "0.1", "0.0001", "65000"),
    "USDT-FUTURES:ETHUSDT": MarketConfig("USDT-FUTURES:ETHUSDT", "0.01", "0.01", "3200"),
    "COIN-FUTURES:BTCUSD": MarketConfig("COIN-FUTURES:BTCUSD", "0.1", "0.001", "65000"),
    "USDC-FUTURES:BTCPERP": MarketConfig("USDC-FUTURES:BTCPERP", "0.1", "0.0001", "65000"),
}


@dataclass(frozen=True, slots=True)
class _Sub:
    """One accepted subscription arg."""

    topic: str
    arg: dict[str, Any]
    kind: Literal["public", "v2", "v1"]  # public, v2 private, v1 private
    dialect: str
    channel: str
    symbol: str = ""  # public: the fake symbol
    inst_type: str = ""  # private: the instType (v1: UMCBL...)
    key: str = ""  # v2 private: instId or coin ("default": all)


class BitgetProfile(ExchangeProfile):
    """Bitget v2 and legacy v1 on one venue: ``api.bitget.com`` and ``ws.bitget.com``.

    Connection state (``conn.state``): ``dialect`` (``"v2"``/``"v1"``),
    ``private`` (the v2 private path), ``login`` (after a verified login).
    """

    name = "bitget"
    exchange = "bitget"
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {
        "api.bitget.com": "http",
        "ws.bitget.com": "ws",
    }
    default_symbols = ("SPOT:BTCUSDT", "USDT-FUTURES:BTCUSDT", "USDT-FUTURES:ETHUSDT")
    has_checksum = True

    def __init__(self, venue: Any) -> None:
        super().__init__(venue)
        self.private = BitgetAccount(venue)
        self._dialect = BitgetDialect()
        self._rest = BitgetRest(self)
        self._tickers: dict[str, Ticker] = {}
        #: symbol -> the last public trades (v2 ``trade`` rows), for ``market/fills``
        self.recent_trades: dict[str, deque[dict[str, Any]]] = {}
        self._v1_books = V1Books()

    def market_config(self, symbol: str) -> MarketConfig:
        inst_type, inst_id = split(symbol)
        if inst_type not in INST_TYPES or not inst_id:
            raise ValueError(
                f"Bitget fake symbols are '<instType>:<instId>' with instType in "
                f"{INST_TYPES}, e.g. 'SPOT:BTCUSDT'; got {symbol!r}"
            )
        return _CONFIGS.get(symbol) or MarketConfig(symbol, "0.01", "0.001", "100")

    def instrument(self, symbol: str) -> Instrument | None:
        # Spot balances are bare coins; a futures account's margin is the balance
        # "<instType>:<coin>" (USDT-FUTURES:USDT). COIN-M futures take no orders here.
        inst_type, inst_id = split(symbol)
        quote = {"SPOT": "USDT", "USDT-FUTURES": "USDT", "USDC-FUTURES": "USDC"}.get(inst_type)
        if quote is None or not inst_id.endswith(quote) or inst_id == quote:
            return None
        base = inst_id.removesuffix(quote)
        if inst_type == "SPOT":
            return Instrument(symbol, base, quote)
        return Instrument(symbol, base, f"{inst_type}:{quote}", derivative=True)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v2/ws/public", self._ws("v2", private=False)),
            web.get("/v2/ws/private", self._ws("v2", private=True)),
            web.get("/mix/v1/stream", self._ws("v1", private=False)),
            *self._rest.routes(),  # ends with the catch-all 404
        ]

    # -------------------------------------------------------------- WebSocket

    def _ws(
        self, dialect: str, *, private: bool
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        def on_open(conn: FakeConnection) -> None:
            conn.state.update(dialect=dialect, private=private, login=False)

        async def handler(request: web.Request) -> web.StreamResponse:
            return await self.venue.serve_websocket(
                request, self._on_text, market_stream=not private, on_open=on_open
            )

        return handler

    def _on_text(self, conn: FakeConnection, text: str) -> None:
        if text == "ping":
            if self.venue.faults.answer_pings:
                conn.send_text("pong")
            return
        try:
            request = _json.loads(text)
        except ValueError:
            request = None
        op = request.get("op") if isinstance(request, dict) else None
        if op == "login":
            self._login(conn, text)
            return
        args = request.get("args") if isinstance(request, dict) else None
        if op not in ("subscribe", "unsubscribe"):
            conn.send_json({"event": "error", "code": 30003, "msg": f"invalid op {op!r}"})
        elif not isinstance(args, list) or not args:
            conn.send_json({"event": "error", "code": 30002, "msg": "illegal request"})
        else:
            for arg in args:
                self._subscription(conn, op, arg)

    def _login(self, conn: FakeConnection, text: str) -> None:
        venue = self.venue
        keys = {venue.api_key: FakeKey(venue.api_key, venue.api_secret, venue.api_passphrase)}
        check = self._dialect.login(text, conn.path, keys, venue.clock.time())
        if check is None:
            conn.send_json({"event": "error", "code": 30002, "msg": "illegal request"})
            return
        conn.send_json(check.reply)
        if check.ok:
            conn.state["login"] = True
        elif check.close_after:  # Bitget disconnects after a failed login
            conn.close(code=1008)

    def _subscription(self, conn: FakeConnection, op: str, arg: Any) -> None:
        """(Un)subscribe one arg: its event, then (subscribe) its first push."""
        sub = self._parse(conn, arg) if isinstance(arg, dict) else "args must be objects"
        if isinstance(sub, str):
            code = 30004 if sub == "User needs to log in" else 30001
            conn.send_json({"event": "error", "arg": arg, "code": code, "msg": sub, "op": op})
            return
        if op == "unsubscribe":
            conn.unsubscribe(sub.topic)
            conn.send_json({"event": "unsubscribe", "arg": sub.arg})
            return
        conn.subscribe(sub.topic)
        conn.send_json({"event": "subscribe", "arg": sub.arg})
        # Every subscription starts with a snapshot, so resubscribing heals a book.
        first = self._first_push(sub)
        if first is not None:
            conn.send_json(first)

    def _parse(self, conn: FakeConnection, arg: dict[str, Any]) -> _Sub | str:
        """The subscription an arg names, or the error message."""
        dialect: str = conn.state["dialect"]
        channel = arg.get("channel")
        inst_type = str(arg.get("instType", ""))
        inst_id = arg.get("instId")
        missing = f"instType:{inst_type},channel:{channel},instId:{inst_id} doesn't exist"
        if not isinstance(channel, str):
            return missing
        if channel in _PRIVATE[dialect] and (dialect == "v1" or conn.state["private"]):
            if not conn.state["login"]:
                return "User needs to log in"
            if dialect == "v1":
                if inst_type not in V1_TYPES or inst_id != "default":
                    return missing
                canonical = {"instType": inst_type, "channel": channel, "instId": "default"}
                return _Sub(f"v1|{inst_type}|{channel}", canonical, "v1", dialect, channel,
                            inst_type=inst_type)  # fmt: skip
            field_name = "coin" if channel == "account" else "instId"
            key = arg.get(field_name, "default")
            inst_type = inst_type.upper()
            if inst_type not in INST_TYPES or not isinstance(key, str):
                return missing
            if channel == "positions" and (inst_type == "SPOT" or key != "default"):
                return missing  # a positions push lists all of an instType's positions
            canonical = {"instType": inst_type, "channel": channel, field_name: key}
            return _Sub(f"v2|{inst_type}|{channel}|{key}", canonical, "v2", dialect, channel,
                        inst_type=inst_type, key=key)  # fmt: skip
        if channel not in _PUBLIC or not isinstance(inst_id, str):
            return missing
        if dialect == "v1":
            symbol = self._v1_market(inst_id) if inst_type.lower() == "mc" else None
            inst_type = "mc"
        else:
            inst_type = inst_type.upper()
            symbol = f"{inst_type}:{inst_id}"
        if symbol is None or symbol not in self.venue.markets:
            return missing
        canonical = {"instType": inst_type, "channel": channel, "instId": inst_id}
        return _Sub(f"{dialect}|{channel}|{symbol}", canonical, "public", dialect, channel,
                    symbol=symbol)  # fmt: skip

    def _v1_market(self, inst_id: str) -> str | None:
        """The futures market a v1 ``mc`` instId names (v1 has no spot here)."""
        for inst_type in INST_TYPES[1:]:
            if f"{inst_type}:{inst_id}" in self.venue.markets:
                return f"{inst_type}:{inst_id}"
        return None

    def _first_push(self, sub: _Sub) -> Any:
        if sub.kind == "v2":
            return self.private.v2_snapshot(sub.inst_type, sub.channel, sub.key, sub.arg)
        if sub.kind == "v1":
            return self.private.v1_snapshot(sub.inst_type, sub.channel, sub.arg)
        now = self.venue.now_ms()
        if sub.channel in _BOOK_CHANNELS:
            return self._book_snapshot(sub.dialect, sub.channel, sub.symbol, sub.arg, now)
        if sub.channel == "ticker":
            return self._ticker_push(sub.dialect, sub.symbol, sub.arg, now)
        trades = self._ticker(sub.symbol).trades
        if not trades:
            return None
        rows = [trade_row(sub.dialect, ts, t) for ts, t in reversed(trades)]  # newest first
        return {"action": "snapshot", "arg": sub.arg, "data": rows, "ts": now}

    # ------------------------------------------------------------------ books

    def _top(self, symbol: str) -> tuple[Levels, Levels]:
        market = self.venue.markets[symbol]
        return market.levels("bid", CHECKSUM_LEVELS), market.levels("ask", CHECKSUM_LEVELS)

    def _book_snapshot(
        self, dialect: str, channel: str, symbol: str, arg: dict[str, Any], now: int
    ) -> dict[str, Any]:
        market = self.venue.markets[symbol]
        depth = _BOOK_CHANNELS[channel]
        if depth is None and dialect == "v1":
            depth = V1_DEPTH
        bids, asks = market.levels("bid", depth), market.levels("ask", depth)
        if channel == "books" and dialect == "v1":
            self._v1_books.told(symbol, bids, asks)
        entry: dict[str, Any] = {"asks": wire_levels(asks), "bids": wire_levels(bids)}
        if channel == "books":
            entry["checksum"] = bitget_checksum(bids[:CHECKSUM_LEVELS], asks[:CHECKSUM_LEVELS])
        if dialect == "v2":
            entry["seq"] = market.last_update_id
        entry["ts"] = str(now)
        return {"action": "snapshot", "arg": arg, "data": [entry], "ts": now}

    def market_messages(self, update: MarketUpdate) -> Iterable[Publication]:
        venue = self.venue
        symbol = update.symbol
        inst_type, inst_id = split(symbol)
        now = venue.now_ms()
        # Book faults are taken here, once per update, so that a withheld or corrupted
        # update is the same for v1 and v2 subscribers (the framework's per-publication
        # faults would hit only the first of them); publications are not marked book=True.
        skip = venue.faults.take_skip(symbol)
        corrupt = not skip and venue.faults.take_corrupt(symbol)
        out: list[Publication] = []
        topic = f"v2|books|{symbol}"
        if venue.has_subscribers(topic) and not skip:
            entry = {"asks": wire_levels(update.asks), "bids": wire_levels(update.bids),
                     "checksum": self._checksum(symbol, corrupt), "seq": update.last_id,
                     "ts": str(now)}  # fmt: skip
            arg = {"instType": inst_type, "channel": "books", "instId": inst_id}
            out.append(Publication(topic, self._push("update", arg, entry, now), symbol))
        topic = f"v1|books|{symbol}"
        if venue.has_subscribers(topic) and symbol in self._v1_books:
            # The window moves even when the update is withheld: that is the gap.
            bids, asks = self._v1_books.changes(venue.markets[symbol])
            if not skip and (bids or asks):
                entry = {"asks": asks, "bids": bids, "checksum": self._checksum(symbol, corrupt),
                         "ts": str(now)}  # fmt: skip
                arg = {"instType": "mc", "channel": "books", "instId": inst_id}
                out.append(Publication(topic, self._push("update", arg, entry, now), symbol))
        else:
            self._v1_books.forget(symbol)
        self._ticker(symbol).record(update, now)
        if update.trades:
            kept = self.recent_trades.setdefault(symbol, deque(maxlen=500))
            kept.extend(trade_row("v2", now, t) for t in update.trades)
        for dialect in ("v2", "v1"):
            if dialect == "v1" and inst_type == "SPOT":
                continue
            out.extend(self._public_pushes(dialect, update, now))
        return out

    def _public_pushes(self, dialect: str, update: MarketUpdate, now: int) -> list[Publication]:
        venue = self.venue
        symbol = update.symbol
        inst_type, inst_id = split(symbol)
        inst = "mc" if dialect == "v1" else inst_type
        out = []
        for channel in ("books1", "books5", "books15", "trade", "ticker"):
            topic = f"{dialect}|{channel}|{symbol}"
            if not venue.has_subscribers(topic) or (channel == "trade" and not update.trades):
                continue
            arg = {"instType": inst, "channel": channel, "instId": inst_id}
            if channel == "trade":
                rows = [trade_row(dialect, now, t) for t in update.trades]
                payload: Any = {"action": "update", "arg": arg, "data": rows, "ts": now}
            elif channel == "ticker":
                payload = self._ticker_push(dialect, symbol, arg, now)
            else:
                payload = self._book_snapshot(dialect, channel, symbol, arg, now)
            out.append(Publication(topic, payload, symbol))
        return out

    @staticmethod
    def _push(action: str, arg: dict[str, Any], entry: Any, now: int) -> dict[str, Any]:
        return {"action": action, "arg": arg, "data": [entry], "ts": now}

    def _checksum(self, symbol: str, corrupt: bool) -> int:
        checksum = bitget_checksum(*self._top(symbol))
        return wrong_checksum(checksum) if corrupt else checksum

    def corrupt_checksum(self, payload: Any) -> Any:
        entry = payload["data"][0]
        entry["checksum"] = wrong_checksum(entry["checksum"])
        return payload

    # ---------------------------------------------------------- trades, ticker

    def _ticker(self, symbol: str) -> Ticker:
        ticker = self._tickers.get(symbol)
        if ticker is None:
            price = self.venue.markets[symbol].best()[0]
            ticker = self._tickers[symbol] = Ticker(price, price, Decimal(price), Decimal(price))
        return ticker

    def rest_ticker(self, symbol: str) -> dict[str, Any]:
        """A ``market/tickers`` row (v2): the stream's fields under ``symbol`` (spot
        names the 24-hour open ``open``)."""
        now = self.venue.now_ms()
        row = ticker_data("v2", self.venue.markets[symbol], self._ticker(symbol), now)
        row["symbol"] = row.pop("instId")
        if split(symbol)[0] == "SPOT":
            row["open"] = row.pop("open24h")
        return row

    def _ticker_push(self, dialect: str, symbol: str, arg: dict[str, Any], now: int) -> Any:
        data = ticker_data(dialect, self.venue.markets[symbol], self._ticker(symbol), now)
        return {"action": "snapshot", "arg": arg, "data": [data], "ts": now}

    # ---------------------------------------------------------------- account

    def account_messages(self, event: AccountEvent) -> Iterable[Any]:
        # Bitget's private pushes go to per-channel, per-instType subscriptions with
        # their own arg, not to one "user" stream: they are published here, on the
        # fake's topics for those subscriptions, and nothing is returned for "user".
        self.private.publish(event)
        return ()

    async def check_signed(self, request: web.Request) -> web.Response | None:
        """Verify Bitget's ``ACCESS-*`` headers; Bitget's error response, or ``None``."""
        return await self._rest.check_signed(request)

    # --------------------------------------------------------- injected faults

    def malformed_message(self, symbol: str) -> Any:
        # A v2 books update whose sides, seq and checksum are unusable: a client must
        # drop it, count it and resync its book, never apply half of it.
        inst_type, inst_id = split(symbol)
        now = self.venue.now_ms()
        arg = {"instType": inst_type, "channel": "books", "instId": inst_id}
        entry = {"asks": "oops", "bids": [["1"]], "checksum": "x", "seq": "y", "ts": str(now)}
        return self._push("update", arg, entry, now)

    def unknown_channel_message(self, symbol: str) -> Any:
        inst_type, inst_id = split(symbol)
        now = self.venue.now_ms()
        arg = {"instType": inst_type, "channel": "fake-unknown-channel", "instId": inst_id}
        return self._push("snapshot", arg, {"ts": str(now)}, now)

    def rest_error(self, status: int) -> Any:
        return rest_error_body(status, self.venue.now_ms())


PROFILES: dict[str, type[ExchangeProfile]] = {BitgetProfile.name: BitgetProfile}
