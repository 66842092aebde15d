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
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType

from .._clock import SYSTEM_CLOCK, Clock
from .._credentials import PASSPHRASE_REQUIRED, PRIVATE_KEY_ONLY
from ._connection import FakeConnection
from ._profile import ExchangeProfile
from ._venue import RequestRecord, Venue, VenueStats
from .account import FakeOrder
from .faults import FaultInjection
from .market import FakeBook
from .profiles import resolve_profiles

__all__ = ["FakeConnection", "FakeExchange", "RequestRecord", "Venue", "VenueStats"]


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
        api_key: the only API key the fake accepts (see :attr:`apis`).
        api_secret: the only API secret the fake accepts.
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
            if name in PRIVATE_KEY_ONLY:  # Hyperliquid: the private key alone
                table[name] = [venue.api_secret]
            elif name in PASSPHRASE_REQUIRED:
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
