"""KuCoin DataStore collection: spot and futures, classic and UTA WebSocket families.

Feed it decoded WebSocket messages (``hdlr_json=store.onmessage``) and bootstrap it
with REST responses (``await store.initialize(client.post(...), client.get(...))``).

Two socket families (https://www.kucoin.com/docs-new/websocket-api/base-info/introduction
and .../introduction-uta):

* classic: the URL carries a bullet token (``initialize()`` with
  ``POST /api/v1/bullet-public|private``, or :mod:`datastores.helpers.kucoin`);
  messages are ``{"type": "message", "topic": "/market/level2:BTC-USDT",
  "subject", "data"}``, routed by the topic before ``:``;
* UTA (tokenless public ``wss://x-push-spot|futures.kucoin.com``): messages are
  ``{"T": "obu.SPOT", "t": "snapshot" | "delta", "d": {...}}``, routed by ``T``
  before ``.``; only the order-book channel ``obu`` is kept.

Store names, keys and item shapes follow the reference library (pybotters §4.13);
the differences (all fixes) are in docs/exchanges/kucoin.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from yarl import URL

from ..._storefield import StoreField
from ._base import FUTURES_SNAPSHOT_PATH, SPOT_SNAPSHOT_PATHS, KuCoinBooksBase
from ._bullet import REST_HOSTS, Bullet, BulletKeeper, parse_bullet, real_url, unwrap
from ._stores import (
    Balance,
    Execution,
    Kline,
    Log,
    OrderEvents,
    Orders,
    Positions,
    SymbolRecord,
    TransactionStats,
)

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = ["KuCoinDataStore"]

logger = logging.getLogger("datastores.exchanges.kucoin")


class KuCoinDataStore(KuCoinBooksBase):
    """KuCoin spot and futures: market data, full and top-N books, the account.

    Stores (pybotters names): ``ticker``, ``kline``, ``symbolsnapshot``,
    ``orderbook5``, ``orderbook50``, ``execution``, ``indexprice``, ``markprice``,
    ``orderevents``, ``orders``, ``balance``, ``marginfundingbook``,
    ``marginpositions``, ``marginpositionevents``, ``marginorders``,
    ``marginorderevents``, ``instrument``, ``announcements``, ``transactionstats``,
    ``balanceevents``, ``positions``; and ``orderbook``, the full level-2 books
    (classic spot and futures ``level2``, UTA ``obu`` ``increment@10ms``), kept in
    sync (``orderbook.status(symbol)``).

    ``initialize()`` endpoints: ``POST /api/v1/bullet-public|private`` (sets
    :attr:`endpoint`), ``GET /api/v1/positions``, ``/api/v1/market/candles``
    (``symbol``, ``type``), ``/api/v3/market/orderbook/level2`` or
    ``/api/v1/market/orderbook/level2_100|_20`` (spot, ``symbol``),
    ``/api/v1/level2/snapshot`` (futures, ``symbol``), ``/api/v1/orders``
    (active orders), ``/api/v1/accounts`` (spot balances).

    Messages it cannot read are counted in ``statistics().dropped``, topics no
    store takes in ``statistics().unhandled``; neither raises.
    """

    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "/market/ticker": "_on_ticker",
        "/contractMarket/tickerV2": "_on_ticker",
        "/contractMarket/ticker": "_on_ticker",
        "/market/candles": "_on_candles",
        "/market/snapshot": "_on_symbol_snapshot",
        "/market/match": "_on_execution",
        "/contractMarket/execution": "_on_execution",
        "/indicator/index": "_on_index_price",
        "/indicator/markPrice": "_on_mark_price",
        "/spotMarket/tradeOrders": "_on_order",
        "/spotMarket/tradeOrdersV2": "_on_order",
        "/spotMarket/advancedOrders": "_on_order",
        "/contractMarket/tradeOrders": "_on_order",
        "/contractMarket/advancedOrders": "_on_order",
        "/account/balance": "_on_balance",
        "/contract/position": "_on_position",
        "/contract/positionAll": "_on_position",
        "/contractAccount/wallet": "_on_wallet",
        "/margin/fundingBook": "_on_margin_funding_book",
        "/margin/position": "_on_margin_position",
        "/margin/loan": "_on_margin_loan",
        "/contract/instrument": "_on_instrument",
        "/contract/announcement": "_on_announcement",
        "/contractMarket/snapshot": "_on_transaction_stats",
    }

    #: ``/market/ticker``, ``/contractMarket/tickerV2|ticker``, keyed by ``symbol``.
    ticker = StoreField(SymbolRecord)
    #: ``/market/candles`` closed candles (``latest()`` for the open one).
    kline = StoreField(Kline)
    #: ``/market/snapshot``, keyed by ``symbol``.
    symbolsnapshot = StoreField(SymbolRecord)
    #: ``/market/match``, ``/contractMarket/execution``, keyed by ``tradeId``.
    execution = StoreField(Execution)
    #: ``/indicator/index``, keyed by ``symbol``.
    indexprice = StoreField(SymbolRecord)
    #: ``/indicator/markPrice``, keyed by ``symbol``.
    markprice = StoreField(SymbolRecord)
    #: The latest order event per ``orderId``.
    orderevents = StoreField(OrderEvents)
    #: Working orders, keyed by ``orderId``.
    orders = StoreField(Orders)
    #: Spot balances (``/account/balance``), keyed by ``accountId``.
    balance = StoreField(Balance)
    #: ``/margin/fundingBook`` (keyless log).
    marginfundingbook = StoreField(Log)
    #: ``/margin/position``: the latest message's positions.
    marginpositions = StoreField(Log)
    #: ``/margin/position`` events (keyless log).
    marginpositionevents = StoreField(Log)
    #: ``/margin/loan`` open lend orders, keyed by ``orderId``.
    marginorders = StoreField(Log, keys=("orderId",))
    #: ``/margin/loan`` events (keyless log).
    marginorderevents = StoreField(Log)
    #: ``/contract/instrument`` events (keyless log).
    instrument = StoreField(Log)
    #: ``/contract/announcement`` events (keyless log).
    announcements = StoreField(Log)
    #: ``/contractMarket/snapshot``, keyed by ``symbol`` and ``subject``.
    transactionstats = StoreField(TransactionStats)
    #: ``/contractAccount/wallet`` events (keyless log).
    balanceevents = StoreField(Log)
    #: Futures positions (``/contract/position``), keyed by ``symbol``.
    positions = StoreField(Positions)

    def _init(self) -> None:
        super()._init()
        self._endpoint: str | None = None
        self._keepers: dict[tuple[bool, bool], BulletKeeper] = {}

    # ------------------------------------------------------------------ bullets

    @property
    def endpoint(self) -> str:
        """The WebSocket URL (with its token) of the last bullet received.

        Raises:
            RuntimeError: no bullet yet (``initialize()`` a bullet endpoint first).
        """
        if self._endpoint is None:
            raise RuntimeError(
                "KuCoinDataStore.endpoint: no bullet yet; call "
                "`await store.initialize(client.post('https://api.kucoin.com/api/v1/bullet-public'))`"
            )
        return self._endpoint

    def bullet(self, *, private: bool = False, futures: bool = False) -> Bullet | None:
        """The current bullet of one kind, or ``None``."""
        keeper = self._keepers.get((private, futures))
        return keeper.bullet if keeper is not None else None

    def _keeper(self, private: bool, futures: bool) -> BulletKeeper:
        keeper = self._keepers.get((private, futures))
        if keeper is None:
            keeper = self._keepers[(private, futures)] = BulletKeeper(
                self._background, private=private, futures=futures, on_new=self._new_bullet
            )
        return keeper

    def _new_bullet(self, bullet: Bullet) -> None:
        self._endpoint = bullet.url

    def keep_connected(self, app: Any) -> None:
        """Keep ``app`` (connected to one of this store's bullet URLs) on a valid
        token: when it cannot reconnect, or its token is about to expire, a new
        bullet is fetched and ``app.url`` set to it (instance server included).

        Raises:
            ValueError: ``app.url`` is not the URL of a bullet this store received.
        """
        url = str(getattr(app, "url", ""))
        for keeper in self._keepers.values():
            if keeper.bullet is not None and url == keeper.bullet.url:
                if not keeper.attach(app):
                    logger.warning(
                        "%s: no open Client: the bullet of %r will not be renewed",
                        type(self).__name__,
                        keeper.bullet,
                    )
                return
        raise ValueError("keep_connected(): the app's URL is not a bullet URL of this store")

    def _token_refused(self, ws: Any) -> None:
        url = getattr(ws, "url", None)
        for keeper in self._keepers.values():
            if url is not None and keeper.owns(url) and keeper.apps:
                logger.warning(
                    "%s: KuCoin refused the token of %r; fetching a new bullet",
                    type(self).__name__,
                    keeper.bullet,
                )
                keeper.refused()

    def _init_bullet(self, url: URL, data: Any) -> None:
        futures = url.host == REST_HOSTS["futures"]
        private = url.path.endswith("/bullet-private")
        now = self._background.clock.time()
        bullet = parse_bullet(unwrap(data, url.path), private=private, futures=futures, now=now)
        self._keeper(private, futures).install(bullet)

    # ------------------------------------------------------------- market data

    def _on_ticker(self, msg: dict[str, Any], ws: Any) -> None:
        """``/market/ticker:{symbol}`` (https://www.kucoin.com/docs-new/3470063w0),
        ``/contractMarket/tickerV2:{symbol}``: ``{"data": {"price", "bestBid", ...}}``;
        the symbol is the topic's suffix, or the ``subject`` for ``:all``."""
        data = self._data(msg, "ticker")
        if data is None:
            return
        suffix = self._suffix(msg)
        symbol = data.get("symbol") or (msg.get("subject") if suffix == "all" else suffix)
        self.ticker._update([{**data, "symbol": symbol}])

    def _on_symbol_snapshot(self, msg: dict[str, Any], ws: Any) -> None:
        """``/market/snapshot:{symbol}``: ``{"data": {"sequence", "data": {...}}}``."""
        data = self._data(msg, "snapshot")
        inner = data.get("data") if data is not None else None
        if not isinstance(inner, dict) or not isinstance(inner.get("symbol"), str):
            self._count_dropped("market snapshot without a symbol")
            return
        self.symbolsnapshot._update([dict(inner)])

    def _on_candles(self, msg: dict[str, Any], ws: Any) -> None:
        """``/market/candles:{symbol}_{type}`` (.../3470071w0): ``{"data": {"symbol",
        "candles": [start, open, close, high, low, volume, turnover], "time"}}``."""
        data = self._data(msg, "candles")
        if data is None:
            return
        symbol, _, interval = self._suffix(msg).rpartition("_")
        try:
            self.kline._on_candle(data.get("symbol") or symbol, interval, data["candles"])
        except (KeyError, TypeError, ValueError):
            self._count_dropped("unreadable candle", symbol)

    def _on_execution(self, msg: dict[str, Any], ws: Any) -> None:
        """``/market/match:{symbol}``, ``/contractMarket/execution:{symbol}``."""
        data = self._data(msg, "match")
        if data is None:
            return
        if "tradeId" not in data:
            self._count_dropped("trade without tradeId", self._suffix(msg))
            return
        self.execution._insert([{**data, "symbol": data.get("symbol") or self._suffix(msg)}])

    def _on_index_price(self, msg: dict[str, Any], ws: Any) -> None:
        """``/indicator/index:{symbol}``: ``{"data": {"symbol", "granularity", "timestamp",
        "value"}}``."""
        data = self._data(msg, "index")
        if data is not None:
            self.indexprice._update([{**data, "symbol": data.get("symbol") or self._suffix(msg)}])

    def _on_mark_price(self, msg: dict[str, Any], ws: Any) -> None:
        """``/indicator/markPrice:{symbol}``."""
        data = self._data(msg, "mark price")
        if data is not None:
            self.markprice._update([{**data, "symbol": data.get("symbol") or self._suffix(msg)}])

    def _on_transaction_stats(self, msg: dict[str, Any], ws: Any) -> None:
        """``/contractMarket/snapshot:{symbol}``."""
        data = self._data(msg, "transaction statistics")
        if data is not None:
            symbol = data.get("symbol") or self._suffix(msg)
            self.transactionstats._insert(
                [{**data, "symbol": symbol, "subject": msg.get("subject")}]
            )

    def _on_instrument(self, msg: dict[str, Any], ws: Any) -> None:
        data = self._data(msg, "instrument")
        if data is not None:
            self.instrument._insert([{**data, "subject": msg.get("subject")}])

    def _on_announcement(self, msg: dict[str, Any], ws: Any) -> None:
        data = self._data(msg, "announcement")
        if data is not None:
            self.announcements._insert([{**data, "subject": msg.get("subject")}])

    # --------------------------------------------------------------- private

    def _on_order(self, msg: dict[str, Any], ws: Any) -> None:
        """``/spotMarket/tradeOrdersV2`` (types new/open/match/update/filled/canceled),
        ``/contractMarket/tradeOrders``, ``*/advancedOrders`` (stop orders)."""
        data = self._data(msg, "order")
        if data is None:
            return
        if "orderId" not in data:
            self._count_dropped("order event without orderId")
            return
        self.orderevents._insert([dict(data)])
        if not self.orders._on_event(data):
            self._count_dropped("order event of an unknown type", data.get("type"))

    def _on_balance(self, msg: dict[str, Any], ws: Any) -> None:
        """``/account/balance``: ``{"data": {"accountId", "currency", "total",
        "available", "hold", "availableChange", "relationEvent", ...}}``."""
        data = self._data(msg, "balance")
        if data is None:
            return
        if "accountId" not in data:
            self._count_dropped("balance without accountId")
            return
        self.balance._update([dict(data)])

    def _on_position(self, msg: dict[str, Any], ws: Any) -> None:
        """``/contract/position:{symbol}``, ``/contract/positionAll``."""
        data = self._data(msg, "position")
        if data is None:
            return
        if "symbol" not in data and self._suffix(msg):
            data = {**data, "symbol": self._suffix(msg)}
        if not self.positions._on_position(msg.get("subject"), data):
            self._count_dropped("unreadable position event", msg.get("subject"))

    def _on_wallet(self, msg: dict[str, Any], ws: Any) -> None:
        """``/contractAccount/wallet`` (``walletBalance.change``...)."""
        data = self._data(msg, "wallet")
        if data is not None:
            self.balanceevents._insert([{**data, "subject": msg.get("subject")}])

    def _on_margin_funding_book(self, msg: dict[str, Any], ws: Any) -> None:
        data = self._data(msg, "margin funding book")
        if data is not None:
            self.marginfundingbook._insert([dict(data)])

    def _on_margin_position(self, msg: dict[str, Any], ws: Any) -> None:
        data = self._data(msg, "margin position")
        if data is None:
            return
        self.marginpositionevents._insert([{**data, "subject": msg.get("subject")}])
        self.marginpositions._clear()
        self.marginpositions._insert([dict(data)])

    def _on_margin_loan(self, msg: dict[str, Any], ws: Any) -> None:
        data = self._data(msg, "margin loan")
        if data is None:
            return
        subject = msg.get("subject")
        self.marginorderevents._insert([{**data, "subject": subject}])
        if "orderId" not in data:
            return
        if subject == "order.done":
            self.marginorders._delete([dict(data)])
        elif subject in ("order.open", "order.update"):
            self.marginorders._update([dict(data)])

    # --------------------------------------------------------- REST responses

    async def _onresponse(self, resp: ClientResponse, data: Any) -> None:
        url = real_url(self._client, resp.url)
        path = url.path
        if path.endswith(("/bullet-public", "/bullet-private")):
            self._init_bullet(url, data)
            return
        data = unwrap(data, f"{resp.method} {path}")
        if path.endswith(SPOT_SNAPSHOT_PATHS) or path.endswith(FUTURES_SNAPSHOT_PATH):
            self._init_snapshot(url, data)
        elif path.endswith("/api/v1/positions"):
            self.positions._onresponse(data)
        elif path.endswith("/api/v1/market/candles"):
            symbol, interval = url.query.get("symbol"), url.query.get("type")
            if not symbol or not interval:
                raise ValueError("initialize(): /api/v1/market/candles needs symbol and type")
            self.kline._onresponse(symbol, interval, data)
        elif path.endswith("/api/v1/orders"):
            self.orders._onresponse(data)
        elif path.endswith("/api/v1/accounts"):
            self.balance._onresponse(data)
        else:
            await super()._onresponse(resp, data)
        self._recovery.resume()
