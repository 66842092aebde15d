"""The Binance adapter of the FMZ bridge: spot (``BTC_USDT`` = ``BTCUSDT``) and
USDⓈ-M perpetuals (``BTC_USDT.swap`` = ``BTCUSDT`` on fapi, named ``BTCUSDT.P``
inside order ids so both markets stay apart).

* Market data: on first use of a symbol, one WebSocket on its diff-depth and
  trade streams, the book bootstrapped from the REST snapshot and kept
  verified (``U``/``u``/``pu`` sequence); ``depth`` answers from it or refuses
  while unsynced.
* Private state: spot user data over the WebSocket API
  (``userDataStream.subscribe.signature``) bootstrapped by ``GET
  /api/v3/account`` and ``/api/v3/openOrders``; USDⓈ-M user data on the
  listenKey stream (kept alive by the store), bootstrapped by
  ``/fapi/v2/balance``, ``/fapi/v2/positionRisk`` and ``/fapi/v1/openOrders``.
  ``accounts`` reports spot balances on the ``Binance`` route and the USDⓈ-M
  wallet on the ``BinanceFutures`` route.
* Orders: ``POST``/``DELETE /api/v3/order`` and ``/fapi/v1/order``; ids are
  ``"<symbol>,<orderId>"`` (``"BTCUSDT.P,123"`` for the perpetual).
* records, the ticker's 24-hour figures, tickers, markets, fundings, margin
  level: REST per call (:mod:`._binance_catalog`).

Docs: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams ,
https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from ..._collection import DataStoreCollection
from ..._ws.app import WebSocketApp
from ...exchanges.binance.store import BinanceSpotDataStore, BinanceUSDSMDataStore
from ._binance_catalog import REST, BinanceCatalog, trade_row
from ._common import (
    FILLED,
    PARTIAL,
    PENDING,
    PERPETUAL_SUFFIX,
    TRADES,
    PairAdapter,
    finished_status,
    fmz_order,
    json_of,
    number_text,
    pass_through,
    wait_for,
)
from .adapter import (
    AdapterContext,
    BridgeError,
    FMZSymbol,
    Instrument,
    OrderId,
    OrderRequest,
    PositionSelector,
    decimal_text,
)

__all__ = ["BinanceAdapter", "BinanceFuturesAdapter"]


class _Market:
    """Where one Binance market lives."""

    def __init__(
        self, rest: str, ws: str, depth_path: str, trade_stream: str, order_path: str
    ) -> None:
        self.rest = rest
        self.ws = ws
        self.depth_path = depth_path
        self.trade_stream = trade_stream
        self.order_path = order_path


MARKETS: Mapping[str, _Market] = {
    "spot": _Market(
        REST["spot"],
        "wss://stream.binance.com:9443/ws",
        "/api/v3/depth",
        "trade",
        "/api/v3/order",
    ),
    "usdsm": _Market(
        REST["usdsm"],
        "wss://fstream.binance.com/ws",
        "/fapi/v1/depth",
        "aggTrade",
        "/fapi/v1/order",
    ),
}
SPOT_USER_DATA = "wss://ws-api.binance.com:443/ws-api/v3"
FUTURES_USER_DATA = "wss://fstream.binance.com/private/ws/"
_STATUS = {"NEW": PENDING, "PARTIALLY_FILLED": PARTIAL, "FILLED": FILLED}
_OPEN = frozenset({"NEW", "PARTIALLY_FILLED", "PENDING_NEW"})


class BinanceAdapter(BinanceCatalog, PairAdapter):
    """Binance spot and USDⓈ-M: market data and ``__api_`` (to api.binance.com,
    or fapi.binance.com for paths under ``/fapi/``)."""

    name: ClassVar[str] = "Binance"
    exchange: ClassVar[str] = "Binance"
    #: quote assets recognised when reading a Binance symbol back (longest first)
    quotes: ClassVar[tuple[str, ...]] = (
        "FDUSD",
        "USDT",
        "USDC",
        "TUSD",
        "BUSD",
        "BTC",
        "ETH",
        "BNB",
        "EUR",
        "TRY",
        "BRL",
    )
    credential_name: ClassVar[str] = "binance"
    #: spot and USDⓈ-M market data, trading and account; not ``/sapi/`` (the wallet:
    #: withdrawals, transfers, sub-accounts)
    api_prefixes: ClassVar[tuple[str, ...]] = (
        "/api/v3/",
        "/fapi/v1/",
        "/fapi/v2/",
        "/fapi/v3/",
    )

    def __init__(self, context: AdapterContext) -> None:
        super().__init__(context)
        self.stores: dict[str, DataStoreCollection] = {
            "spot": BinanceSpotDataStore(),
            "usdsm": BinanceUSDSMDataStore(),
        }
        for store in self.stores.values():
            store.client = self.client
        self._failed: dict[str, str] = {}
        #: USDⓈ-M hedge mode (``dualSidePosition``), read once
        self._dual: bool | None = None

    # ------------------------------------------------------------- symbols

    def instrument(self, symbol: FMZSymbol) -> Instrument:
        pair = symbol.base + symbol.quote
        if symbol.is_spot:
            return Instrument(symbol, pair, "spot")
        if symbol.contract == "swap" and symbol.quote in ("USDT", "USDC"):
            return Instrument(symbol, pair + PERPETUAL_SUFFIX, "usdsm")
        raise BridgeError(
            f"{symbol}: only spot and USDT/USDC-margined .swap are supported on Binance "
            "by this bridge"
        )

    # --------------------------------------------------------- market data

    async def _open_public(self, instrument: Instrument) -> WebSocketApp:
        market = MARKETS[instrument.market]
        lower = self._raw(instrument).lower()
        url = f"{market.ws}/{lower}@depth@100ms/{lower}@{market.trade_stream}"
        return await self.client.ws_connect(url, hdlr_json=self.stores[instrument.market].onmessage)

    async def _opened_public(self, instrument: Instrument) -> None:
        """Load the book's REST snapshot (the diff stream is verified against it)."""
        market = MARKETS[instrument.market]
        try:
            await self.stores[instrument.market].initialize(
                self.client.get(
                    market.rest + market.depth_path,
                    params={"symbol": self._raw(instrument), "limit": 1000},
                    timeout=self.context.timeout,
                )
            )
        except Exception as exc:  # the exchange's refusal (unknown symbol...): say so
            self._failed[instrument.name] = str(exc)[:200]

    async def depth(self, instrument: Instrument, limit: int) -> Any:
        await self._follow(instrument)
        book: Any = self.stores[instrument.market].orderbook  # type: ignore[attr-defined]
        raw = self._raw(instrument)
        if instrument.name not in self._failed:
            await wait_for(lambda: book.is_synced(raw), self.context.sync_timeout)
        if not book.is_synced(raw):
            failed = self._failed.get(instrument.name)
            if failed is not None and book.status(raw).last_update_id is None:
                raise BridgeError(f"order book of {instrument.symbol} unavailable: {failed}")
            status = book.status(raw)
            why = status.last_error or "waiting for the first snapshot"
            raise BridgeError(f"order book of {instrument.symbol} is not synced ({why})")
        asks, bids = book.levels(raw, limit)
        updated = book.status(raw).updated_at
        return {
            "time": int((updated or self.client.clock.time()) * 1000),
            "asks": [[level[0], level[1]] for level in asks],
            "bids": [[level[0], level[1]] for level in bids],
        }

    def _streamed_trades(self, instrument: Instrument) -> list[dict[str, Any]]:
        """What the trade stream pushed."""
        store: Any = self.stores[instrument.market].trade  # type: ignore[attr-defined]
        return [trade_row(t) for t in store.find({"s": self._raw(instrument)})[-TRADES:]]

    # ------------------------------------------------------------ pass-through

    async def api(
        self, http_method: str, path: str, params: Mapping[str, Any], body: str | None
    ) -> Any:
        base = MARKETS["usdsm" if path.startswith("/fapi/") else "spot"].rest
        if "positionSide/dual" in path:
            self._dual = None  # read again before the next order
        return await pass_through(
            self, base + path, http_method, params, in_body=False, exchange="Binance", path=path
        )

    # ------------------------------------------------------- private state

    #: the market whose balances ``accounts`` reports
    account_market: ClassVar[str] = "spot"

    def _on_user_data(self, market: str) -> Any:
        suffix = PERPETUAL_SUFFIX if market == "usdsm" else ""

        def record(msg: Any, ws: Any) -> None:
            event = msg.get("event", msg) if isinstance(msg, dict) else None
            if not isinstance(event, dict):
                return
            kind = event.get("e")
            item = event.get("o") if kind == "ORDER_TRADE_UPDATE" else event
            if kind in ("executionReport", "ORDER_TRADE_UPDATE") and isinstance(item, dict):
                self._recent.put(f"{item.get('s')}{suffix},{item.get('i')}", item)

        return record

    def _bootstrap(self, market: str) -> list[Any]:
        """The REST requests that load ``market``'s private stores in full."""
        rest = MARKETS[market].rest
        timeout = self.context.timeout
        paths = (
            ("/api/v3/account", "/api/v3/openOrders")
            if market == "spot"
            else ("/fapi/v2/balance", "/fapi/v2/positionRisk", "/fapi/v1/openOrders")
        )
        return [self.client.get(rest + path, timeout=timeout) for path in paths]

    async def _open_private(self, key: str) -> WebSocketApp:
        """``key``'s user-data stream: the spot WebSocket API's subscription, or the
        USDⓈ-M listenKey stream (its key made first, kept alive by the store)."""
        store: Any = self.stores[key]
        handlers = [store.onmessage, self._on_user_data(key)]
        if key == "spot":
            subscribe = {"id": 1, "method": "userDataStream.subscribe.signature", "params": {}}
            return await self.client.ws_connect(
                SPOT_USER_DATA, send_json=subscribe, hdlr_json=handlers
            )
        listen_key = self.client.post(
            MARKETS[key].rest + "/fapi/v1/listenKey", timeout=self.context.timeout
        )
        await store.initialize(listen_key)
        app: WebSocketApp = await self.client.ws_connect(
            FUTURES_USER_DATA + str(store.listenkey), hdlr_json=handlers
        )
        store.listenkey_app = app
        return app

    async def _load_private(self, key: str) -> None:
        await self.stores[key].initialize(*self._bootstrap(key))

    async def accounts(self) -> Any:
        market = self.account_market
        await self._private_state(market)
        store: Any = self.stores[market]
        if market == "spot":
            return [
                {
                    "currency": b["a"],
                    "free": number_text(b.get("f")),
                    "frozen": number_text(b.get("l")),
                }
                for b in store.account.find()
            ]
        rows = []
        for b in store.balance.find():
            wallet = Decimal(number_text(b.get("wb")))
            free = Decimal(number_text(b.get("cw"), number_text(b.get("wb"))))
            rows.append(
                {
                    "currency": b["a"],
                    "free": decimal_text(free),
                    "frozen": decimal_text(max(wallet - free, Decimal(0))),
                }
            )
        return rows

    def _fmz_order(self, market: str, item: Mapping[str, Any]) -> dict[str, Any]:
        suffix = PERPETUAL_SUFFIX if market == "usdsm" else ""
        name = f"{item.get('s')}{suffix}"
        state = str(item.get("X", ""))
        status = _STATUS.get(state)
        if status is None:
            status = finished_status(item.get("z"))
        filled = Decimal(number_text(item.get("z")))
        average = item.get("ap")
        if average in (None, "") and filled:
            average = Decimal(number_text(item.get("Z"))) / filled
        return fmz_order(
            order_id=str(OrderId(name, str(item.get("i", "")))),
            symbol=self.symbol_text(name),
            amount=item.get("q"),
            price=item.get("p"),
            deal_amount=item.get("z"),
            avg_price=average,
            side=str(item.get("S", "")).lower(),
            status=status,
        )

    async def orders(self, instrument: Instrument | None) -> Any:
        markets = [instrument.market] if instrument is not None else list(MARKETS)
        rows = []
        for market in markets:
            await self._private_state(market)
            store: Any = self.stores[market]
            query = {} if instrument is None else {"s": self._raw(instrument)}
            rows += [self._fmz_order(market, o) for o in store.order.find(query)]
        return rows

    async def order(self, order_id: OrderId) -> Any:
        instrument = self.instrument_named(order_id.instrument)
        market = instrument.market
        await self._private_state(market)
        raw = self._raw(instrument)
        store: Any = self.stores[market]
        item = None
        for candidate in store.order.find({"s": raw}):
            if str(candidate.get("i")) == order_id.order_id:
                item = candidate
        if item is None:
            item = self._recent.get(str(order_id))
        if item is None:
            result = await self.client.fetch(
                "GET",
                MARKETS[market].rest + MARKETS[market].order_path,
                params={"symbol": raw, "orderId": order_id.order_id},
                timeout=self.context.timeout,
            )
            data = self._ok(json_of(result, "Binance", "GET order"), "order query")
            return self._fmz_order(market, _rest_order(data))
        return self._fmz_order(market, item)

    async def positions(self, selector: PositionSelector) -> Any:
        await self._private_state("usdsm")
        store: Any = self.stores["usdsm"]
        rows = []
        for p in store.position.find():
            amount = Decimal(number_text(p.get("pa")))
            if amount == 0:
                continue
            try:
                symbol = self.fmz_symbol(f"{p.get('s')}{PERPETUAL_SUFFIX}")
            except BridgeError:
                continue
            if not selector.matches(symbol):
                continue
            side = p.get("ps")
            short = side == "SHORT" or (side == "BOTH" and amount < 0)
            rows.append(
                {
                    "symbol": str(symbol),
                    "margin_level": "0",  # not in the stream; see docs/fmz.md
                    "amount": decimal_text(abs(amount)),
                    "frozen_amount": "0",
                    "price": number_text(p.get("ep")),
                    "profit": number_text(p.get("up")),
                    "type": 1 if short else 0,
                    "contract_type": symbol.contract,
                    "margin": number_text(p.get("iw")),
                }
            )
        return rows

    async def history_orders(
        self, instrument: Instrument | None, since_ms: int | None, limit: int | None
    ) -> Any:
        """Finished orders of one symbol from ``GET /api/v3/allOrders`` (``/fapi/v1/``),
        oldest first (Binance needs the symbol)."""
        if instrument is None:
            raise BridgeError("historyorders on Binance needs a symbol")
        market = MARKETS[instrument.market]
        prefix = market.order_path.rsplit("/", 1)[0]
        params = {"symbol": self._raw(instrument), "limit": str(min(limit or 500, 1000))}
        if since_ms:
            params["startTime"] = str(since_ms)
        result = await self.client.fetch(
            "GET", market.rest + prefix + "/allOrders", params=params, timeout=self.context.timeout
        )
        data = json_of(result, "Binance", "GET allOrders")
        if not isinstance(data, list):
            self._ok(data, "allOrders")
            raise BridgeError("Binance allOrders: unexpected reply")
        finished = [o for o in data if isinstance(o, dict) and o.get("status") not in _OPEN]
        finished.sort(key=lambda o: int(o.get("updateTime") or o.get("time") or 0))
        return [self._fmz_order(instrument.market, _rest_order(o)) for o in finished]

    # --------------------------------------------------------- order entry

    @staticmethod
    def _ok(data: Any, what: str) -> Mapping[str, Any]:
        """A Binance reply object, or the exchange's own error (``{"code": -2010, "msg"}``)."""
        if not isinstance(data, dict):
            raise BridgeError(f"Binance {what}: unexpected reply")
        code = data.get("code")
        if isinstance(code, int) and code != 200 and "msg" in data:
            raise BridgeError(f"Binance {what} refused: {code} {str(data.get('msg', ''))[:160]}")
        return data

    async def trade(self, order: OrderRequest) -> Any:
        instrument = order.instrument
        # The private stream first, so the order's fills are seen from the start.
        await self._private_state(instrument.market)
        market = MARKETS[instrument.market]
        body: dict[str, Any] = {
            "symbol": self._raw(instrument),
            "side": "BUY" if order.is_buy else "SELL",
            "type": "LIMIT" if order.price is not None else "MARKET",
            "quantity": decimal_text(order.amount),
        }
        if order.price is not None:
            body["price"] = decimal_text(order.price)
            body["timeInForce"] = "GTC"
        if instrument.market == "usdsm" and await self._hedge_mode():
            # Hedge mode: positionSide says which position; reduceOnly is refused there
            # (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api).
            body["positionSide"] = "LONG" if order.side in ("buy", "closebuy") else "SHORT"
        elif order.reduce_only:
            body["reduceOnly"] = "true"
        result = await self.client.fetch(
            "POST", market.rest + market.order_path, data=body, timeout=self.context.timeout
        )
        data = self._ok(json_of(result, "Binance", "POST order"), "order")
        if "orderId" not in data:
            raise BridgeError("Binance order: no orderId in the reply")
        order_id = OrderId(instrument.name, str(data["orderId"]))
        return {"id": str(order_id)}

    async def _hedge_mode(self) -> bool:
        if self._dual is None:
            result = await self.client.fetch(
                "GET",
                MARKETS["usdsm"].rest + "/fapi/v1/positionSide/dual",
                timeout=self.context.timeout,
            )
            data = self._ok(json_of(result, "Binance", "GET positionSide/dual"), "position mode")
            self._dual = data.get("dualSidePosition") is True
        return self._dual

    async def cancel(self, order_id: OrderId) -> Any:
        instrument = self.instrument_named(order_id.instrument)
        await self._private_state(instrument.market)
        market = MARKETS[instrument.market]
        result = await self.client.fetch(
            "DELETE",
            market.rest + market.order_path,
            params={"symbol": self._raw(instrument), "orderId": order_id.order_id},
            timeout=self.context.timeout,
        )
        self._ok(json_of(result, "Binance", "DELETE order"), "cancel")
        return True


def _rest_order(data: Mapping[str, Any]) -> dict[str, Any]:
    """A REST order object (``GET``/``POST .../order``) in the stream's field names."""
    return {
        "s": data.get("symbol"),
        "i": data.get("orderId"),
        "p": data.get("price"),
        "q": data.get("origQty"),
        "z": data.get("executedQty"),
        "Z": data.get("cummulativeQuoteQty"),
        "ap": data.get("avgPrice"),
        "S": data.get("side"),
        "X": data.get("status"),
    }


class BinanceFuturesAdapter(BinanceAdapter):
    """The ``BinanceFutures`` route: ``accounts`` reports the USDⓈ-M wallet."""

    name: ClassVar[str] = "BinanceFutures"
    account_market: ClassVar[str] = "usdsm"
