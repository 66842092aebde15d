"""``OKXDataStore``: OKX API v5 WebSocket channels and REST bootstraps in memory.

Store names, keys and item shapes follow the reference library's documented
API (``pybotters.OKXDataStore``), so code ports by changing the import. Where
that library had integrity bugs, this one does the right thing: books are
verified (``seqId``/``prevSeqId``, checksum) and recovered, one book per
instrument and channel flavour, ``books.ts`` per instrument, unknown channels
land in a generic store instead of raising, and ``initialize()`` raises on an
OKX error code. See ``docs/exchanges/okx.md``.

Docs: https://www.okx.com/docs-v5/en/
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..._collection import DataStoreCollection
from ..._errors import ExchangeAPIError
from ..._store import DataStore, Item
from ..._storefield import StoreField
from ._books import OKXBooks
from ._stores import (
    Account,
    AccountGreeks,
    AlgoAdvance,
    BalanceAndPosition,
    Candle,
    EstimatedPrice,
    FundingRate,
    Generic,
    IndexCandle,
    IndexTickers,
    Instruments,
    LiquidationWarning,
    MarkPrice,
    MarkPriceCandle,
    OpenInterest,
    OptSummary,
    Orders,
    OrdersAlgo,
    Positions,
    PriceLimit,
    Status,
    Tickers,
    Trades,
)
from ._sync import BOOKS_PATH, BookSync, _opt_int, okx_api_error

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = ["OKXDataStore", "OKXStatistics"]

logger = logging.getLogger("datastores.exchanges.okx")

ORDERS_PENDING_PATH = "/api/v5/trade/orders-pending"
ORDERS_ALGO_PENDING_PATH = "/api/v5/trade/orders-algo-pending"

#: Book channels known today; any other ``books*`` channel is treated as one too.
BOOK_CHANNELS = ("books", "books5", "bbo-tbt", "books-l2-tbt", "books50-l2-tbt", "books-elp")
#: most channels given a generic store on the fly (protects memory from junk names)
MAX_GENERIC_CHANNELS = 64
#: most channel names remembered in the routing table
MAX_ROUTES = 4096

Route = Callable[[Mapping[str, Any], Mapping[str, Any], str, Any], None]


class _Malformed(ValueError):
    """A message that does not have the documented shape."""


@dataclass(frozen=True, slots=True)
class OKXStatistics:
    """Counters of an :class:`OKXDataStore`, frozen when read.

    Attributes:
        messages: messages passed to ``onmessage``.
        malformed: messages (or data items) dropped because of their shape.
        ignored: well-formed messages with nothing to store (unknown events,
            WebSocket API replies).
        error_events: ``event: error`` messages received from OKX.
        handler_errors: messages whose handling raised (logged and dropped).
        generic_channels: channels that got a generic store on the fly.
    """

    messages: int
    malformed: int
    ignored: int
    error_events: int
    handler_errors: int
    generic_channels: tuple[str, ...]


def _redact(text: str) -> str:
    # OKX echoes the failed request in error messages; a login request holds the
    # key, passphrase and signature, which never belong in a log.
    lowered = text.lower()
    if "apikey" in lowered or "passphrase" in lowered or '"sign"' in lowered:
        return "(withheld: the message echoes a login request)"
    return text[:300]


class OKXDataStore(DataStoreCollection):
    """OKX v5 stores, fed by ``onmessage`` (public, private and business WebSockets)
    and ``initialize()`` (open orders, algo orders, order-book snapshots).

    Routing is by ``arg.channel`` through a dict (O(1) per message).
    ``candle*``, ``mark-price-candle*`` and ``index-candle*`` channels share
    their stores; every ``books*`` channel and ``bbo-tbt`` are order books;
    channels without a dedicated store (``fills``, ``trades-all``, ...) get a
    :class:`Generic` append-only store named after the channel
    (``store["trades-all"]``).

    Books: ``books`` holds one book per ``instId``, fed by the deepest book
    channel subscribed for it (books-l2-tbt > books > books50-l2-tbt > books5 >
    bbo-tbt > books-elp). Other flavours of the same instrument keep their own
    book in ``books_by_channel[channel]``, so two flavours never corrupt each
    other. Book recovery needs the ``ws`` argument of ``onmessage`` (given by
    ``WebSocketApp``) to resubscribe, or a client (``initialize()`` or
    ``store.client = client``) for REST snapshots.
    """

    _EXCHANGE = "okx"

    def _init(self) -> None:
        self._sync = BookSync(self, self.books)
        self._malformed = 0
        self._ignored = 0
        self._error_events = 0
        self._generic: list[str] = ["fills"]
        self._routes: dict[str, Route] = {}
        for name, store in self._stores.items():
            if name not in ("books", "candle", "mark-price-candle", "index-candle"):
                self._routes[name] = self._items_route(store)
        for channel in BOOK_CHANNELS:
            self._routes[channel] = self._on_books
        self._candle_routes = {
            "candle": self._rows_route(self.candle),
            "mark-price-candle": self._rows_route(self.markpricecandle),
            "index-candle": self._rows_route(self.indexcandle),
        }

    # ------------------------------------------------------------------ routing

    def _items_route(self, store: DataStore) -> Route:
        on_data: Callable[[list[Item], Mapping[str, Any]], None] = store._on_data  # type: ignore[attr-defined]

        def route(msg: Mapping[str, Any], arg: Mapping[str, Any], channel: str, ws: Any) -> None:
            data = msg.get("data")
            if not isinstance(data, list):
                raise _Malformed("data is not a list")
            items = [i for i in data if isinstance(i, dict)]
            if len(items) != len(data):
                self._drop(channel, f"{len(data) - len(items)} data item(s) not objects")
                if not items:
                    return
            on_data(items, arg)

        return route

    def _rows_route(self, store: DataStore) -> Route:
        on_data: Callable[[list[Any], Mapping[str, Any]], None] = store._on_data  # type: ignore[attr-defined]

        def route(msg: Mapping[str, Any], arg: Mapping[str, Any], channel: str, ws: Any) -> None:
            data = msg.get("data")
            if not isinstance(data, list):
                raise _Malformed("data is not a list")
            rows = [r for r in data if isinstance(r, list) and r]
            if len(rows) != len(data):
                self._drop(channel, f"{len(data) - len(rows)} candle row(s) not arrays")
            if rows:
                on_data(rows, arg)

        return route

    def _on_books(
        self, msg: Mapping[str, Any], arg: Mapping[str, Any], channel: str, ws: Any
    ) -> None:
        if not self._sync.on_message(msg, arg, channel, ws):
            raise _Malformed("book message without instId or data list")

    def _route(self, channel: str) -> Route | None:
        """Resolve a channel not in the table yet, and remember it."""
        route: Route | None
        if channel.startswith("mark-price-candle"):
            route = self._candle_routes["mark-price-candle"]
        elif channel.startswith("index-candle"):
            route = self._candle_routes["index-candle"]
        elif channel.startswith("candle"):
            route = self._candle_routes["candle"]
        elif channel.startswith("books"):
            route = self._on_books
        elif len(self._generic) < MAX_GENERIC_CHANNELS:
            store = self._create(channel, datastore_class=Generic)
            self._generic.append(channel)
            logger.info("okx: channel %r has no dedicated store; using store[%r]", channel, channel)
            route = self._items_route(store)
        else:
            return None
        if len(self._routes) < MAX_ROUTES:
            self._routes[channel] = route
        return route

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if not isinstance(msg, dict):
            self._drop(None, f"not a JSON object ({type(msg).__name__})")
            return
        arg = msg.get("arg")
        if "event" in msg:
            self._on_event(msg, arg)
            return
        if arg is None:
            if "op" in msg or "id" in msg:
                self._ignored += 1  # a WebSocket API reply (order placement...)
            else:
                self._drop(None, "no arg and no event")
            return
        channel = arg.get("channel") if isinstance(arg, dict) else None
        if not isinstance(channel, str):
            self._drop(None, "arg without a channel")
            return
        route = self._routes.get(channel) or self._route(channel)
        if route is None:
            self._drop(channel, "too many channels without a dedicated store")
            return
        try:
            route(msg, arg, channel, ws)
        except _Malformed as exc:
            self._drop(channel, str(exc))

    def _drop(self, channel: str | None, why: str) -> None:
        self._malformed += 1
        level = logging.WARNING if self._malformed == 1 else logging.DEBUG
        logger.log(
            level,
            "okx: dropped a malformed message%s (%s); %d so far",
            f" on {channel!r}" if channel else "",
            why,
            self._malformed,
        )

    def _on_event(self, msg: dict[str, Any], arg: Any) -> None:
        event = msg.get("event")
        if event == "error":
            self._error_events += 1
            logger.warning(
                "okx: error event code %s: %s", msg.get("code"), _redact(str(msg.get("msg", "")))
            )
        elif event in ("subscribe", "unsubscribe") and isinstance(arg, dict):
            channel = arg.get("channel")
            if isinstance(channel, str) and (channel.startswith("books") or channel == "bbo-tbt"):
                if event == "subscribe":
                    self._sync.on_subscribed(arg)
                else:
                    self._sync.on_unsubscribed(arg)
            logger.debug("okx: %s %s", event, arg)
        elif event == "login":
            logger.debug("okx: logged in (code %s)", msg.get("code"))
        elif event == "channel-conn-count-error":
            logger.warning(
                "okx: too many connections for channel %r: %s",
                msg.get("channel"),
                _redact(str(msg.get("msg", ""))),
            )
        elif event == "channel-conn-count":
            logger.debug(
                "okx: channel %r connections: %s", msg.get("channel"), msg.get("connCount")
            )
        elif event == "notice":
            # e.g. 64008: the connection closes soon for a service upgrade; the
            # WebSocketApp reconnects and on_reconnect() resyncs the books.
            logger.warning(
                "okx: notice code %s: %s", msg.get("code"), _redact(str(msg.get("msg", "")))
            )
        else:
            self._ignored += 1
            logger.debug("okx: ignored event %r", event)

    def _onerror(self, msg: Any, exc: Exception) -> None:
        arg = msg.get("arg") if isinstance(msg, dict) else None
        if isinstance(arg, dict):
            self._sync.on_handler_error(arg, exc)

    def _describe(self, msg: Any) -> str:
        arg = msg.get("arg") if isinstance(msg, dict) else None
        if isinstance(arg, dict):
            return (
                f"channel {arg.get('channel')!r} {arg.get('instId') or arg.get('instType') or ''}"
            )
        return super()._describe(msg)

    def on_reconnect(self, ws: Any = None) -> None:
        """Mark the books fed by the lost connection unsynced (counted as resyncs);
        they recover from the snapshot the resubscription brings, or from REST."""
        self._sync.on_reconnect(ws)

    async def aclose(self) -> None:
        """Stop background book recovery (also done when the client closes)."""
        await self._sync.aclose()

    # -------------------------------------------------------------- initialize

    async def _onresponse(self, resp: ClientResponse, data: Any) -> None:
        """Apply ``orders-pending``, ``orders-algo-pending`` or ``market/books``.

        Raises:
            ExchangeAPIError: OKX answered with a ``code`` other than ``"0"``
                (``RateLimitError``/``AuthenticationError`` where the code says so).
        """
        path = resp.url.path
        endpoint = f"{resp.method} {path}"
        if not isinstance(data, Mapping):
            raise ExchangeAPIError(
                exchange="okx",
                endpoint=endpoint,
                status=resp.status,
                message="response is not a JSON object",
            )
        code = data.get("code")
        if str(code) != "0":
            raise okx_api_error(endpoint, resp.status, code, str(data.get("msg", "")))
        rows = data.get("data")
        if not isinstance(rows, list):
            raise ExchangeAPIError(
                exchange="okx", endpoint=endpoint, status=resp.status, message="no data list"
            )
        items = [r for r in rows if isinstance(r, dict)]
        if path == ORDERS_PENDING_PATH:
            self.orders._update(items)
        elif path == ORDERS_ALGO_PENDING_PATH:
            self.ordersalgo._update([i for i in items if i.get("ordType") in OrdersAlgo.ORD_TYPES])
            self.algoadvance._update(
                [i for i in items if i.get("ordType") in AlgoAdvance.ORD_TYPES]
            )
        elif path == BOOKS_PATH:
            self._install_book(resp, endpoint, items)
        else:
            await super()._onresponse(resp, data)

    def _install_book(self, resp: ClientResponse, endpoint: str, items: list[Item]) -> None:
        inst = resp.url.query.get("instId")
        book = items[0] if items else None
        try:
            seq = _opt_int(book.get("seqId")) if book else None
        except (TypeError, ValueError):
            seq = None
        asks = book.get("asks") if book else None
        bids = book.get("bids") if book else None
        if (
            not inst
            or not isinstance(seq, int)
            or not isinstance(asks, list)
            or not isinstance(bids, list)
        ):
            raise ExchangeAPIError(
                exchange="okx",
                endpoint=endpoint,
                status=resp.status,
                message="order book snapshot without instId, seqId, asks or bids",
            )
        self._sync.install_snapshot(inst, seq, asks, bids)

    # -------------------------------------------------------------- inspection

    # Phase-2 shim: OKX keeps its own counters until it moves onto CollectionStatistics.
    def statistics(self) -> OKXStatistics:  # type: ignore[override]
        """Message counters, frozen at the time of the call."""
        return OKXStatistics(
            messages=self._messages,
            malformed=self._malformed,
            ignored=self._ignored,
            error_events=self._error_events,
            handler_errors=self._handler_errors,
            generic_channels=tuple(self._generic),
        )

    @property
    def dropped_messages(self) -> int:
        """Messages (or data items) dropped because of their shape."""
        return self._malformed

    @property
    def error_events(self) -> int:
        """``event: error`` messages received from OKX."""
        return self._error_events

    @property
    def rest_url(self) -> str:
        """Base URL for REST book snapshots (default ``https://www.okx.com``; set it
        for a regional host such as ``https://my.okx.com``)."""
        return self._sync.rest_url

    @rest_url.setter
    def rest_url(self, url: str) -> None:
        self._sync.rest_url = url.rstrip("/")

    @property
    def books_by_channel(self) -> Mapping[str, OKXBooks]:
        """Books of channel flavours that do not feed :attr:`books` for an instrument
        (because a deeper channel does), by channel name."""
        return self._sync.secondary

    def book_channel(self, inst_id: str) -> str | None:
        """The channel whose book :attr:`books` holds for ``inst_id`` (or ``None``)."""
        return self._sync.channel_of(inst_id)

    # ------------------------------------------------------------- store access

    #: ``instruments`` channel (by instId).
    instruments = StoreField(Instruments)

    #: ``tickers`` channel (by instId).
    tickers = StoreField(Tickers)

    #: ``open-interest`` channel (by instId).
    openinterest = StoreField(OpenInterest, "open-interest")

    #: ``candle*`` channels (by channel, instId, ts).
    candle = StoreField(Candle)

    #: ``trades`` channel (append log).
    trades = StoreField(Trades)

    #: ``estimated-price`` channel (by instId).
    estimatedprice = StoreField(EstimatedPrice, "estimated-price")

    #: ``mark-price`` channel (by instId).
    markprice = StoreField(MarkPrice, "mark-price")

    #: ``mark-price-candle*`` channels (by channel, instId, ts).
    markpricecandle = StoreField(MarkPriceCandle, "mark-price-candle")

    #: ``price-limit`` channel (by instId).
    pricelimit = StoreField(PriceLimit, "price-limit")

    #: Order books (by instId, side, px), one per instrument; see the class doc.
    books = StoreField(OKXBooks)

    #: ``opt-summary`` channel (by instId).
    optsummary = StoreField(OptSummary, "opt-summary")

    #: ``funding-rate`` channel (by instId).
    fundingrate = StoreField(FundingRate, "funding-rate")

    #: ``index-candle*`` channels (by channel, instId, ts).
    indexcandle = StoreField(IndexCandle, "index-candle")

    #: ``index-tickers`` channel (by instId).
    indextickers = StoreField(IndexTickers, "index-tickers")

    #: ``status`` channel (append log).
    status = StoreField(Status)

    #: ``account`` channel: latest summary; ``account.details`` by ccy.
    account = StoreField(Account)

    #: ``positions`` channel (by instId, mgnMode, posSide).
    positions = StoreField(Positions)

    #: ``balance_and_position`` channel with ``.balance`` and ``.position``.
    balance_and_position = StoreField(BalanceAndPosition)

    #: ``orders`` channel: open orders (by ordId).
    orders = StoreField(Orders)

    #: ``orders-algo`` channel (by algoId).
    ordersalgo = StoreField(OrdersAlgo, "orders-algo")

    #: ``algo-advance`` channel (by algoId).
    algoadvance = StoreField(AlgoAdvance, "algo-advance")

    #: ``liquidation-warning`` channel (by instId).
    liquidationwarning = StoreField(LiquidationWarning, "liquidation-warning")

    #: ``account-greeks`` channel (by ccy).
    accountgreeks = StoreField(AccountGreeks, "account-greeks")

    #: ``fills`` channel (VIP5+; append log of fills as received).
    fills = StoreField(Generic)
