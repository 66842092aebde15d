"""GMO Coin DataStore: ticker, whole-frame order books, trades and the private events.

Feed it the decoded messages of ``wss://api.coin.z.com/ws/public/v1`` and/or the
private stream ``wss://api.coin.z.com/ws/private/v1/<token>``
(``hdlr_json=store.onmessage``) after sending, for each channel,
``{"command": "subscribe", "channel": "orderbooks", "symbol": "BTC_JPY"}``
(https://api.coin.z.com/docs/en/#public-ws-api , #private-ws-api). GMO Coin sends no
acknowledgement; an invalid request is answered ``{"error": "ERR-5106 ..."}`` and a
request beyond one per second ``{"error": "ERR-5003 ..."}``: both are logged and
counted in ``statistics().unhandled``. The WebSocketApp spaces the requests to 0.9
per second over all of a Client's GMO Coin connections (the limit is per IP) and
stays ``RECONNECTING`` until a reconnection's requests are all sent (12
subscriptions: about 12 s): see ``docs/exchanges/gmocoin.md``.

Private stores start empty: fill them with ``initialize()`` (active orders, open
positions, the position summary, the latest executions) after subscribing, and
keep the token alive with :class:`datastores.helpers.GMOCoinHelper`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ..._background import TokenKeepalive
from ..._collection import DataStoreCollection
from ..._recovery import BookFeeds
from ..._storefield import StoreField
from ._rest import (
    check_status,
    create_token,
    extend_token,
    is_token_refused,
    token_of,
    with_token,
)
from ._stores import (
    GMOCoinExecutions,
    GMOCoinOrderBook,
    GMOCoinOrders,
    GMOCoinPositions,
    GMOCoinPositionSummary,
    GMOCoinTicker,
    GMOCoinTrades,
)

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = ["GMOCoinDataStore"]

logger = logging.getLogger("datastores.exchanges.gmocoin")

#: the reference library extended a token passed to initialize() every 30 minutes
#: (it lives 60: https://api.coin.z.com/docs/en/#ws-auth-put)
TOKEN_EXTEND_SECONDS = 1800.0


class GMOCoinDataStore(DataStoreCollection):
    """GMO Coin's public and private channels.

    Stores (attribute = store name, keys): ``ticker`` (symbol), ``orderbooks``
    (symbol, side, price; ``sorted()`` gives ``asks``/``bids``), ``trades``
    (keyless), ``orders`` (orderId), ``executions`` (executionId), ``positions``
    (positionId), ``position_summary`` (symbol, side). Messages it cannot read are
    counted in ``statistics().dropped``; channels no store takes and GMO Coin's
    error answers in ``statistics().unhandled``; nothing raises into the
    WebSocket loop.

    ``token``: the access token from ``initialize(client.post(".../ws-auth"))``,
    extended every 30 minutes and re-created when GMO Coin refuses it; when
    ``token_app`` is a WebSocketApp on the private stream, its ``url`` follows the
    token. :class:`datastores.helpers.GMOCoinHelper` does the same for any app.
    """

    _EXCHANGE = "gmocoin"
    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "ticker": "_on_ticker",
        "orderbooks": "_on_orderbooks",
        "trades": "_on_trades",
        "executionEvents": "_on_execution_events",
        "orderEvents": "_on_order_events",
        "positionEvents": "_on_position_events",
        "positionSummaryEvents": "_on_position_summary_events",
    }

    #: ``ticker``, keyed by ``symbol``.
    ticker = StoreField(GMOCoinTicker)
    #: ``orderbooks``: each frame replaces its symbol's book.
    orderbooks = StoreField(GMOCoinOrderBook)
    #: ``trades``, newest last.
    trades = StoreField(GMOCoinTrades)
    #: working orders (``orderEvents``, ``executionEvents``, ``activeOrders``).
    orders = StoreField(GMOCoinOrders)
    #: ``executionEvents`` and ``latestExecutions``, keyed by ``executionId``.
    executions = StoreField(GMOCoinExecutions)
    #: ``positionEvents`` and ``openPositions``, keyed by ``positionId``.
    positions = StoreField(GMOCoinPositions)
    #: ``positionSummaryEvents`` and ``positionSummary``, keyed by ``symbol``, ``side``.
    position_summary = StoreField(GMOCoinPositionSummary)

    def _init(self) -> None:
        #: the access token from initialize() (``None`` until one is given)
        self.token: str | None = None
        #: a WebSocketApp on the private stream whose ``url`` follows :attr:`token`
        self.token_app: Any = None
        #: which connection feeds each book (a reconnect unsyncs only those)
        self._feeds = BookFeeds()
        self._token_keepalive: TokenKeepalive[str] = TokenKeepalive(
            self._background,
            "GMO Coin access token",
            interval=TOKEN_EXTEND_SECONDS,
            refresh=self._extend_token,
            create=self._create_token,
            install=self._set_token,
            expired=is_token_refused,
        )
        # No resync hook: the next frame (every ~0.5 s, at most ~5 s apart when the
        # book is quiet) replaces the whole book; nothing can be asked for sooner.

    # --------------------------------------------------------------- routing

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if msg.__class__ is not dict:
            self._count_dropped("message is not an object", type(msg).__name__)
            return
        channel = msg.get("channel")
        handler = self._channel_handlers.get(channel) if channel.__class__ is str else None
        if handler is not None:
            handler(msg, ws)
        elif "error" in msg:
            self._on_error(msg)
        elif channel is None:
            self._count_dropped("message without a channel")
        else:
            self._count_unhandled(str(channel)[:40])

    def _on_error(self, msg: dict[str, Any]) -> None:
        """``{"error": "ERR-5003 Request too many."}``: a refused request (GMO Coin
        does not say which one). Logged and counted under its code."""
        text = str(msg.get("error"))[:200]
        code = text.split(" ", 1)[0][:20]
        self._count_unhandled(f"error {code}")
        hint = (
            "; another program on this IP is subscribing too (the limit is 1 per second "
            "per IP): resubscribe later"
            if code == "ERR-5003"
            else ""
        )
        logger.warning("%s: GMO Coin refused a request: %s%s", type(self).__name__, text, hint)

    def _on_ticker(self, msg: dict[str, Any], ws: Any) -> None:
        """``ticker``: https://api.coin.z.com/docs/en/#ws-ticker
        ``{"channel": "ticker", "ask": "750760", "bid": "750600", "high": "762302",
        "last": "756662", "low": "704874", "symbol": "BTC", "timestamp":
        "2018-03-30T12:34:56.789Z", "volume": "194785.8484"}``"""
        if msg.get("symbol").__class__ is not str:
            self._count_dropped("ticker without a symbol")
            return
        self.ticker._update([msg])

    def _on_orderbooks(self, msg: dict[str, Any], ws: Any) -> None:
        """``orderbooks``: https://api.coin.z.com/docs/en/#ws-orderbooks
        ``{"channel": "orderbooks", "asks": [{"price": "455659", "size": "0.1"}],
        "bids": [{"price": "455658", "size": "0.1"}], "symbol": "BTC",
        "timestamp": "2018-03-30T12:34:56.789Z"}``: a whole book (asks ascending,
        bids descending)."""
        symbol = msg.get("symbol")
        if symbol.__class__ is not str:
            self._count_dropped("orderbooks frame without a symbol")
            return
        feed = self._feeds.get(symbol)
        if feed is None or feed.ws is not ws:
            self._feeds.note(symbol, ws, "orderbooks", {"channel": "orderbooks", "symbol": symbol})
        if not self.orderbooks._on_frame(
            symbol, msg.get("asks"), msg.get("bids"), msg.get("timestamp")
        ):
            self._count_dropped("orderbooks frame refused by the book", symbol)

    def _on_trades(self, msg: dict[str, Any], ws: Any) -> None:
        """``trades``: https://api.coin.z.com/docs/en/#ws-trades
        ``{"channel": "trades", "price": "750760", "side": "BUY", "size": "0.1",
        "timestamp": "2018-03-30T12:34:56.789Z", "symbol": "BTC"}``"""
        if msg.get("symbol").__class__ is not str or msg.get("price").__class__ is not str:
            self._count_dropped("trade without a symbol or price")
            return
        self.trades._insert([msg])

    def _on_execution_events(self, msg: dict[str, Any], ws: Any) -> None:
        """``executionEvents``: https://api.coin.z.com/docs/en/#execution-events
        ``{"channel": "executionEvents", "orderId": 123456789, "executionId": 72123911,
        "symbol": "BTC", "side": "BUY", "executionPrice": "285000", "executionSize":
        "0.0001", "orderSize": "0.0001", "orderExecutedSize": "0.0001", "msgType": "ER",
        ...}``: the fill goes to ``executions``; the order leaves ``orders`` when fully
        executed."""
        if not _has_id(msg, "executionId") or not _has_id(msg, "orderId"):
            self._count_dropped("execution event without executionId or orderId")
            return
        self.executions._insert([msg])
        self.orders._on_execution(msg)

    def _on_order_events(self, msg: dict[str, Any], ws: Any) -> None:
        """``orderEvents``: https://api.coin.z.com/docs/en/#order-events
        ``{"channel": "orderEvents", "orderId": 123456789, "symbol": "BTC",
        "orderStatus": "ORDERED", "orderSize": "0.0001", "orderExecutedSize": "0",
        "msgType": "NOR", ...}``"""
        if not _has_id(msg, "orderId"):
            self._count_dropped("order event without orderId")
            return
        self.orders._on_order_event(msg)

    def _on_position_events(self, msg: dict[str, Any], ws: Any) -> None:
        """``positionEvents``: https://api.coin.z.com/docs/en/#position-events
        ``{"channel": "positionEvents", "positionId": 1234567, "symbol": "BTC_JPY",
        "side": "BUY", "size": "0.22", "orderdSize": "0", "price": "876045",
        "msgType": "OPR", ...}``"""
        if not _has_id(msg, "positionId"):
            self._count_dropped("position event without positionId")
            return
        self.positions._on_position_event(msg)

    def _on_position_summary_events(self, msg: dict[str, Any], ws: Any) -> None:
        """``positionSummaryEvents``: https://api.coin.z.com/docs/en/#position-summary-events
        ``{"channel": "positionSummaryEvents", "symbol": "BTC_JPY", "side": "BUY",
        "averagePositionRate": "715656", "sumPositionQuantity": "0.04",
        "msgType": "INIT", ...}``"""
        if msg.get("symbol").__class__ is not str or msg.get("side").__class__ is not str:
            self._count_dropped("position summary without symbol or side")
            return
        self.position_summary._update([msg])

    # ------------------------------------------------------------ reconnects

    def on_reconnect(self, ws: Any = None) -> None:
        """A WebSocketApp reconnected: the books its old connection fed go unsynced
        (``status().last_error`` says why) until the first frame of the new
        connection, which comes once the paced resubscription reaches them."""
        if self._feeds.carried_books(ws):
            symbols = self._feeds.symbols_fed_by(ws) or self.orderbooks.symbols
            for symbol in symbols:
                self.orderbooks._invalidate(
                    symbol, "reconnect: waiting for the paced resubscription's first frame"
                )
        self._feeds.reset_connection()

    # --------------------------------------------------------- REST responses

    async def _onresponse(self, resp: ClientResponse, data: Any) -> None:
        path = resp.url.path
        endpoint = f"{resp.method} {path}"
        if path.endswith("/v1/ws-auth") and resp.method == "POST":
            token = check_status(data, endpoint, resp.status)
            if not isinstance(token, str) or not token:
                raise ValueError(f"{type(self).__name__}.initialize(): no token in {endpoint}")
            self._set_token(token)
            if not self._token_keepalive.start():
                logger.warning(
                    "%s: the ws-auth response did not come through an open datastores.Client; "
                    "the token will not be extended",
                    type(self).__name__,
                )
            return
        stores: dict[str, Any] = {
            "/v1/activeOrders": self.orders,
            "/v1/openPositions": self.positions,
            "/v1/positionSummary": self.position_summary,
        }
        for suffix, store in stores.items():
            if path.endswith(suffix):
                store._replace_symbol(resp.url.query.get("symbol"), _list(data, endpoint))
                return
        if path.endswith("/v1/latestExecutions"):
            self.executions._insert(_list(data, endpoint))
            return
        await super()._onresponse(resp, data)

    # ------------------------------------------------------------------ token

    async def _extend_token(self) -> None:
        assert self.token is not None
        await extend_token(self._client, self.token)

    async def _create_token(self) -> str:
        return await create_token(self._client)

    def _set_token(self, token: str) -> None:
        old, self.token = self.token, token
        app = self.token_app
        if old is None or old == token or app is None:
            return
        logger.info("%s: new GMO Coin access token in use", type(self).__name__)
        if token_of(app.url) is None:
            logger.warning(
                "%s: token_app.url is not a GMO Coin private-stream URL; not changed",
                type(self).__name__,
            )
            return
        app.url = with_token(app.url, token)
        if app.current_ws is None:  # waiting to reconnect with the refused token: go now
            self._background.spawn(app.reconnect(), "reconnect token_app")


def _has_id(msg: Mapping[str, Any], field: str) -> bool:
    value = msg.get(field)
    return value.__class__ in (int, str)


def _list(data: Any, endpoint: str) -> list[dict[str, Any]]:
    """``data.list`` of a GMO Coin answer (``ValueError`` when ``status`` is not 0)."""
    body = check_status(data, endpoint)
    items = body.get("list") if isinstance(body, Mapping) else None
    if items is None:
        return []  # GMO Coin leaves "list" out when there is nothing
    if not isinstance(items, list):
        raise ValueError(f"GMOCoinDataStore.initialize(): {endpoint} data.list is not a list")
    return [item for item in items if isinstance(item, dict)]
