"""Fake exchanges on 127.0.0.1: real aiohttp HTTP + WebSocket servers speaking an
exchange's dialect, with a seeded market, a scripted account and fault injection.

Example::

    async with FakeExchange("binance-spot", seed=1) as fake:
        async with Client(apis=fake.apis, redirects=fake.redirects) as client:
            store = BinanceSpotDataStore()
            await client.ws_connect(
                "wss://stream.binance.com:9443/ws/btcusdt@depth@100ms",
                hdlr_json=store.onmessage,
            )
            await store.initialize(
                client.get("https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000")
            )
            fake.skip_sequence("BTCUSDT")       # the client must notice and resync
            ...
            assert not fake.book("BTCUSDT").differences(bids, asks, depth=100)

One server (one random free port) per venue; :attr:`FakeExchange.redirects`
maps each real host to its server, for ``Client(redirects=...)``, so user code
keeps the real URLs and the Client still signs them.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

from aiohttp import WSMsgType, web

from .. import _json
from .._clock import SYSTEM_CLOCK, Clock
from .._credentials import PASSPHRASE_REQUIRED
from ._connection import FakeConnection
from ._profile import ExchangeProfile, Publication, Wrapper
from .account import AccountEvent, FakeAccount, FakeOrder
from .faults import FaultInjection, VenueFaults
from .market import FakeBook, MarketGenerator, MarketUpdate
from .profiles import resolve_profiles

__all__ = ["FakeConnection", "FakeExchange", "RequestRecord", "Venue", "VenueStats"]

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


class FakeExchange(FaultInjection):
    """A fake exchange: one local server per venue, ready for ``Client(redirects=...)``.

    Args:
        exchange: an exchange (``"binance"``: all its venues) or a venue
            (``"binance-spot"``, ``"binance-usdsm"``, ``"binance-coinm"``), or a list.
        seed: market seed; the same seed gives the same market stream.
        symbols: symbols to generate (default: the profile's), or a mapping
            venue name -> symbols.
        rate: book updates per second per symbol published in the background;
            ``0`` publishes only when the test calls :meth:`tick`.
        levels: price levels per side (default: the profile's, about 2000).
        clock: time source for message timestamps, pings and token expiry.
        api_key, api_secret: the only credentials the fake accepts (see :attr:`apis`).
        api_passphrase: the key's passphrase, for exchanges whose keys have one (Bitget).
    """

    def __init__(
        self,
        exchange: str | Sequence[str] = "binance",
        *,
        seed: int | str = 1,
        symbols: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
        rate: float = 20.0,
        levels: int | None = None,
        clock: Clock = SYSTEM_CLOCK,
        api_key: str = "fake-api-key",
        api_secret: str = "fake-api-secret",
        api_passphrase: str = "fake-passphrase",
    ) -> None:
        if rate < 0:
            raise ValueError("rate must be >= 0")
        names = [exchange] if isinstance(exchange, str) else list(exchange)
        profiles = [p for name in names for p in resolve_profiles(name)]
        self.clock = clock
        self.api_key = api_key
        self.api_secret = api_secret
        self.api_passphrase = api_passphrase
        self.venues: dict[str, Venue] = {}
        for index, profile in enumerate(profiles):
            venue_symbols = symbols.get(profile.name) if isinstance(symbols, Mapping) else symbols
            self.venues[profile.name] = Venue(
                profile,
                seed=seed,
                symbols=venue_symbols,
                rate=rate,
                levels=levels,
                clock=clock,
                api_key=api_key + profile.key_suffix,
                api_secret=api_secret + profile.key_suffix,
                order_id_base=(index + 1) * 10_000_000 + 1,
                api_passphrase=api_passphrase + profile.key_suffix,
            )
        # Venues claiming a common real host (Bybit: every category is on api.bybit.com
        # and stream.bybit.com) share the first one's server, whose profile routes their
        # requests through `venue.peers`; REST faults then belong to that server.
        owners: dict[str, Venue] = {}
        for venue in self.venues.values():
            venue.peers = self.venues
            owner = next((owners[h] for h in venue.profile.hosts if h in owners), None)
            if owner is not None:
                venue.server = owner
                venue.faults.rest = owner.faults.rest
            for host in venue.profile.hosts:
                owners.setdefault(host, owner or venue)
        self._started = False

    def __repr__(self) -> str:
        return f"<FakeExchange {list(self.venues)}>"

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> FakeExchange:
        """Start every venue's server (``async with`` does this)."""
        if not self._started:
            self._started = True
            try:
                for venue in self.venues.values():
                    await venue.start()
            except BaseException:
                await self.aclose()
                raise
        return self

    async def aclose(self) -> None:
        """Close every connection and server (idempotent)."""
        # Venues sharing a server stop before it (it is always the earlier one).
        for venue in reversed(self.venues.values()):
            await venue.stop()

    async def __aenter__(self) -> FakeExchange:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -------------------------------------------------------------- wiring

    @property
    def redirects(self) -> dict[str, str]:
        """Real host -> this fake's server, for ``Client(redirects=...)``."""
        table: dict[str, str] = {}
        for venue in self.venues.values():
            if not venue.url:
                raise RuntimeError("start the FakeExchange (async with) before reading redirects")
            ws_url = "ws" + venue.url[len("http") :]
            for host, kind in venue.profile.hosts.items():
                table[host] = ws_url if kind == "ws" else venue.url
        return table

    @property
    def apis(self) -> dict[str, list[str]]:
        """Credentials the fake accepts, for ``Client(apis=...)`` (with the
        passphrase where the exchange's keys have one; a venue with a profile
        ``key_suffix``, such as demo trading, has keys of its own)."""
        table: dict[str, list[str]] = {}
        for venue in self.venues.values():
            name = venue.profile.exchange
            table[name] = [venue.api_key, venue.api_secret]
            if name in PASSPHRASE_REQUIRED:
                table[name].append(venue.api_passphrase)
        return table

    @property
    def profile(self) -> ExchangeProfile:
        """The profile of a single-venue fake (``FakeExchange("binance-spot")``).

        Raises:
            ValueError: the fake has several venues (use ``fake.venues[name].profile``).
        """
        return self._single_venue(None).profile

    @property
    def connections(self) -> list[FakeConnection]:
        """Open WebSocket connections of every venue."""
        return [c for v in self.venues.values() for c in v.connections]

    def _venues(self, venue: str | None = None) -> list[Venue]:
        if venue is None:
            return list(self.venues.values())
        try:
            return [self.venues[venue]]
        except KeyError:
            raise KeyError(f"no venue {venue!r}; this fake has {list(self.venues)}") from None

    def _venue_of(self, symbol: str, venue: str | None = None) -> Venue:
        candidates = [v for v in self._venues(venue) if symbol in v.markets]
        if not candidates:
            raise KeyError(f"no venue of {self!r} lists {symbol!r}")
        if len(candidates) > 1:
            raise ValueError(
                f"{symbol!r} is listed by {[v.name for v in candidates]}; pass venue=..."
            )
        return candidates[0]

    def _single_venue(self, venue: str | None) -> Venue:
        venues = self._venues(venue)
        if len(venues) > 1:
            raise ValueError(f"this fake has venues {list(self.venues)}; pass venue=...")
        return venues[0]

    # ------------------------------------------------------------- the market

    def book(self, symbol: str, *, venue: str | None = None) -> FakeBook:
        """The exchange's current book of ``symbol``: the truth to compare with."""
        return self._venue_of(symbol, venue).book(symbol)

    def tick(self, count: int = 1, symbol: str | None = None, *, venue: str | None = None) -> int:
        """Publish ``count`` more updates per symbol now (tests with ``rate=0``).

        Returns the number of updates generated.
        """
        if symbol is not None:
            return len(self._venue_of(symbol, venue).tick(count, symbol))
        return sum(len(v.tick(count)) for v in self._venues(venue))

    def pause(self) -> None:
        """Stop the background market updates (the markets freeze)."""
        for venue in self.venues.values():
            venue.paused = True

    def resume(self) -> None:
        """Restart the background market updates after :meth:`pause`."""
        for venue in self.venues.values():
            venue.paused = False

    async def wait_for_connections(
        self, count: int = 1, *, venue: str | None = None, timeout: float = 10.0
    ) -> None:
        """Wait until exactly ``count`` WebSocket connections are open (server side).

        A client's ``ws_connect`` may return a moment before the server has
        registered (and subscribed) the connection, and a closed connection
        leaves a moment after the client saw it close; faults and ``tick()``
        act on registered connections only. ``count=0`` waits for all to close.

        Raises:
            TimeoutError: not reached within ``timeout`` seconds (real time).
        """
        venues = self._venues(venue)

        async def reached() -> None:
            while sum(len(v.connections) for v in venues) != count:
                events = []
                for v in venues:
                    if v._connected is None or v._connected.is_set():
                        v._connected = asyncio.Event()
                    events.append(asyncio.ensure_future(v._connected.wait()))
                try:
                    await asyncio.wait(events, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for event in events:
                        event.cancel()

        try:
            await asyncio.wait_for(reached(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"fewer than {count} connections after {timeout} s") from None

    async def drain(self) -> None:
        """Wait until every queued message has been written to the sockets."""
        for conn in self.connections:
            await conn.flushed()

    # ------------------------------------------------------- scripted account

    def place_order(
        self,
        symbol: str,
        side: str,
        quantity: str,
        price: str = "0",
        *,
        order_type: str = "LIMIT",
        client_order_id: str | None = None,
        venue: str | None = None,
    ) -> FakeOrder:
        """Accept an order and push the exchange's "new order" event."""
        target = self._venue_of(symbol, venue) if symbol else self._single_venue(venue)
        event = target.account.place(
            target.now_ms(), symbol, side, quantity, price, order_type, client_order_id
        )
        target.emit_account(event)
        assert event.order is not None
        return event.order

    def _venue_with_order(self, order_id: int, venue: str | None) -> Venue:
        for candidate in self._venues(venue):
            if order_id in candidate.account.orders:
                return candidate
        raise KeyError(f"no order {order_id}")

    def fill_order(
        self,
        order_id: int,
        quantity: str | None = None,
        price: str | None = None,
        *,
        venue: str | None = None,
    ) -> FakeOrder:
        """Fill an order (partially when ``quantity`` is less than what remains)."""
        target = self._venue_with_order(order_id, venue)
        event = target.account.fill(target.now_ms(), order_id, quantity, price)
        target.emit_account(event)
        assert event.order is not None
        return event.order

    def cancel_order(self, order_id: int, *, venue: str | None = None) -> FakeOrder:
        """Cancel a working order and push the exchange's "canceled" event."""
        target = self._venue_with_order(order_id, venue)
        event = target.account.cancel(target.now_ms(), order_id)
        target.emit_account(event)
        assert event.order is not None
        return event.order

    def set_balance(
        self, asset: str, free: str, locked: str = "0", *, venue: str | None = None
    ) -> None:
        """Set a balance and push the exchange's balance event."""
        target = self._single_venue(venue)
        target.emit_account(target.account.set_balance(target.now_ms(), asset, free, locked))

    def set_position(
        self, symbol: str, amount: str, entry_price: str = "0", *, venue: str | None = None
    ) -> None:
        """Set a position (derivatives venues) and push the exchange's position event."""
        target = self._venue_of(symbol, venue)
        target.emit_account(
            target.account.set_position(target.now_ms(), symbol, amount, entry_price)
        )

    def requests(self, *, venue: str | None = None) -> list[RequestRecord]:
        """The REST requests received (most recent 1000 per server), oldest first.

        Venues sharing a server (see :attr:`Venue.server`) share its record.
        """
        servers = {id(v.server): v.server for v in self._venues(venue)}
        return [r for v in servers.values() for r in v.requests]


def iter_levels(levels: Iterable[tuple[str, str]]) -> list[list[str]]:
    """``[(price, size)]`` -> ``[[price, size]]`` (the JSON shape most exchanges use)."""
    return [[p, s] for p, s in levels]
