"""One venue of a fake exchange: its server, market, account, connections and request log.

A :class:`Venue` is what a :class:`~datastores.testing.FakeExchange` runs per venue
(``binance-spot``, ``okx``...): an aiohttp server on 127.0.0.1 speaking the venue's
profile, publishing its generated market to subscribed connections and recording the
requests it served. The profiles (``datastores/testing/profiles/<x>/``) drive it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import WSMsgType, web

from .. import _json
from .._clock import Clock
from ._connection import FakeConnection
from ._profile import ExchangeProfile, Publication, Wrapper
from .account import AccountEvent, FakeAccount
from .faults import VenueFaults
from .market import FakeBook, MarketGenerator, MarketUpdate
from .orders import MatchingEngine

__all__ = ["RequestRecord", "Venue", "VenueStats"]

logger = logging.getLogger("datastores.testing")


@dataclass(slots=True)
class VenueStats:
    """Counters of one venue (read them in tests)."""

    connections_opened: int = 0
    connections_closed: int = 0
    messages_sent: int = 0
    messages_received: int = 0
    updates: int = 0
    rest_requests: int = 0


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One REST request the venue received (most recent 1000 are kept)."""

    method: str
    path: str
    query: str
    status: int


class Venue:
    """One venue of a fake exchange: its server, markets, connections, account, faults."""

    def __init__(
        self,
        profile_class: type[ExchangeProfile],
        *,
        seed: int | str,
        symbols: Sequence[str] | None,
        rate: float,
        levels: int | None,
        clock: Clock,
        api_key: str,
        api_secret: str,
        order_id_base: int,
        api_passphrase: str = "",
    ) -> None:
        self.clock = clock
        self.seed = seed
        self.rate = rate
        self.api_key = api_key
        self.api_secret = api_secret
        #: the passphrase of the test key (exchanges whose keys have one: OKX, Bitget...)
        self.api_passphrase = api_passphrase
        self.profile: ExchangeProfile = profile_class(self)
        self.name = self.profile.name
        #: every venue of the same FakeExchange, by name (set by the FakeExchange)
        self.peers: Mapping[str, Venue] = {self.name: self}
        #: the venue whose server serves this one: itself, unless an earlier venue of the
        #: fake claims one of its hosts (its profile then routes through ``peers``)
        self.server: Venue = self
        self.markets: dict[str, MarketGenerator] = {}
        for symbol in symbols or self.profile.default_symbols:
            config = self.profile.market_config(symbol)
            if levels is not None:
                config = replace(config, levels=levels)
            self.markets[symbol] = MarketGenerator(config, seed)
        self.connections: set[FakeConnection] = set()
        self._subscribers: dict[str, dict[FakeConnection, Wrapper | None]] = {}
        self.faults = VenueFaults()
        self.account = FakeAccount()
        self.account._order_ids = itertools.count(order_id_base)
        #: order entry: the orders placed through the venue's REST API match here
        self.matching = MatchingEngine(self)
        self.stats = VenueStats()
        self.requests: deque[RequestRecord] = deque(maxlen=1000)
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        #: the background ticker publishes nothing while paused
        self.paused = False
        self._connected: asyncio.Event | None = None

    def __repr__(self) -> str:
        return f"<Venue {self.name} {self.url or '(stopped)'}>"

    def now_ms(self) -> int:
        """The venue clock, in milliseconds since the epoch."""
        return int(self.clock.time() * 1000)

    # --------------------------------------------------------------- publishing

    def has_subscribers(self, topic: str) -> bool:
        """Whether any connection listens on ``topic`` (skip building unread payloads)."""
        return topic in self._subscribers

    def publish(self, publication: Publication) -> None:
        """Send one publication to its topic's subscribers, applying book faults."""
        payload = publication.payload
        if publication.book:
            if self.faults.take_skip(publication.symbol):
                return
            if self.faults.take_corrupt(publication.symbol):
                payload = self.profile.corrupt_checksum(payload)
        self.publish_text(publication.topic, _json.dumps(payload))

    def publish_text(self, topic: str, text: str) -> int:
        """Send already-serialised ``text`` to ``topic``'s subscribers. Returns how many."""
        subscribers = self._subscribers.get(topic)
        if not subscribers:
            return 0
        for conn, wrapper in list(subscribers.items()):
            conn.deliver(text, wrapper)
        return len(subscribers)

    def tick(self, count: int = 1, symbol: str | None = None) -> list[MarketUpdate]:
        """Advance the market(s) by ``count`` updates each and publish them."""
        markets = [self.markets[symbol]] if symbol is not None else list(self.markets.values())
        updates = []
        profile = self.profile
        for _ in range(count):
            for market in markets:
                update = market.step()
                self.stats.updates += 1
                updates.append(update)
                for publication in profile.market_messages(update):
                    self.publish(publication)
                # Resting orders fill once the moved book crosses them (after the market
                # message, as an exchange reports the trade after the book change).
                self.matching.on_market(market.symbol)
        return updates

    def emit_account(self, event: AccountEvent) -> None:
        """Publish a scripted account event's private messages on ``"user"``."""
        for payload in self.profile.account_messages(event):
            self.publish_text("user", _json.dumps(payload))

    def book(self, symbol: str) -> FakeBook:
        """The exchange's current book of ``symbol`` (the truth)."""
        try:
            return self.markets[symbol].book()
        except KeyError:
            raise KeyError(f"{self.name} has no symbol {symbol!r}") from None

    # ---------------------------------------------------------------- websockets

    async def serve_websocket(
        self,
        request: web.Request,
        on_text: Callable[[FakeConnection, str], None],
        *,
        market_stream: bool = True,
        on_open: Callable[[FakeConnection], None] | None = None,
    ) -> web.WebSocketResponse:
        """Run one WebSocket connection until it ends (profiles call this).

        ``on_open(conn)`` runs once the handshake is done (e.g. subscribe to the
        streams named in the URL); ``on_text(conn, text)`` for each text frame.
        Ping frames from the client are answered unless the
        ``stop_answering_pings`` fault is on; the profile's ``ping_interval``
        drives server pings and ``pong_timeout`` drops silent clients.
        """
        ws = web.WebSocketResponse(autoping=False, max_msg_size=1 << 22)
        await ws.prepare(request)
        conn = FakeConnection(self, request, ws, market_stream)
        self.connections.add(conn)
        self.stats.connections_opened += 1
        if self._connected is not None:
            self._connected.set()
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        reader = asyncio.ensure_future(self._read(conn, on_text))
        pinger = asyncio.ensure_future(self._ping(conn)) if self.profile.ping_interval > 0 else None
        try:
            if on_open is not None:
                on_open(conn)
            await conn._write_loop()
        finally:
            for helper in (reader, pinger):
                if helper is not None:
                    helper.cancel()
            await asyncio.gather(reader, *([pinger] if pinger else []), return_exceptions=True)
            for topic in list(conn.subscriptions):
                conn.unsubscribe(topic)
            self.connections.discard(conn)
            self.stats.connections_closed += 1
            if self._connected is not None:
                self._connected.set()
            conn._closing = True
            conn._flushed.set()
            if not conn.aborted and not ws.closed:
                await ws.close()
            if task is not None:
                self._handlers.discard(task)
        return ws

    async def _read(
        self, conn: FakeConnection, on_text: Callable[[FakeConnection, str], None]
    ) -> None:
        ws = conn.ws
        try:
            while True:
                msg = await ws.receive()
                if msg.type == WSMsgType.TEXT:
                    conn.received += 1
                    self.stats.messages_received += 1
                    try:
                        on_text(conn, msg.data)
                    except Exception:
                        logger.exception("%r: profile failed on a client message", conn)
                elif msg.type == WSMsgType.PING:
                    if self.faults.answer_pings:
                        await ws.pong(msg.data)
                elif msg.type == WSMsgType.PONG:
                    conn.last_pong = self.clock.monotonic()
                elif msg.type == WSMsgType.BINARY:
                    conn.received += 1
                else:  # CLOSE, CLOSING, CLOSED, ERROR
                    break
        except (ConnectionError, RuntimeError):
            pass
        finally:
            conn._reader_done()

    async def _ping(self, conn: FakeConnection) -> None:
        interval = self.profile.ping_interval
        timeout = self.profile.pong_timeout
        while True:
            await self.clock.sleep(interval)
            if conn.closing:
                return
            if timeout and self.clock.monotonic() - conn.last_pong > timeout:
                logger.info("%r: no pong for %.0f s; closing", conn, timeout)
                conn.close(code=1008)
                return
            try:
                await conn.ws.ping(str(self.now_ms()).encode())
            except (ConnectionError, RuntimeError):
                return

    # ----------------------------------------------------------------- lifecycle

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await handler(request)
        self.stats.rest_requests += 1
        failure = self.faults.take_rest(request.path)
        if failure is not None:
            headers = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = str(int(failure.retry_after))
            response: web.StreamResponse = web.json_response(
                self.profile.rest_error(failure.status),
                status=failure.status,
                headers=headers,
                dumps=_json.dumps,
            )
        else:
            response = await handler(request)
        self.requests.append(
            RequestRecord(request.method, request.path, request.query_string, response.status)
        )
        return response

    async def start(self) -> None:
        """Start the server on a free port of 127.0.0.1 (unless this venue shares
        :attr:`server`'s) and the market ticker."""
        if self.server is not self:
            self.url = self.server.url
        else:
            app = web.Application(middlewares=[self._middleware])
            app.router.add_routes(self.profile.routes())
            runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
            await runner.setup()
            self._runner = runner
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            host, port = runner.addresses[0][:2]
            self.url = f"http://{host}:{port}"
        if self.rate > 0:
            self._ticker = asyncio.ensure_future(self._tick_loop())

    async def _tick_loop(self) -> None:
        clock = self.clock
        interval = min(0.05, 1.0 / self.rate)
        due = 0.0
        last = clock.monotonic()
        while True:
            await clock.sleep(interval)
            now = clock.monotonic()
            due += (now - last) * self.rate
            last = now
            # Never try to catch up more than half a second: a stalled loop must not
            # turn into a burst.
            due = min(due, self.rate * 0.5 + 1)
            steps = int(due)
            if self.paused:
                due = 0.0
            elif steps:
                due -= steps
                self.tick(steps)

    async def stop(self) -> None:
        """Stop ticking, close every connection, stop the server (idempotent)."""
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
            self._ticker = None
        for conn in list(self.connections):
            conn.close(code=1001)
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=2.0)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
