"""The OKX adapter of the FMZ bridge: spot (``BTC_USDT`` = ``BTC-USDT``) and
perpetual swaps (``BTC_USDT.swap`` = ``BTC-USDT-SWAP``, ``BTC_USD.swap`` =
``BTC-USD-SWAP``).

* Market data: on first use of an instrument, one public WebSocket
  subscribed to its ``books`` (400 levels, seqId and checksum verified),
  ``tickers`` and ``trades`` channels, kept for the life of the session;
  ``depth`` answers from the verified book or refuses while it is unsynced.
* Private state: one private WebSocket (``orders``, ``positions``,
  ``account``), logged in with the session's keys; open orders are
  bootstrapped from ``GET /api/v5/trade/orders-pending``.
* Orders: ``POST /api/v5/trade/order`` and ``/api/v5/trade/cancel-order``,
  signed by the session's ``Client``; ids are ``"<instId>,<ordId>"``.
* records, markets, tickers, fundings, margin level, history: REST per call
  (:mod:`._okx_catalog`).

Docs: https://www.okx.com/docs-v5/en/ (order-book-trading-trade-post-place-order,
order-book-trading-trade-post-cancel-order, order-book-trading-trade-get-order-details).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from ..._ws.app import WebSocketApp
from ...exchanges.okx.store import ORDERS_PENDING_PATH, OKXDataStore
from ._common import (
    FILLED,
    PARTIAL,
    PENDING,
    RecentOrders,
    TradeSeed,
    finished_status,
    fmz_order,
    json_of,
    number_text,
    pass_through,
    wait_for,
)
from ._okx_catalog import REST, OKXCatalog, okx_data, ticker_row, trade_row
from .adapter import (
    AdapterContext,
    BridgeError,
    ExchangeAdapter,
    FMZSymbol,
    Instrument,
    OrderId,
    OrderRequest,
    PositionSelector,
    decimal_text,
)

__all__ = ["OKXAdapter"]

logger = logging.getLogger("datastores.apps.fmz")

PUBLIC = "wss://ws.okx.com:8443/ws/v5/public"
PRIVATE = "wss://ws.okx.com:8443/ws/v5/private"
#: most instruments one session follows (one public WebSocket each)
MAX_FOLLOWED = 20
#: trades returned by ``trades``
TRADES = 100

_STATUS = {"live": PENDING, "partially_filled": PARTIAL, "filled": FILLED}


class OKXAdapter(OKXCatalog, ExchangeAdapter):
    """OKX v5, spot and perpetual swaps. Keys: ``secret_key`` = ``"<secret>,<passphrase>"``.

    Options (``AdapterContext.options``): ``okx_td_mode`` (swap margin mode,
    default ``"cross"``).
    """

    name: ClassVar[str] = "OKX"
    credential_name: ClassVar[str] = "okx"
    passphrase: ClassVar[bool] = True
    #: market data, trading and the trading account; not ``/api/v5/asset/`` (the
    #: funding account: withdrawals, transfers, deposit addresses)
    api_prefixes: ClassVar[tuple[str, ...]] = (
        "/api/v5/market/",
        "/api/v5/public/",
        "/api/v5/trade/",
        "/api/v5/account/",
        "/api/v5/rubik/",
        "/api/v5/system/",
    )

    def __init__(self, context: AdapterContext) -> None:
        super().__init__(context)
        self.store = OKXDataStore()
        self.store.client = self.client
        self._public: dict[str, WebSocketApp] = {}
        #: instruments subscribed or being subscribed (a refusal can beat ws_connect's return)
        self._wanted: set[str] = set()
        self._refused: dict[str, str] = {}
        self._follow_lock = asyncio.Lock()
        self._private: WebSocketApp | None = None
        self._private_lock = asyncio.Lock()
        #: the private stream's reconnect count when the open orders were last loaded
        self._loaded_at = 0
        self._pushed: set[str] = set()
        self._recent = RecentOrders()
        self._trade_seed = TradeSeed()
        self._td_mode = str(context.options.get("okx_td_mode", "cross"))
        #: the account's position mode (``net_mode``/``long_short_mode``), read once
        self._pos_mode: str | None = None

    # ------------------------------------------------------------- symbols

    def instrument(self, symbol: FMZSymbol) -> Instrument:
        if symbol.is_spot:
            return Instrument(symbol, f"{symbol.base}-{symbol.quote}", "spot")
        if symbol.contract == "swap":
            return Instrument(symbol, f"{symbol.base}-{symbol.quote}-SWAP", "swap")
        raise BridgeError(
            f"{symbol}: contract {symbol.contract!r} is not supported on OKX by this bridge "
            "(spot and .swap are)"
        )

    def instrument_named(self, name: str) -> Instrument:
        parts = name.split("-")
        if len(parts) == 2 and all(p.isalnum() for p in parts):
            return Instrument(FMZSymbol(parts[0], parts[1]), name, "spot")
        if len(parts) == 3 and parts[2] == "SWAP" and all(p.isalnum() for p in parts):
            return Instrument(FMZSymbol(parts[0], parts[1], "swap"), name, "swap")
        raise BridgeError(f"{name[:40]!r} is not an OKX spot or swap instrument")

    # --------------------------------------------------------- market data

    def _on_public(self, msg: Any, ws: Any) -> None:
        # Subscription refusals name the instrument: remember them so the agent
        # hears "unknown symbol" at once instead of "not synced" after a wait.
        if isinstance(msg, dict) and msg.get("event") == "error":
            text = str(msg.get("msg", ""))
            for inst in self._wanted:
                if f"instId:{inst} " in text or f'"{inst}"' in text:
                    self._refused[inst] = f"OKX refused {inst}: {msg.get('code')} {text[:120]}"

    async def _follow(self, instrument: Instrument) -> None:
        inst = instrument.name
        async with self._follow_lock:
            if inst in self._public:
                return
            if len(self._public) >= MAX_FOLLOWED:
                raise BridgeError(f"this session already follows {MAX_FOLLOWED} instruments")
            args = [{"channel": c, "instId": inst} for c in ("books", "tickers", "trades")]
            self._wanted.add(inst)
            self._public[inst] = await self.client.ws_connect(
                PUBLIC,
                send_json={"op": "subscribe", "args": args},
                hdlr_json=[self.store.onmessage, self._on_public],
            )
            logger.info("fmz okx: following %s", inst)

    def _check_refused(self, instrument: Instrument) -> None:
        reason = self._refused.get(instrument.name)
        if reason is not None:
            raise BridgeError(f"unknown symbol {instrument.symbol}: {reason}")

    async def _synced_book(self, instrument: Instrument) -> None:
        await self._follow(instrument)
        books = self.store.books
        inst = instrument.name
        await wait_for(
            lambda: books.is_synced(inst) or inst in self._refused, self.context.sync_timeout
        )
        self._check_refused(instrument)
        if not books.is_synced(inst):
            status = books.status(inst)
            why = status.last_error or "waiting for the first snapshot"
            raise BridgeError(f"order book of {instrument.symbol} is not synced ({why})")

    async def depth(self, instrument: Instrument, limit: int) -> Any:
        await self._synced_book(instrument)
        books = self.store.books
        asks, bids = books.levels(instrument.name, limit)
        updated = books.status(instrument.name).updated_at
        return {
            "time": int((updated or self.client.clock.time()) * 1000),
            "asks": [[level[0], level[1]] for level in asks],
            "bids": [[level[0], level[1]] for level in bids],
        }

    async def ticker(self, instrument: Instrument) -> Any:
        await self._follow(instrument)
        inst = instrument.name
        tickers = self.store.tickers
        await wait_for(
            lambda: tickers.get({"instId": inst}) is not None or inst in self._refused,
            self.context.sync_timeout,
        )
        self._check_refused(instrument)
        item = tickers.get({"instId": inst})
        if item is None:
            raise BridgeError(f"no ticker for {instrument.symbol} yet (subscribed, none pushed)")
        return ticker_row(item, instrument.symbol)

    async def trades(self, instrument: Instrument) -> Any:
        """The REST recent trades, then what the ``trades`` channel pushed since."""
        await self._follow(instrument)
        self._check_refused(instrument)
        streamed = self.store.trades.find({"instId": instrument.name})[-TRADES:]
        return await self._trade_seed.merged(
            instrument.name,
            lambda: self.recent_trades(instrument),
            [trade_row(t) for t in streamed],
            TRADES,
            logger,
        )

    # ------------------------------------------------------- private state

    def _on_private(self, msg: Any, ws: Any) -> None:
        if not isinstance(msg, dict):
            return
        arg = msg.get("arg")
        data = msg.get("data")
        if not isinstance(arg, dict) or not isinstance(data, list):
            return
        channel = arg.get("channel")
        if isinstance(channel, str):
            self._pushed.add(channel)
        if channel == "orders":
            for item in data:
                if isinstance(item, dict) and isinstance(item.get("ordId"), str):
                    self._recent.put(item["ordId"], item)

    async def _private_state(self, *channels: str) -> None:
        """Connect the private stream (once) and wait for the first push of ``channels``."""
        async with self._private_lock:
            if self._private is None:
                subscriptions = [
                    {"channel": "orders", "instType": "ANY"},
                    {"channel": "positions", "instType": "ANY"},
                    {"channel": "account"},
                ]
                app = await self.client.ws_connect(
                    PRIVATE,
                    send_json={"op": "subscribe", "args": subscriptions},
                    hdlr_json=[self.store.onmessage, self._on_private],
                )
                try:
                    await self._load_open_orders(app)
                except BaseException:
                    await app.close()  # the next call starts over
                    raise
                self._private = app
            elif self._private.statistics().reconnects != self._loaded_at:
                # OKX sends no order snapshot on subscribe: after a reconnect the open
                # orders are read again, or those closed meanwhile would linger.
                await self._load_open_orders(self._private)
        if not await wait_for(
            lambda: all(c in self._pushed for c in channels), self.context.sync_timeout
        ):
            missing = ", ".join(c for c in channels if c not in self._pushed)
            raise BridgeError(f"OKX private stream: no {missing} push yet")

    async def _load_open_orders(self, app: WebSocketApp) -> None:
        self._loaded_at = app.statistics().reconnects  # a reconnect during the fetch: again
        pending = self.client.get(REST + ORDERS_PENDING_PATH, timeout=self.context.timeout)
        self.store.orders._clear()  # the answer is the whole list, not a change
        await self.store.initialize(pending)

    async def accounts(self) -> Any:
        await self._private_state("account")
        return [
            {
                "currency": d.get("ccy", ""),
                "free": number_text(d.get("availBal") or d.get("cashBal")),
                "frozen": number_text(d.get("frozenBal")),
            }
            for d in self.store.account.details.find()
        ]

    async def assets(self) -> Any:
        return await self.accounts()

    def _fmz_order(self, item: Mapping[str, Any]) -> dict[str, Any]:
        inst = str(item.get("instId", ""))
        state = str(item.get("state", ""))
        status = _STATUS.get(state)
        if status is None:
            status = finished_status(item.get("accFillSz")) if "canceled" in state else state
        return fmz_order(
            order_id=str(OrderId(inst, str(item.get("ordId", "")))),
            symbol=self.symbol_text(inst),
            amount=item.get("sz"),
            price=item.get("px"),
            deal_amount=item.get("accFillSz"),
            avg_price=item.get("avgPx"),
            side=str(item.get("side", "")),
            status=status,
        )

    async def orders(self, instrument: Instrument | None) -> Any:
        await self._private_state()
        query = {} if instrument is None else {"instId": instrument.name}
        return [self._fmz_order(o) for o in self.store.orders.find(query)]

    async def order(self, order_id: OrderId) -> Any:
        await self._private_state()
        item = self.store.orders.get({"ordId": order_id.order_id}) or self._recent.get(
            order_id.order_id
        )
        if item is None or item.get("instId") != order_id.instrument:
            result = await self.client.fetch(
                "GET",
                REST + "/api/v5/trade/order",
                params={"instId": order_id.instrument, "ordId": order_id.order_id},
                timeout=self.context.timeout,
            )
            rows = okx_data(json_of(result, "OKX", "GET /api/v5/trade/order"), "order query")
            if not rows or not isinstance(rows[0], dict):
                raise BridgeError(f"OKX has no order {order_id}")
            item = rows[0]
        return self._fmz_order(item)

    async def positions(self, selector: PositionSelector) -> Any:
        await self._private_state("positions")
        rows = []
        for p in self.store.positions.find():
            amount = Decimal(number_text(p.get("pos")))
            if amount == 0:
                continue
            try:
                symbol = self.fmz_symbol(str(p.get("instId", "")))
            except BridgeError:
                continue  # dated futures and options: not mapped by this bridge
            if not selector.matches(symbol):
                continue
            side = p.get("posSide")
            short = side == "short" or (side == "net" and amount < 0)
            rows.append(
                {
                    "symbol": str(symbol),
                    "margin_level": number_text(p.get("lever")),
                    "amount": decimal_text(abs(amount)),
                    "frozen_amount": "0",
                    "price": number_text(p.get("avgPx")),
                    "profit": number_text(p.get("upl")),
                    "type": 1 if short else 0,
                    "contract_type": symbol.contract,
                    "margin": number_text(p.get("margin") or p.get("imr")),
                }
            )
        return rows

    # --------------------------------------------------------- order entry

    async def trade(self, order: OrderRequest) -> Any:
        # The private stream first, so the order's fills are seen from the start.
        await self._private_state()
        instrument = order.instrument
        body: dict[str, Any] = {
            "instId": instrument.name,
            "tdMode": "cash" if instrument.is_spot else self._td_mode,
            "side": "buy" if order.is_buy else "sell",
            "ordType": "limit" if order.price is not None else "market",
            "sz": decimal_text(order.amount),
        }
        if order.price is not None:
            body["px"] = decimal_text(order.price)
        elif instrument.is_spot:
            body["tgtCcy"] = "base_ccy"  # a market buy's sz is in quote currency otherwise
        if not instrument.is_spot and await self._position_mode() == "long_short_mode":
            # Long/short mode: the side of the position, not reduceOnly, says open or close
            # (https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order).
            body["posSide"] = "long" if order.side in ("buy", "closebuy") else "short"
        elif order.reduce_only:
            body["reduceOnly"] = True
        result = await self.client.fetch(
            "POST", REST + "/api/v5/trade/order", data=body, timeout=self.context.timeout
        )
        rows = okx_data(json_of(result, "OKX", "POST /api/v5/trade/order"), "order")
        if not rows or not isinstance(rows[0], dict) or not rows[0].get("ordId"):
            raise BridgeError("OKX order: no ordId in the reply")
        ord_id = str(rows[0]["ordId"])
        return {"id": str(OrderId(instrument.name, ord_id))}

    async def _position_mode(self) -> str:
        if self._pos_mode is None:
            rows = await self._get("/api/v5/account/config", {}, "account config")
            mode = rows[0].get("posMode") if rows and isinstance(rows[0], dict) else None
            self._pos_mode = str(mode or "net_mode")
        return self._pos_mode

    async def cancel(self, order_id: OrderId) -> Any:
        await self._private_state()
        result = await self.client.fetch(
            "POST",
            REST + "/api/v5/trade/cancel-order",
            data={"instId": order_id.instrument, "ordId": order_id.order_id},
            timeout=self.context.timeout,
        )
        okx_data(json_of(result, "OKX", "POST /api/v5/trade/cancel-order"), "cancel")
        return True

    async def api(
        self, http_method: str, path: str, params: Mapping[str, Any], body: str | None
    ) -> Any:
        if "position-mode" in path:
            self._pos_mode = None  # read again before the next order
        in_body = http_method in ("POST", "PUT")
        return await pass_through(
            self, REST + path, http_method, params, in_body=in_body, exchange="OKX", path=path
        )

    async def aclose(self) -> None:
        # The client closes the WebSocketApps (they are its closers).
        self._public.clear()
        self._private = None
