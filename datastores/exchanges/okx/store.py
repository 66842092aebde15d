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
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ..._collection import DataStoreCollection, Handler
from ..._errors import ExchangeAPIError
from ..._store import Item
from ..._storefield import StoreField
from ._books import OKXBooks
from ._rest import BOOKS_PATH, okx_api_error, opt_int
from ._stores import (
    Account,
    AccountGreeks,
    AlgoAdvance,
    BalanceAndPosition,
    Candle,
    ChannelStore,
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
from ._sync import SECONDARY_PREFIX, BookSync

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = ["OKXDataStore"]

logger = logging.getLogger("datastores.exchanges.okx")

ORDERS_PENDING_PATH = "/api/v5/trade/orders-pending"
ORDERS_ALGO_PENDING_PATH = "/api/v5/trade/orders-algo-pending"

#: Book channels known today; any other ``books*`` channel is treated as one too.
BOOK_CHANNELS = ("books", "books5", "bbo-tbt", "books-l2-tbt", "books50-l2-tbt", "books-elp")
#: most channel names remembered in the routing table
MAX_ROUTES = 4096
#: the ``unhandled`` key of ``event: error`` messages (read by :attr:`error_events`)
ERROR_EVENT = "event:error"


def _refused(msg: Any, ws: Any) -> None:
    """A channel refused beyond ``max_dynamic_stores`` (counted when refused)."""


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

    Routing is by ``arg.channel`` through the channel table (O(1) per message).
    ``candle*``, ``mark-price-candle*`` and ``index-candle*`` channels share
    their stores; every ``books*`` channel and ``bbo-tbt`` are order books;
    channels without a dedicated store (``trades-all``, ...) get a
    :class:`Generic` append-only store named after the channel
    (``store["trades-all"]``).

    Books: ``books`` holds one book per ``instId``, fed by the deepest book
    channel subscribed for it (books-l2-tbt > books > books50-l2-tbt > books5 >
    bbo-tbt > books-elp). Other flavours of the same instrument keep their own
    book in ``books_by_channel[channel]`` (the store ``"books.<channel>"``), so
    two flavours never corrupt each other. Book recovery needs the ``ws``
    argument of ``onmessage`` (given by ``WebSocketApp``) to resubscribe, or a
    client (``initialize()`` or ``store.client = client``) for REST snapshots.

    Counters: ``statistics()`` (``dropped`` by reason, ``unhandled`` by channel or
    event), and :attr:`dropped_messages`, :attr:`ignored_messages`,
    :attr:`error_events`, :attr:`generic_channels`.
    """

    _EXCHANGE = "okx"

    _CHANNELS: ClassVar[Mapping[str, str]] = {
        **{
            channel: "_on_items"
            for channel in (
                "instruments",
                "tickers",
                "open-interest",
                "trades",
                "estimated-price",
                "mark-price",
                "price-limit",
                "opt-summary",
                "funding-rate",
                "index-tickers",
                "status",
                "account",
                "positions",
                "balance_and_position",
                "orders",
                "orders-algo",
                "algo-advance",
                "liquidation-warning",
                "account-greeks",
                "fills",
            )
        },
        **dict.fromkeys(BOOK_CHANNELS, "_on_books"),
    }

    def _init(self) -> None:
        self._sync = BookSync(self, self.books, self._background)
        self._generic: list[str] = ["fills"]
        #: channel -> the store its data items go to (``_on_items``)
        self._channel_stores: dict[str, ChannelStore[Any]] = {
            name: store for name, store in self._stores.items() if isinstance(store, ChannelStore)
        }

    def _client_changed(self) -> None:
        self._sync.resume()

    # ------------------------------------------------------------------ routing

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if not isinstance(msg, dict):
            self._count_dropped("not a JSON object", type(msg).__name__)
            return
        arg = msg.get("arg")
        if "event" in msg:
            self._on_event(msg, arg)
            return
        if arg is None:
            if "op" in msg or "id" in msg:
                # a WebSocket API reply (order placement...): nothing to store
                self._count_unhandled("<websocket api reply>")
            else:
                self._count_dropped("no arg and no event")
            return
        channel = arg.get("channel") if isinstance(arg, dict) else None
        if not isinstance(channel, str):
            self._count_dropped("arg without a channel")
            return
        handler = self._channel_handlers.get(channel) or self._route(channel)
        handler(msg, ws)

    def _route(self, channel: str) -> Handler:
        """Resolve a channel not in the table yet, and remember it (bounded). A
        channel that needs a store made on the fly gets it here, within the
        collection's ``max_dynamic_stores`` (beyond: refused and counted, every
        message, so the refusal is never cached)."""
        handler: Handler
        if channel.startswith("mark-price-candle"):
            handler = self._on_mark_price_candle
        elif channel.startswith("index-candle"):
            handler = self._on_index_candle
        elif channel.startswith("candle"):
            handler = self._on_candle
        elif channel.startswith("books"):
            # A books* name OKX may add one day: its own store, made now (it is
            # used if the channel ever feeds an instrument a deeper channel feeds).
            if channel not in BOOK_CHANNELS and (
                self._create_dynamic(SECONDARY_PREFIX + channel, datastore_class=OKXBooks) is None
            ):
                return _refused
            handler = self._on_books
        else:
            store = self._create_dynamic(channel, datastore_class=Generic)
            if store is None:
                return _refused
            self._channel_stores[channel] = store
            self._generic.append(channel)
            logger.info("okx: channel %r has no dedicated store; using store[%r]", channel, channel)
            handler = self._on_items
        if len(self._channel_handlers) < MAX_ROUTES:
            self._channel_handlers[channel] = handler
        return handler

    def _on_items(self, msg: dict[str, Any], ws: Any) -> None:
        """Channels whose ``data`` is a list of objects, each store by its channel name:
        https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-tickers-channel
        ``{"arg": {"channel": "tickers", "instId": "BTC-USDT"}, "data": [{...}]}``"""
        arg = msg["arg"]
        channel = arg["channel"]
        data = msg.get("data")
        if not isinstance(data, list):
            self._count_dropped("data is not a list", channel)
            return
        items = [i for i in data if isinstance(i, dict)]
        if len(items) != len(data):
            self._count_dropped("data items not objects", channel)
            if not items:
                return
        self._channel_stores[channel]._on_data(items, arg)

    def _on_rows(self, store: ChannelStore[Any], msg: dict[str, Any]) -> None:
        arg = msg["arg"]
        data = msg.get("data")
        if not isinstance(data, list):
            self._count_dropped("data is not a list", arg["channel"])
            return
        rows = [r for r in data if isinstance(r, list) and r]
        if len(rows) != len(data):
            self._count_dropped("candle rows not arrays", arg["channel"])
        if rows:
            store._on_data(rows, arg)

    def _on_candle(self, msg: dict[str, Any], ws: Any) -> None:
        """``candle{bar}``: https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-candlesticks-channel
        ``{"arg": {"channel": "candle1D", "instId": "BTC-USDT"},
        "data": [["1597026383085", "8533.02", ...]]}``"""
        self._on_rows(self.candle, msg)

    def _on_mark_price_candle(self, msg: dict[str, Any], ws: Any) -> None:
        """``mark-price-candle{bar}``: rows ``[ts, o, h, l, c, confirm]``."""
        self._on_rows(self.markpricecandle, msg)

    def _on_index_candle(self, msg: dict[str, Any], ws: Any) -> None:
        """``index-candle{bar}``: rows ``[ts, o, h, l, c, confirm]``."""
        self._on_rows(self.indexcandle, msg)

    def _on_books(self, msg: dict[str, Any], ws: Any) -> None:
        """``books``, ``books5``, ``bbo-tbt``, ``books-l2-tbt``, ``books50-l2-tbt``...:
        https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
        ``{"arg": {...}, "action": "snapshot", "data": [{"asks": [...], "bids": [...],
        "ts": "...", "checksum": -855196043, "prevSeqId": -1, "seqId": 123456}]}``"""
        arg = msg["arg"]
        if not self._sync.on_message(msg, arg, arg["channel"], ws):
            self._count_dropped("book message without instId or data list", arg["channel"])

    def _on_event(self, msg: dict[str, Any], arg: Any) -> None:
        event = msg.get("event")
        if event == "error":
            self._count_unhandled(ERROR_EVENT)
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
            self._count_unhandled(f"event:{str(event)[:40]}")

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
            seq = opt_int(book.get("seqId")) if book else None
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

    @property
    def dropped_messages(self) -> int:
        """Messages (or data items) dropped because of their shape
        (``statistics().dropped`` by reason, summed)."""
        return sum(self._dropped.values())

    @property
    def error_events(self) -> int:
        """``event: error`` messages received from OKX (``unhandled["event:error"]``)."""
        return self._unhandled.get(ERROR_EVENT, 0)

    @property
    def ignored_messages(self) -> int:
        """Well-formed messages with nothing to store (unknown events, WebSocket API
        replies): ``statistics().unhandled`` summed, error events left out."""
        return sum(self._unhandled.values()) - self.error_events

    @property
    def generic_channels(self) -> tuple[str, ...]:
        """Channels that got a :class:`Generic` store on the fly (``fills`` first)."""
        return tuple(self._generic)

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
        (because a deeper channel does), by channel name (stores ``"books.<channel>"``)."""
        start = len(SECONDARY_PREFIX)
        return {
            name[start:]: store
            for name, store in self._stores.items()
            if name.startswith(SECONDARY_PREFIX) and isinstance(store, OKXBooks)
        }

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
