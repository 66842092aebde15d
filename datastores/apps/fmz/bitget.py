"""The Bitget adapter of the FMZ bridge (API v2): spot (``BTC_USDT`` = ``BTCUSDT``,
instType ``SPOT``) and USDT-margined perpetuals (``BTC_USDT.swap`` = ``BTCUSDT``,
instType ``USDT-FUTURES``, named ``BTCUSDT.P`` inside order ids).

* Market data: on first use of a symbol, one public WebSocket with its ``books``
  (snapshot, then deltas checked by their checksum and ``seq``), ``trade`` and
  ``ticker`` channels; ``depth`` answers from the verified book or refuses while
  unsynced; ``trades`` starts from the REST recent trades, then follows the stream.
* Private state: one ``/v2/ws/private`` stream (``orders`` and ``account`` of both
  instTypes, ``positions``), bootstrapped by ``GET /api/v2/spot/trade/unfilled-orders``,
  ``/api/v2/mix/order/orders-pending`` and ``/api/v2/mix/position/all-position``.
  ``accounts`` reports the spot account on ``/Bitget`` and the USDT-futures account on
  ``/BitgetFutures``.
* Orders: ``POST /api/v2/spot/trade/place-order`` and ``/api/v2/mix/order/place-order``
  (``crossed`` margin in USDT). A futures order is sent in one-way form (``reduceOnly``
  for closes) until Bitget answers that ``tradeSide`` is needed (hedge mode), then with
  ``tradeSide`` ``open``/``close`` and ``side`` naming the position. Bitget sizes a spot
  market buy in USDT: the adapter sends what ``amount`` costs at the current asks of the
  verified book.
* ticker (live), records, tickers, markets, fundings, margin level:
  :mod:`._bitget_catalog`.

Docs: https://www.bitget.com/api-doc/spot/trade/Place-Order ,
https://www.bitget.com/api-doc/contract/trade/Place-Order
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from ..._ws.app import WebSocketApp
from ...exchanges.bitget.store import BitgetV2DataStore
from ._bitget_catalog import REST, BitgetCatalog, trade_row
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

__all__ = ["BitgetAdapter", "BitgetFuturesAdapter"]

PUBLIC = "wss://ws.bitget.com/v2/ws/public"
PRIVATE = "wss://ws.bitget.com/v2/ws/private"
SPOT, FUTURES = "SPOT", "USDT-FUTURES"
_STATUS = {"live": PENDING, "new": PENDING, "partially_filled": PARTIAL, "filled": FILLED}
#: the futures margin settings the bridge trades with
_MIX = {"productType": FUTURES, "marginMode": "crossed", "marginCoin": "USDT"}


class BitgetAdapter(BitgetCatalog, PairAdapter):
    """Bitget v2 spot and USDT perpetuals."""

    name: ClassVar[str] = "Bitget"
    exchange: ClassVar[str] = "Bitget"
    quotes: ClassVar[tuple[str, ...]] = ("USDT", "USDC", "BTC", "ETH", "EUR")
    credential_name: ClassVar[str] = "bitget"
    passphrase: ClassVar[bool] = True
    #: market data, trading, positions and accounts; not ``/api/v2/asset/`` or the wallet
    api_prefixes: ClassVar[tuple[str, ...]] = (
        "/api/v2/spot/market/",
        "/api/v2/spot/trade/",
        "/api/v2/spot/account/",
        "/api/v2/mix/market/",
        "/api/v2/mix/order/",
        "/api/v2/mix/position/",
        "/api/v2/mix/account/",
        "/api/v2/public/",
    )
    #: the instType whose balances ``accounts`` reports
    account_type: ClassVar[str] = SPOT

    def __init__(self, context: AdapterContext) -> None:
        super().__init__(context)
        self.public = BitgetV2DataStore()
        self.private = BitgetV2DataStore()
        #: futures positions are per side (hedge mode), learnt from Bitget's refusal
        self._hedge = False

    # ------------------------------------------------------------- symbols

    def instrument(self, symbol: FMZSymbol) -> Instrument:
        pair = symbol.base + symbol.quote
        if symbol.is_spot:
            return Instrument(symbol, pair, SPOT)
        if symbol.contract == "swap" and symbol.quote == "USDT":
            return Instrument(symbol, pair + PERPETUAL_SUFFIX, FUTURES)
        raise BridgeError(
            f"{symbol}: only spot and USDT-margined .swap are supported on Bitget by this bridge"
        )

    def _name(self, inst_type: str, inst_id: str) -> str:
        return inst_id.upper() + (PERPETUAL_SUFFIX if inst_type == FUTURES else "")

    # --------------------------------------------------------- market data

    async def _open_public(self, instrument: Instrument) -> WebSocketApp:
        args = [
            {"instType": instrument.market, "channel": channel, "instId": self._raw(instrument)}
            for channel in ("books", "trade", "ticker")
        ]
        return await self.client.ws_connect(
            PUBLIC, send_json={"op": "subscribe", "args": args}, hdlr_json=self.public.onmessage
        )

    def _synced(self, instrument: Instrument) -> bool:
        try:
            return self.public.book.is_synced(self._raw(instrument), instrument.market)
        except (KeyError, ValueError):
            return False

    async def _book(self, instrument: Instrument, limit: int | None) -> tuple[Any, Any]:
        """``(asks, bids)`` of the verified book, best first."""
        await self._follow(instrument)
        await wait_for(lambda: self._synced(instrument), self.context.sync_timeout)
        if not self._synced(instrument):
            raise BridgeError(
                f"order book of {instrument.symbol} is not synced (waiting for the first "
                "snapshot; is the symbol listed?)"
            )
        sides = self.public.book.sorted(
            {"instType": instrument.market, "instId": self._raw(instrument)}, limit
        )
        return sides["asks"], sides["bids"]

    async def depth(self, instrument: Instrument, limit: int) -> Any:
        asks, bids = await self._book(instrument, limit)
        key = self.public.book.resolve(self._raw(instrument), instrument.market)
        updated = self.public.book.status(key).updated_at
        return {
            "time": int((updated or self.client.clock.time()) * 1000),
            "asks": [[a["price"], a["amount"]] for a in asks],
            "bids": [[b["price"], b["amount"]] for b in bids],
        }

    def _streamed_trades(self, instrument: Instrument) -> list[dict[str, Any]]:
        """What the ``trade`` channel pushed."""
        streamed = self.public.trade.find(
            {"instType": instrument.market, "instId": self._raw(instrument)}
        )
        return [trade_row(t) for t in streamed[-TRADES:]]

    # ------------------------------------------------------------ pass-through

    async def api(
        self, http_method: str, path: str, params: Mapping[str, Any], body: str | None
    ) -> Any:
        if "set-position-mode" in path:
            self._hedge = False  # learnt again from the next futures order
        # Bitget reads a GET's parameters from the query, the others' from the JSON body.
        in_body = http_method.upper() != "GET"
        return await pass_through(
            self, REST + path, http_method, params, in_body=in_body, exchange="Bitget", path=path
        )

    # ------------------------------------------------------- private state

    def _record(self, msg: Any, ws: Any) -> None:
        arg = msg.get("arg") if isinstance(msg, dict) else None
        if isinstance(arg, dict) and arg.get("channel") == "orders":
            for item in msg.get("data") or ():
                if isinstance(item, dict) and "orderId" in item:
                    name = self._name(str(arg.get("instType")), str(item.get("instId", "")))
                    self._recent.put(f"{name},{item['orderId']}", item)

    def _bootstrap(self) -> list[Any]:
        """The REST requests that load the private store: open orders of both
        instTypes and the futures positions (balances come with the subscription)."""
        timeout = self.context.timeout
        queries: tuple[tuple[str, dict[str, str]], ...] = (
            ("/api/v2/spot/trade/unfilled-orders", {}),
            ("/api/v2/mix/order/orders-pending", {"productType": FUTURES}),
            ("/api/v2/mix/position/all-position", {"productType": FUTURES}),
        )
        return [self.client.get(REST + path, params=q, timeout=timeout) for path, q in queries]

    async def _open_private(self, key: str) -> WebSocketApp:
        args = [
            {"instType": kind, "channel": "orders", "instId": "default"} for kind in (SPOT, FUTURES)
        ]
        args += [
            {"instType": FUTURES, "channel": "positions", "instId": "default"},
            {"instType": SPOT, "channel": "account", "coin": "default"},
            {"instType": FUTURES, "channel": "account", "coin": "default"},
        ]
        return await self.client.ws_connect(
            PRIVATE,
            send_json={"op": "subscribe", "args": args},
            hdlr_json=[self.private.onmessage, self._record],
        )

    async def _load_private(self, key: str) -> None:
        await self.private.initialize(*self._bootstrap())

    async def accounts(self) -> Any:
        await self._private_state()
        # The account snapshot comes with the subscription: give it a moment.
        await wait_for(
            lambda: bool(self.private.account.find({"instType": self.account_type})),
            self.context.sync_timeout,
        )
        return [
            {
                "currency": a.get("coin") or a.get("marginCoin"),
                "free": number_text(a.get("available")),
                "frozen": number_text(a.get("frozen")),
            }
            for a in self.private.account.find({"instType": self.account_type})
        ]

    def _fmz_order(self, inst_type: str, item: Mapping[str, Any]) -> dict[str, Any]:
        inst_id = str(item.get("instId") or item.get("symbol") or "")
        name = self._name(inst_type, inst_id)
        status = _STATUS.get(str(item.get("status")))
        filled = item.get("accBaseVolume", item.get("baseVolume"))
        if status is None:
            status = finished_status(filled)
        side = str(item.get("side", ""))
        if item.get("tradeSide") == "close":
            side = "sell" if side == "buy" else "buy"  # hedge mode: side names the position
        return fmz_order(
            order_id=str(OrderId(name, str(item.get("orderId", "")))),
            symbol=self.symbol_text(name),
            amount=item.get("size"),
            price=item.get("price"),
            deal_amount=filled,
            avg_price=item.get("priceAvg"),
            side=side,
            status=status,
        )

    async def orders(self, instrument: Instrument | None) -> Any:
        await self._private_state()
        query = {} if instrument is None else {"instType": instrument.market}
        if instrument is not None:
            query["instId"] = self._raw(instrument)
        return [
            self._fmz_order(str(o.get("instType")), o)
            for o in self.private.orders.find(query)
            if o.get("instType") in (SPOT, FUTURES)
        ]

    async def order(self, order_id: OrderId) -> Any:
        instrument = self.instrument_named(order_id.instrument)
        await self._private_state()
        key = {
            "instType": instrument.market,
            "instId": self._raw(instrument),
            "orderId": order_id.order_id,
        }
        item: Mapping[str, Any] | None = self.private.orders.get(key)
        if item is None:
            item = self._recent.get(str(order_id))
        if item is not None:
            return self._fmz_order(instrument.market, item)
        if instrument.market == SPOT:
            result = await self.client.fetch(
                "GET",
                REST + "/api/v2/spot/trade/orderInfo",
                params={"orderId": order_id.order_id},
                timeout=self.context.timeout,
            )
            rows = self._data(json_of(result, "Bitget", "GET orderInfo"), "order query")
            if not rows:
                raise BridgeError(f"Bitget has no order {order_id.order_id[:64]!r}")
            return self._fmz_order(SPOT, _spot_rest(rows[0]))
        result = await self.client.fetch(
            "GET",
            REST + "/api/v2/mix/order/detail",
            params={
                "symbol": self._raw(instrument),
                "productType": FUTURES,
                "orderId": order_id.order_id,
            },
            timeout=self.context.timeout,
        )
        return self._fmz_order(
            FUTURES, self._data(json_of(result, "Bitget", "GET order detail"), "order query")
        )

    async def history_orders(
        self, instrument: Instrument | None, since_ms: int | None, limit: int | None
    ) -> Any:
        """Finished orders from ``history-orders`` (spot) and ``orders-history``
        (futures), oldest first."""
        markets = [instrument.market] if instrument is not None else [SPOT, FUTURES]
        rows: list[tuple[str, Mapping[str, Any]]] = []
        for market in markets:
            params: dict[str, str] = {"limit": str(min(limit or 100, 100))}
            if instrument is not None:
                params["symbol"] = self._raw(instrument)
            if since_ms:
                params["startTime"] = str(since_ms)
            if market == SPOT:
                path = "/api/v2/spot/trade/history-orders"
            else:
                path = "/api/v2/mix/order/orders-history"
                params["productType"] = FUTURES
            result = await self.client.fetch(
                "GET", REST + path, params=params, timeout=self.context.timeout
            )
            data = self._data(json_of(result, "Bitget", f"GET {path}"), "history")
            listed = data.get("entrustedList") if isinstance(data, dict) else data
            for item in listed or ():
                rows.append((market, _spot_rest(item) if market == SPOT else item))
        rows.sort(key=lambda pair: int(pair[1].get("uTime") or 0))
        return [self._fmz_order(market, item) for market, item in rows]

    async def positions(self, selector: PositionSelector) -> Any:
        await self._private_state()
        rows = []
        for p in self.private.positions.find({"instType": FUTURES}):
            total = Decimal(number_text(p.get("total")))
            if not total:
                continue
            try:
                symbol = self.fmz_symbol(self._name(FUTURES, str(p.get("instId", ""))))
            except BridgeError:
                continue
            if not selector.matches(symbol):
                continue
            rows.append(
                {
                    "symbol": str(symbol),
                    "margin_level": number_text(p.get("leverage")),
                    "amount": decimal_text(total),
                    "frozen_amount": number_text(p.get("frozen")),
                    "price": number_text(p.get("openPriceAvg")),
                    "profit": number_text(p.get("unrealizedPL")),
                    "type": 1 if p.get("holdSide") == "short" else 0,
                    "contract_type": symbol.contract,
                    "margin": number_text(p.get("marginSize")),
                }
            )
        return rows

    # --------------------------------------------------------- order entry

    @staticmethod
    def _data(reply: Any, what: str) -> Any:
        """Bitget's ``data``, or the exchange's refusal (``code``/``msg``)."""
        if not isinstance(reply, dict):
            raise BridgeError(f"Bitget {what}: unexpected reply")
        if reply.get("code") != "00000":
            raise BridgeError(
                f"Bitget {what} refused: {reply.get('code')} {str(reply.get('msg', ''))[:160]}"
            )
        return reply.get("data")

    async def _post(self, path: str, body: Mapping[str, Any]) -> Any:
        result = await self.client.fetch(
            "POST", REST + path, data=dict(body), timeout=self.context.timeout
        )
        return json_of(result, "Bitget", f"POST {path}")

    async def _quote_size(self, instrument: Instrument, amount: Decimal) -> Decimal:
        """What ``amount`` of the base coin costs at the current asks (a spot market buy
        is sized in the quote coin on Bitget)."""
        asks, _ = await self._book(instrument, None)
        cost, left = Decimal(0), amount
        for level in asks:
            take = min(left, Decimal(level["amount"]))
            cost += take * Decimal(level["price"])
            left -= take
            if not left:
                return cost
        raise BridgeError(f"the book of {instrument.symbol} is too thin for {amount}")

    async def trade(self, order: OrderRequest) -> Any:
        instrument = order.instrument
        await self._private_state()  # first, so the order's fills are seen from the start
        body: dict[str, Any] = {
            "symbol": self._raw(instrument),
            "side": "buy" if order.is_buy else "sell",
            "orderType": "limit" if order.price is not None else "market",
            "force": "gtc",
            "size": decimal_text(order.amount),
        }
        if order.price is not None:
            body["price"] = decimal_text(order.price)
        if instrument.market == SPOT:
            if order.price is None and order.is_buy:
                body["size"] = decimal_text(await self._quote_size(instrument, order.amount))
            reply = await self._post("/api/v2/spot/trade/place-order", body)
        else:
            one_way = {**body, **_MIX, "reduceOnly": "YES" if order.reduce_only else "NO"}
            long_side = order.side in ("buy", "closebuy")
            hedged = {
                **body,
                **_MIX,
                "side": "buy" if long_side else "sell",
                "tradeSide": "close" if order.reduce_only else "open",
            }
            path = "/api/v2/mix/order/place-order"
            reply = await self._post(path, hedged if self._hedge else one_way)
            if (
                not self._hedge
                and isinstance(reply, dict)
                and reply.get("code") == "40019"
                and "tradeSide" in str(reply.get("msg"))
            ):
                # The account is in hedge mode: remember it and resend.
                self._hedge = True
                reply = await self._post(path, hedged)
        placed = self._data(reply, "order")
        if not isinstance(placed, dict) or "orderId" not in placed:
            raise BridgeError("Bitget order: no orderId in the reply")
        return {"id": str(OrderId(instrument.name, str(placed["orderId"])))}

    async def cancel(self, order_id: OrderId) -> Any:
        instrument = self.instrument_named(order_id.instrument)
        await self._private_state()
        body = {"symbol": self._raw(instrument), "orderId": order_id.order_id}
        if instrument.market == SPOT:
            reply = await self._post("/api/v2/spot/trade/cancel-order", body)
        else:
            reply = await self._post("/api/v2/mix/order/cancel-order", {**body, **_MIX})
        self._data(reply, "cancel")
        return True


def _spot_rest(row: Mapping[str, Any]) -> dict[str, Any]:
    """A spot REST order row in the stream's field names (REST ``priceAvg`` is the
    order's price there, ``basePrice`` the average fill)."""
    return {
        **row,
        "instId": row.get("symbol"),
        "price": row.get("priceAvg"),
        "priceAvg": row.get("basePrice"),
        "accBaseVolume": row.get("baseVolume"),
    }


class BitgetFuturesAdapter(BitgetAdapter):
    """The ``BitgetFutures`` route: ``accounts`` reports the USDT-futures account."""

    name: ClassVar[str] = "BitgetFutures"
    account_type: ClassVar[str] = FUTURES
