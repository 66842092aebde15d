"""The exchange-profile interface: what a fake exchange must know about one venue.

A :class:`~datastores.testing.FakeExchange` is generic: it runs one aiohttp
server per *venue* (``binance-spot``, ``binance-usdsm``, ...) on 127.0.0.1,
drives a seeded :class:`~datastores.testing.market.MarketGenerator` per symbol,
keeps WebSocket connections and their subscriptions, a scripted account, and
the fault switches. Everything that is one exchange's dialect lives in an
:class:`ExchangeProfile` subclass, in ``datastores/testing/profiles/<exchange>/profile.py``.

Writing a profile (e.g. ``profiles/bybit/profile.py``)
-------------------------------------------------------

1. Subclass :class:`ExchangeProfile` once per venue and set the class
   attributes: ``name`` (``"bybit-linear"``), ``exchange`` (the credentials
   name, ``"bybit"``), ``hosts`` (each real host and whether it is reached over
   ``"http"`` or ``"ws"``; they become :attr:`FakeExchange.redirects`),
   ``default_symbols``, ``ping_interval``/``pong_timeout`` (server-sent ping
   *frames*; 0 when the exchange uses application-level pings), and
   ``has_checksum``.
2. :meth:`~ExchangeProfile.market_config`: tick size, lot size, start price
   and number formatting for a symbol.
3. :meth:`~ExchangeProfile.routes`: the aiohttp routes of the venue. REST
   handlers read ``self.venue`` (markets, account, clock, credentials) and
   answer in the exchange's shapes, errors included. WebSocket handlers call
   ``await self.venue.serve_websocket(request, on_text=...)``, which runs the
   connection (writer, reader, ping frames, faults) and calls ``on_text(conn,
   text)`` for each text frame the client sends; reply with
   ``conn.send_json(...)`` and subscribe with ``conn.subscribe(topic, wrap)``.
4. :meth:`~ExchangeProfile.market_messages`: turn one
   :class:`~datastores.testing.market.MarketUpdate` into
   :class:`Publication` values (topic + payload). Mark book diffs
   ``book=True``: the sequence and checksum faults act on those. Check
   ``self.venue.has_subscribers(topic)`` first to skip building payloads nobody
   reads.
5. :meth:`~ExchangeProfile.account_messages`: turn a scripted
   :class:`~datastores.testing.account.AccountEvent` into private payloads
   (published on the ``"user"`` topic; connections that logged in subscribe to it).
6. Order entry (optional): :meth:`~ExchangeProfile.instrument` describes each
   symbol; the signed order routes read the exchange's request into an
   :class:`~datastores.testing.orders.OrderRequest`, call
   ``self.venue.matching.submit(...)``/``cancel(...)`` and answer
   :class:`~datastores.testing.orders.OrderRejected` in the exchange's error shape.
7. Fault hooks with exchange shapes: :meth:`~ExchangeProfile.corrupt_checksum`,
   :meth:`~ExchangeProfile.malformed_message`,
   :meth:`~ExchangeProfile.unknown_channel_message`,
   :meth:`~ExchangeProfile.rest_error`, :meth:`~ExchangeProfile.expire_token`.
8. Register the classes in the module's ``PROFILES`` dict (venue name ->
   class); ``FakeExchange("<exchange>")`` starts all of them,
   ``FakeExchange("<venue name>")`` one.

Topics are the fake's internal names (e.g. ``"BTCUSDT|depth"``); a connection
subscribes with a *wrapper* that frames the payload text the way that
connection expects (e.g. Binance's combined ``{"stream":..,"data":..}``).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from .market import MarketConfig, MarketUpdate

if TYPE_CHECKING:
    from aiohttp import web

    from .account import AccountEvent
    from .fake import Venue
    from .orders import Instrument

__all__ = ["ExchangeProfile", "Publication", "Wrapper"]

#: Frames one payload's JSON text for one connection (``None``: send as is).
Wrapper = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Publication:
    """One message to publish on a topic.

    Attributes:
        topic: the fake's topic name.
        payload: a JSON-serialisable object (serialised once for all subscribers).
        symbol: the symbol it is about, if any.
        book: ``True`` for order-book diffs (sequence/checksum faults apply).
    """

    topic: str
    payload: Any
    symbol: str | None = None
    book: bool = False


class ExchangeProfile(abc.ABC):
    """One venue's dialect (see the module docstring for how to write one).

    An instance is bound to its :class:`~datastores.testing.fake.Venue`
    (``self.venue``), created when the fake exchange starts.
    """

    #: venue name, e.g. ``"binance-spot"``
    name: ClassVar[str]
    #: credential name used by ``datastores.Client`` for this venue's hosts
    exchange: ClassVar[str]
    #: real host -> ``"http"`` or ``"ws"`` (how a client reaches it)
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]]
    #: symbols generated when the caller names none
    default_symbols: ClassVar[tuple[str, ...]]
    #: seconds between server ping frames (0: the server sends none)
    ping_interval: ClassVar[float] = 0.0
    #: seconds without a pong before the server drops the connection (0: never)
    pong_timeout: ClassVar[float] = 0.0
    #: whether book messages carry a checksum (``corrupt_checksum`` works)
    has_checksum: ClassVar[bool] = False
    #: appended to the fake's key, secret and passphrase for this venue: a venue whose
    #: keys are separate from another's (demo trading, ``"-demo"``) accepts only its own
    key_suffix: ClassVar[str] = ""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue

    def market_config(self, symbol: str) -> MarketConfig:
        """Tick/lot sizes, start price and formatting for ``symbol``."""
        return MarketConfig(symbol)

    @abc.abstractmethod
    def routes(self) -> list[web.RouteDef]:
        """The venue's REST and WebSocket routes."""

    @abc.abstractmethod
    def market_messages(self, update: MarketUpdate) -> Iterable[Publication]:
        """What the venue publishes for one market update (book diffs, trades...)."""

    def instrument(self, symbol: str) -> Instrument | None:
        """What order entry must know about ``symbol`` (currencies, contract value);
        ``None`` (the default): the venue takes no orders for it. See
        :mod:`datastores.testing.orders`."""
        return None

    def account_messages(self, event: AccountEvent) -> Iterable[Any]:
        """Private payloads for one scripted account event (published on ``"user"``)."""
        return ()

    def corrupt_checksum(self, payload: Any) -> Any:
        """``payload`` with a wrong checksum (only when ``has_checksum``)."""
        raise NotImplementedError(f"{self.name} book messages carry no checksum")

    def malformed_message(self, symbol: str) -> Any:
        """A message on a known channel whose content is unusable (bad field types)."""
        return {"malformed": True, "symbol": symbol}

    def unknown_channel_message(self, symbol: str) -> Any:
        """A well-formed message on a channel the client never heard of."""
        return {"channel": "fake-unknown-channel", "symbol": symbol}

    def frame_injected(self, text: str) -> str:
        """The text frame that carries an injected message's JSON ``text`` (the fault
        machinery's malformed, unknown-channel and truncated messages): as is, unless
        the exchange frames its messages (Socket.IO: ``42`` + the event array)."""
        return text

    def rest_error(self, status: int) -> Any:
        """The JSON body the exchange sends with HTTP ``status`` (429, 5xx...)."""
        return {"error": f"HTTP {status}"}

    def expire_token(self) -> list[str]:
        """Expire the private-stream tokens (listenKeys...) and announce it.

        Returns the tokens expired.
        """
        raise NotImplementedError(f"{self.name} has no private-stream token")
