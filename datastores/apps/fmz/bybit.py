"""The Bybit V5 adapter of the FMZ bridge: spot (``BTC_USDT`` = ``BTCUSDT``,
``category=spot``) and USDT/USDC perpetuals (``BTC_USDT.swap`` = ``BTCUSDT``,
``category=linear``, named ``BTCUSDT.P`` inside order ids so both stay apart).

* Market data: on first use of a symbol, one WebSocket on its category's public
  stream with ``orderbook.50.<symbol>``, ``publicTrade.<symbol>`` and
  ``tickers.<symbol>``; the book is the store's verified one (snapshot then
  deltas, ``u`` checked); ``depth`` answers from it or refuses while unsynced;
  ``trades`` starts from the REST recent trades, then follows the stream.
* Private state: one ``/v5/private`` stream (``order``, ``execution``,
  ``position``, ``wallet``; every category), bootstrapped by ``GET
  /v5/order/realtime`` (spot, linear), ``/v5/position/list`` and
  ``/v5/account/wallet-balance`` (UNIFIED).
* Orders: ``POST /v5/order/create`` / ``cancel``; a linear order is sent in
  one-way mode (``positionIdx`` 0, ``reduceOnly`` for closes) until Bybit answers
  that the position mode differs, then with ``positionIdx`` 1 (long) / 2 (short).
  Market orders are sized in the base coin (``marketUnit=baseCoin`` on spot), as
  the other adapters size them.
* ticker (live), records, tickers, markets, fundings, margin level:
  :mod:`._bybit_catalog`.

Docs: https://bybit-exchange.github.io/docs/v5/order/create-order ,
https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from ..._ws.app import WebSocketApp
from ...exchanges.bybit.store import BybitDataStore
from ._bybit_catalog import REST, BybitCatalog, trade_row
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

__all__ = ["BybitAdapter"]

PUBLIC = "wss://stream.bybit.com/v5/public/"
PRIVATE = "wss://stream.bybit.com/v5/private"
_STATUS = {"New": PENDING, "PartiallyFilled": PARTIAL, "Filled": FILLED, "Untriggered": PENDING}
#: Bybit's answer when positionIdx does not match the account's position mode
_MODE_MISMATCH = "position idx not match position mode"


class BybitAdapter(BybitCatalog, PairAdapter):
    """Bybit V5 spot and linear perpetuals (one unified account)."""

    name: ClassVar[str] = "Bybit"
    exchange: ClassVar[str] = "Bybit"
    quotes: ClassVar[tuple[str, ...]] = ("USDT", "USDC", "BTC", "ETH", "EUR")
    credential_name: ClassVar[str] = "bybit"
    #: market data, trading, positions and the account; not the asset (wallet) endpoints
    api_prefixes: ClassVar[tuple[str, ...]] = (
        "/v5/market/",
        "/v5/order/",
        "/v5/position/",
        "/v5/execution/",
        "/v5/account/",
    )

    def __init__(self, context: AdapterContext) -> None:
        super().__init__(context)
        # Bybit's public topics do not name the category: one store per category.
        self.public = {"spot": BybitDataStore(), "linear": BybitDataStore()}
        self.private = BybitDataStore()
        #: linear positions are per side (hedge mode), learnt from Bybit's refusal
        self._hedge = False

    # ------------------------------------------------------------- symbols

    def instrument(self, symbol: FMZSymbol) -> Instrument:
        pair = symbol.base + symbol.quote
        if symbol.is_spot:
            return Instrument(symbol, pair, "spot")
        if symbol.contract == "swap" and symbol.quote in ("USDT", "USDC"):
            return Instrument(symbol, pair + PERPETUAL_SUFFIX, "linear")
        raise BridgeError(
            f"{symbol}: only spot and USDT/USDC-margined .swap are supported on Bybit "
            "by this bridge"
        )

    # --------------------------------------------------------- market data

    async def _open_public(self, instrument: Instrument) -> WebSocketApp:
        raw = self._raw(instrument)
        return await self.client.ws_connect(
            PUBLIC + instrument.market,
            send_json={
                "op": "subscribe",
                "args": [f"orderbook.50.{raw}", f"publicTrade.{raw}", f"tickers.{raw}"],
            },
            hdlr_json=self.public[instrument.market].onmessage,
        )

    async def depth(self, instrument: Instrument, limit: int) -> Any:
        await self._follow(instrument)
        book: Any = self.public[instrument.market].orderbook
        raw = self._raw(instrument)
        await wait_for(lambda: book.is_synced(raw), self.context.sync_timeout)
        if not book.is_synced(raw):
            status = book.status(raw)
            why = status.last_error or "waiting for the first snapshot (is the symbol listed?)"
            raise BridgeError(f"order book of {instrument.symbol} is not synced ({why})")
        asks, bids = book.levels(raw, limit)
        updated = book.status(raw).updated_at
        return {
            "time": int((updated or self.client.clock.time()) * 1000),
            "asks": [[level[0], level[1]] for level in asks],
            "bids": [[level[0], level[1]] for level in bids],
        }

    def _streamed_trades(self, instrument: Instrument) -> list[dict[str, Any]]:
        """What ``publicTrade`` pushed."""
        streamed = self.public[instrument.market].trade.find({"s": self._raw(instrument)})
        return [trade_row(t) for t in streamed[-TRADES:]]

    # ------------------------------------------------------------ pass-through

    async def api(
        self, http_method: str, path: str, params: Mapping[str, Any], body: str | None
    ) -> Any:
        # Bybit reads a GET's parameters from the query, the others' from the JSON body.
        in_body = http_method.upper() != "GET"
        return await pass_through(
            self, REST + path, http_method, params, in_body=in_body, exchange="Bybit", path=path
        )

    # ------------------------------------------------------- private state

    def _record(self, msg: Any, ws: Any) -> None:
        topic = msg.get("topic") if isinstance(msg, dict) else None
        if isinstance(topic, str) and topic.startswith("order"):
            for item in msg.get("data") or ():
                if isinstance(item, dict) and "orderId" in item:
                    self._recent.put(str(item["orderId"]), item)

    def _bootstrap(self) -> list[Any]:
        """The REST requests that load the private store: open orders of both
        categories, linear positions, the UNIFIED wallet."""
        timeout = self.context.timeout
        queries = (
            ("/v5/order/realtime", {"category": "spot"}),
            ("/v5/order/realtime", {"category": "linear", "settleCoin": "USDT"}),
            ("/v5/position/list", {"category": "linear", "settleCoin": "USDT"}),
            ("/v5/account/wallet-balance", {"accountType": "UNIFIED"}),
        )
        return [self.client.get(REST + path, params=q, timeout=timeout) for path, q in queries]

    async def _open_private(self, key: str) -> WebSocketApp:
        return await self.client.ws_connect(
            PRIVATE,
            send_json={"op": "subscribe", "args": ["order", "execution", "position", "wallet"]},
            hdlr_json=[self.private.onmessage, self._record],
        )

    async def _load_private(self, key: str) -> None:
        await self.private.initialize(*self._bootstrap())

    async def accounts(self) -> Any:
        await self._private_state()
        wallet: Mapping[str, Any] = self.private.wallet.get({"accountType": "UNIFIED"}) or {}
        rows = []
        for coin in wallet.get("coin") or ():
            total = Decimal(number_text(coin.get("walletBalance")))
            locked = Decimal(number_text(coin.get("locked")))
            rows.append(
                {
                    "currency": coin.get("coin"),
                    "free": decimal_text(total - locked),
                    "frozen": decimal_text(locked),
                }
            )
        return rows

    def _fmz_order(self, item: Mapping[str, Any], market: str | None = None) -> dict[str, Any]:
        category = market or str(item.get("category") or "spot")
        name = f"{item.get('symbol')}{PERPETUAL_SUFFIX if category == 'linear' else ''}"
        status = _STATUS.get(str(item.get("orderStatus")))
        if status is None:
            status = finished_status(item.get("cumExecQty"))
        return fmz_order(
            order_id=str(OrderId(name, str(item.get("orderId", "")))),
            symbol=self.symbol_text(name),
            amount=item.get("qty"),
            price=item.get("price"),
            deal_amount=item.get("cumExecQty"),
            avg_price=item.get("avgPrice"),
            side=str(item.get("side", "")).lower(),
            status=status,
        )

    async def orders(self, instrument: Instrument | None) -> Any:
        await self._private_state()
        rows = []
        for item in self.private.order.find():
            category = str(item.get("category") or "spot")
            if instrument is not None and (
                category != instrument.market or item.get("symbol") != self._raw(instrument)
            ):
                continue
            rows.append(self._fmz_order(item, category))
        return rows

    async def order(self, order_id: OrderId) -> Any:
        instrument = self.instrument_named(order_id.instrument)
        await self._private_state()
        item: Mapping[str, Any] | None = self.private.order.get({"orderId": order_id.order_id})
        if item is None:
            item = self._recent.get(order_id.order_id)
        if item is None:
            result = await self.client.fetch(
                "GET",
                REST + "/v5/order/realtime",
                params={"category": instrument.market, "orderId": order_id.order_id},
                timeout=self.context.timeout,
            )
            found = self._result(json_of(result, "Bybit", "GET order/realtime"), "order query")
            listed = found.get("list") or []
            if not listed:
                raise BridgeError(f"Bybit has no order {order_id.order_id[:64]!r}")
            item = listed[0]
        return self._fmz_order(item, instrument.market)

    async def history_orders(
        self, instrument: Instrument | None, since_ms: int | None, limit: int | None
    ) -> Any:
        """Finished orders from ``GET /v5/order/history``, oldest first."""
        markets = [instrument.market] if instrument is not None else ["spot", "linear"]
        rows: list[Mapping[str, Any]] = []
        for market in markets:
            params = {"category": market, "limit": str(min(limit or 50, 50))}
            if instrument is not None:
                params["symbol"] = self._raw(instrument)
            if since_ms:
                params["startTime"] = str(since_ms)
            result = await self.client.fetch(
                "GET", REST + "/v5/order/history", params=params, timeout=self.context.timeout
            )
            found = self._result(json_of(result, "Bybit", "GET order/history"), "history")
            rows += [{**o, "category": market} for o in found.get("list") or ()]
        rows.sort(key=lambda o: int(o.get("updatedTime") or 0))
        return [self._fmz_order(o) for o in rows]

    async def positions(self, selector: PositionSelector) -> Any:
        await self._private_state()
        rows = []
        for p in self.private.position.find():
            size = Decimal(number_text(p.get("size")))
            if not size:
                continue
            try:
                symbol = self.fmz_symbol(f"{p.get('symbol')}{PERPETUAL_SUFFIX}")
            except BridgeError:
                continue
            if not selector.matches(symbol):
                continue
            rows.append(
                {
                    "symbol": str(symbol),
                    "margin_level": number_text(p.get("leverage")),
                    "amount": decimal_text(size),
                    "frozen_amount": "0",
                    "price": number_text(p.get("entryPrice", p.get("avgPrice"))),
                    "profit": number_text(p.get("unrealisedPnl")),
                    "type": 1 if p.get("side") == "Sell" else 0,
                    "contract_type": symbol.contract,
                    "margin": number_text(p.get("positionIM")),
                }
            )
        return rows

    # --------------------------------------------------------- order entry

    @staticmethod
    def _result(data: Any, what: str) -> Mapping[str, Any]:
        """Bybit's ``result``, or the exchange's refusal (``retCode``/``retMsg``)."""
        if not isinstance(data, dict):
            raise BridgeError(f"Bybit {what}: unexpected reply")
        if data.get("retCode") != 0:
            raise BridgeError(
                f"Bybit {what} refused: {data.get('retCode')} {str(data.get('retMsg', ''))[:160]}"
            )
        result = data.get("result")
        return result if isinstance(result, dict) else {}

    async def _create(self, body: Mapping[str, Any]) -> Any:
        result = await self.client.fetch(
            "POST", REST + "/v5/order/create", data=dict(body), timeout=self.context.timeout
        )
        return json_of(result, "Bybit", "POST order/create")

    async def trade(self, order: OrderRequest) -> Any:
        instrument = order.instrument
        await self._private_state()  # first, so the order's fills are seen from the start
        body: dict[str, Any] = {
            "category": instrument.market,
            "symbol": self._raw(instrument),
            "side": "Buy" if order.is_buy else "Sell",
            "orderType": "Limit" if order.price is not None else "Market",
            "qty": decimal_text(order.amount),
        }
        if order.price is not None:
            body["price"] = decimal_text(order.price)
            body["timeInForce"] = "GTC"
        elif instrument.market == "spot":
            body["marketUnit"] = "baseCoin"
        if instrument.market == "linear":
            hedged = {**body, "positionIdx": 1 if order.side in ("buy", "closebuy") else 2}
            one_way = {
                **body,
                "positionIdx": 0,
                **({"reduceOnly": True} if order.reduce_only else {}),
            }
            data = await self._create(hedged if self._hedge else one_way)
            if isinstance(data, dict) and _MODE_MISMATCH in str(data.get("retMsg", "")):
                # The account is in the other position mode: remember it and resend.
                self._hedge = not self._hedge
                data = await self._create(hedged if self._hedge else one_way)
        else:
            data = await self._create(body)
        placed = self._result(data, "order")
        if "orderId" not in placed:
            raise BridgeError("Bybit order: no orderId in the reply")
        return {"id": str(OrderId(instrument.name, str(placed["orderId"])))}

    async def cancel(self, order_id: OrderId) -> Any:
        instrument = self.instrument_named(order_id.instrument)
        await self._private_state()
        result = await self.client.fetch(
            "POST",
            REST + "/v5/order/cancel",
            data={
                "category": instrument.market,
                "symbol": self._raw(instrument),
                "orderId": order_id.order_id,
            },
            timeout=self.context.timeout,
        )
        self._result(json_of(result, "Bybit", "POST order/cancel"), "cancel")
        return True
