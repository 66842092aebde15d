"""``BybitDataStore``: Bybit V5 public and private WebSocket topics in memory.

Routing is one dict lookup per message: the parsed route of each topic string
is cached (topic prefix -> handler, plus the depth or symbol the topic names).
Categorised private topics (``order.linear``, ``position.spot``...) share the
store of their all-in-one topic; topics without a dedicated store
(``insurance.*``, ``dcp``, ``execution.fast``, ``orderbook.rpi.*``...) go to a
keyless store named after the topic prefix; nothing raises into the WebSocket
loop. Malformed messages are dropped, counted (:attr:`dropped_messages`) and
logged.

Order books keep integrity state and recover by themselves: a gap on an
N-level topic resubscribes the topic on the connection that delivered it (a
fresh snapshot follows; without one, it is resubscribed again after 10 s,
doubling to 300 s); ``orderbook.full`` fetches ``GET
/v5/market/full_orderbook`` through the collection's ``Client``.

https://bybit-exchange.github.io/docs/v5/ws/connect
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..._collection import DataStoreCollection
from ..._errors import ExchangeAPIError
from ..._store import DataStore, Item
from ..._storefield import StoreField
from ._book import BookFeed, OrderBook
from ._recovery import FULL_ORDERBOOK_PATH, BookRecovery, bybit_result
from ._stores import (
    AllLiquidation,
    Execution,
    Greek,
    Kline,
    Liquidation,
    LTKline,
    LTNav,
    LTTicker,
    Order,
    Position,
    Ticker,
    Trade,
    Wallet,
)

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = ["BookFeed", "BybitDataStore", "OrderBook"]

logger = logging.getLogger("datastores.exchanges.bybit")

_ROUTE_CACHE_MAX = 4096

Route = tuple[Callable[[Any, Any, str, Any], "str | None"], Any]


class BybitDataStore(BookRecovery, DataStoreCollection):
    """Bybit V5 DataStoreCollection (public and private topics, one collection).

    Use one collection per WebSocket category when books are involved: Bybit
    topics do not name the category, so ``orderbook.50.BTCUSDT`` from spot and
    from linear would share one book.

    Attributes (stores): :attr:`orderbook`, :attr:`trade`, :attr:`ticker`,
    :attr:`kline`, :attr:`all_liquidation`, :attr:`lt_kline`, :attr:`lt_ticker`,
    :attr:`lt_nav`, :attr:`liquidation`, :attr:`position`, :attr:`execution`,
    :attr:`order`, :attr:`wallet`, :attr:`greek`.

    Settings:
        rest_base_url: REST base for ``orderbook.full`` snapshots (default:
            derived from the WebSocket host, else ``https://api.bybit.com``).
        full_orderbook_category: ``category`` for those snapshots (default:
            the last path segment of the WebSocket URL, else ``"spot"``).
    """

    _EXCHANGE = "bybit"

    #: ``orderbook.{depth}.{symbol}`` and ``orderbook.full.{symbol}`` (store ``orderbook``).
    #: https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
    orderbook = StoreField(OrderBook)

    def _init(self) -> None:
        self._book: OrderBook = self.orderbook
        self._init_recovery()

        self._routes: dict[str, Route] = {}
        self._dropped_messages = 0
        self._failed_operations = 0
        self._generic_names: set[str] = set()

        # topic prefix -> route builder (called once per distinct topic string)
        self._prefixes: dict[str, Callable[[str, list[str]], Route]] = {
            "orderbook": self._route_orderbook,
            "publicTrade": self._list_route("publicTrade", "_insert"),
            "tickers": self._object_route("tickers", "_update"),
            "kline": self._kline_route("kline"),
            "allLiquidation": self._list_route("allLiquidation", "_insert"),
            "kline_lt": self._kline_route("kline_lt"),
            "tickers_lt": self._object_route("tickers_lt", "_update"),
            "lt": self._object_route("lt", "_update"),
            "liquidation": self._object_route("liquidation", "_insert"),
            "position": self._list_route("position", "_update"),
            "execution": self._route_execution,
            "order": self._list_route("order", "_on_orders"),
            "wallet": self._list_route("wallet", "_on_wallets"),
            "greeks": self._list_route("greeks", "_update"),
        }

    # ------------------------------------------------------------------ stores

    #: ``publicTrade.{symbol}`` (store ``publicTrade``).
    trade = StoreField(Trade, "publicTrade")

    #: ``tickers.{symbol}`` (store ``tickers``).
    ticker = StoreField(Ticker, "tickers")

    #: ``kline.{interval}.{symbol}`` (store ``kline``).
    kline = StoreField(Kline)

    #: ``allLiquidation.{symbol}`` (store ``allLiquidation``).
    all_liquidation = StoreField(AllLiquidation, "allLiquidation")

    #: ``kline_lt.{interval}.{symbol}`` (store ``kline_lt``).
    lt_kline = StoreField(LTKline, "kline_lt")

    #: ``tickers_lt.{symbol}`` (store ``tickers_lt``).
    lt_ticker = StoreField(LTTicker, "tickers_lt")

    #: ``lt.{symbol}`` (store ``lt``).
    lt_nav = StoreField(LTNav, "lt")

    #: ``liquidation.{symbol}`` (store ``liquidation``).
    liquidation = StoreField(Liquidation)

    #: ``position`` and ``position.{category}`` (store ``position``).
    position = StoreField(Position)

    #: ``execution`` and ``execution.{category}`` (store ``execution``).
    execution = StoreField(Execution)

    #: ``order`` and ``order.{category}``: live orders only (store ``order``).
    order = StoreField(Order)

    #: ``wallet`` (store ``wallet``).
    wallet = StoreField(Wallet)

    #: ``greeks`` (store ``greeks``).
    greek = StoreField(Greek, "greeks")

    @property
    def dropped_messages(self) -> int:
        """Messages (or items in them) dropped as malformed or unusable."""
        return self._dropped_messages

    @property
    def failed_operations(self) -> int:
        """``success: false`` / non-zero ``retCode`` replies to subscribe, auth, orders..."""
        return self._failed_operations

    # ----------------------------------------------------------------- routing

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if type(msg) is not dict:
            self._drop(None, f"not a JSON object ({type(msg).__name__})")
            return
        topic = msg.get("topic")
        if topic is None:
            self._on_reply(msg)
            return
        route = self._routes.get(topic)
        if route is None:
            if type(topic) is not str:
                self._drop(None, "topic is not a string")
                return
            route = self._route(topic)
        handler, arg = route
        reason = handler(msg, ws, topic, arg)
        if reason is not None:
            self._drop(topic, reason)

    def _route(self, topic: str) -> Route:
        parts = topic.split(".")
        builder = self._prefixes.get(parts[0])
        route = builder(topic, parts) if builder is not None else self._generic_route(parts[0])
        if len(self._routes) >= _ROUTE_CACHE_MAX:
            self._routes.clear()  # bounded: only a hostile stream has this many topics
        self._routes[topic] = route
        return route

    def _list_route(self, name: str, method: str) -> Callable[[str, list[str]], Route]:
        apply = getattr(self._stores[name], method)

        def build(topic: str, parts: list[str]) -> Route:
            return (self._h_list, apply)

        return build

    def _object_route(self, name: str, method: str) -> Callable[[str, list[str]], Route]:
        apply = getattr(self._stores[name], method)

        def build(topic: str, parts: list[str]) -> Route:
            return (self._h_object, apply)

        return build

    def _kline_route(self, name: str) -> Callable[[str, list[str]], Route]:
        store: Kline = self._stores[name]  # type: ignore[assignment]

        def build(topic: str, parts: list[str]) -> Route:
            if len(parts) < 3 or not parts[2]:
                return (self._h_invalid, "kline topic without a symbol")
            # symbols never contain dots; join anyway so nothing is lost
            symbol = ".".join(parts[2:])
            return (self._h_list, functools.partial(store._on_candles, symbol))

        return build

    def _route_orderbook(self, topic: str, parts: list[str]) -> Route:
        if len(parts) < 3 or not parts[2]:
            return (self._h_invalid, "orderbook topic without a symbol")
        if parts[1] == "full":
            return (self._h_book, None)
        if parts[1].isdigit() and int(parts[1]) > 0:
            return (self._h_book, int(parts[1]))
        # orderbook.rpi.* (levels with a separate RPI size) and future variants: their
        # levels mean something else, so they must not touch the book.
        return self._generic_route(f"{parts[0]}.{parts[1]}")

    def _route_execution(self, topic: str, parts: list[str]) -> Route:
        if len(parts) > 1 and parts[1] == "fast":
            # execution.fast repeats fills of `execution` with fewer fields: a store of
            # its own, so subscribing to both never duplicates fills in `execution`.
            return self._generic_route("execution.fast")
        return (self._h_list, self._stores["execution"]._insert)

    def _generic_route(self, name: str) -> Route:
        store = self._stores.get(name)
        if store is None:
            store = self._create(name)
        if name not in self._generic_names:
            self._generic_names.add(name)
            logger.info(
                "bybit: no dedicated store for %r topics; they go to the keyless store %r",
                name,
                name,
            )
        return (self._h_generic, store)

    # ---------------------------------------------------------------- handlers

    def _h_book(self, msg: Any, ws: Any, topic: str, depth: int | None) -> str | None:
        reason = self._book._on_message(topic, depth, msg, ws)
        if self._awaiting_snapshot and topic in self._awaiting_snapshot:
            self._on_book_message(topic, msg)
        return reason

    @staticmethod
    def _h_list(msg: Any, ws: Any, topic: str, apply: Callable[[list[Item]], None]) -> str | None:
        data = msg.get("data")
        if type(data) is not list:
            return "data is not an array"
        items = [item for item in data if type(item) is dict]
        if items:
            apply(items)
        if len(items) != len(data):
            return f"{len(data) - len(items)} item(s) are not objects"
        return None

    @staticmethod
    def _h_object(msg: Any, ws: Any, topic: str, apply: Callable[[list[Item]], None]) -> str | None:
        data = msg.get("data")
        if type(data) is not dict:
            return "data is not an object"
        apply([data])
        return None

    @staticmethod
    def _h_generic(msg: Any, ws: Any, topic: str, store: DataStore) -> str | None:
        data = msg.get("data")
        if type(data) is dict:
            store._insert([data])
            return None
        if type(data) is list:
            items = [item for item in data if type(item) is dict]
            if items:
                store._insert(items)
            if len(items) != len(data):
                return f"{len(data) - len(items)} item(s) are not objects"
            return None
        return "data is neither an object nor an array"

    @staticmethod
    def _h_invalid(msg: Any, ws: Any, topic: str, reason: str) -> str | None:
        return reason

    def _on_reply(self, msg: dict[str, Any]) -> None:
        """Replies to our requests (subscribe, auth, ping, WS orders): log failures."""
        failed = msg.get("success") is False
        code = msg.get("retCode")
        if not failed and code is not None and code != 0:
            failed = True
        if failed:
            self._failed_operations += 1
            logger.warning(
                "bybit: %r request failed: %s (%d failed so far)",
                msg.get("op"),
                str(msg.get("ret_msg") or msg.get("retMsg") or "(no message)")[:300],
                self._failed_operations,
            )
        elif "op" not in msg and "success" not in msg and code is None:
            self._drop(None, "neither a topic message nor a reply")

    def _drop(self, topic: str | None, reason: str) -> None:
        self._dropped_messages += 1
        level = logging.WARNING if self._dropped_messages <= 10 else logging.DEBUG
        logger.log(
            level,
            "bybit: dropped a message%s: %s (%d dropped so far)",
            f" of {topic!r}"[:130] if topic else "",
            reason,
            self._dropped_messages,
        )

    def _onerror(self, msg: Any, exc: Exception) -> None:
        # A handler raised on an order-book message: the book may be half-applied.
        if isinstance(msg, Mapping):
            topic = msg.get("topic")
            data = msg.get("data")
            if isinstance(topic, str) and topic.startswith("orderbook.") and isinstance(data, dict):
                symbol = data.get("s")
                if isinstance(symbol, str):
                    self._book._fail(symbol, "error", f"handler error ({type(exc).__name__})")

    # -------------------------------------------------------------- initialize

    async def initialize(self, *aws: Awaitable[ClientResponse] | ClientResponse) -> None:
        """Load REST state; each response is routed by its path.

        Endpoints: ``GET /v5/position/list`` (:attr:`position`), ``GET
        /v5/order/realtime`` (:attr:`order`; replaces the open orders of the
        queried category and filter), ``GET /v5/account/wallet-balance``
        (:attr:`wallet`). The requests' Client is remembered for order-book
        snapshots.

        Raises:
            ExchangeAPIError: HTTP error or ``retCode != 0`` (``RateLimitError``,
                ``AuthenticationError`` for the matching codes), naming the endpoint,
                the code and ``retMsg``.
            ValueError: an endpoint this collection does not know.
        """
        await super().initialize(*aws)

    async def _onresponse(self, resp: ClientResponse, data: Any) -> None:
        path = resp.url.path
        if path == FULL_ORDERBOOK_PATH:
            # A full-book snapshot (what the store fetches itself, or a replayed one).
            result = bybit_result(data, f"{resp.method} {path}", resp.status)
            symbol = resp.url.query.get("symbol") or result.get("s")
            if isinstance(symbol, str):
                self._book._install_full_snapshot(symbol, result)
            return
        if path not in _INITIALIZE_PATHS:
            await super()._onresponse(resp, data)
            return
        endpoint = f"{resp.method} {path}"
        result = bybit_result(data, endpoint, resp.status)
        rows = result.get("list")
        if type(rows) is not list:
            raise ExchangeAPIError(
                exchange="bybit",
                endpoint=endpoint,
                status=resp.status,
                message="response has no result.list array",
            )
        items = [row for row in rows if type(row) is dict]
        query = dict(resp.url.query)
        category = query.get("category") or result.get("category") or None
        if path == "/v5/position/list":
            self.position._on_rest(category, items)
        elif path == "/v5/order/realtime":
            self.order._on_rest(query, category, items)
        else:
            self.wallet._on_wallets(items)


_INITIALIZE_PATHS = frozenset(
    {"/v5/position/list", "/v5/order/realtime", "/v5/account/wallet-balance"}
)
