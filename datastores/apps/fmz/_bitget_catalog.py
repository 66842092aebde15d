"""The Bitget methods of the FMZ bridge that are not order entry or private state:
the ticker (from the live ``ticker`` channel and the verified book), and, by REST
on each call, records, tickers, markets, fundings, margin level and the recent
trades that ``trades`` starts from (API v2, spot and USDT futures). A mixin of
:class:`~datastores.apps.fmz.bitget.BitgetAdapter`.

Docs: https://www.bitget.com/api-doc/spot/market/Get-Candle-Data ,
https://www.bitget.com/api-doc/contract/market/Get-Candle-Data ,
https://www.bitget.com/api-doc/spot/market/Get-Tickers ,
https://www.bitget.com/api-doc/contract/market/Get-All-Symbol-Ticker ,
https://www.bitget.com/api-doc/spot/market/Get-Symbols ,
https://www.bitget.com/api-doc/contract/market/Get-All-Symbols-Contracts ,
https://www.bitget.com/api-doc/contract/market/Get-Current-Funding-Rate ,
https://www.bitget.com/api-doc/spot/market/Get-Recent-Trades ,
https://www.bitget.com/api-doc/contract/market/Get-Recent-Fills ,
https://www.bitget.com/api-doc/contract/account/Change-Leverage ,
https://www.bitget.com/api-doc/spot/websocket/public/Tickers-Channel
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._common import fmz_market, fmz_ticker, json_of, number_text, step_places, wait_for
from .adapter import AdapterContext, BridgeError, FMZSymbol, Instrument, decimal_text

if TYPE_CHECKING:
    from ..._client import Client
    from ...exchanges.bitget.store import BitgetV2DataStore

__all__ = ["GRANULARITIES", "REST", "BitgetCatalog", "trade_row"]

REST = "https://api.bitget.com"
SPOT, FUTURES = "SPOT", "USDT-FUTURES"
#: FMZ record periods (minutes) -> Bitget ``granularity`` (spot, futures)
GRANULARITIES: dict[int, tuple[str, str]] = {
    1: ("1min", "1m"),
    3: ("3min", "3m"),
    5: ("5min", "5m"),
    15: ("15min", "15m"),
    30: ("30min", "30m"),
    60: ("1h", "1H"),
    240: ("4h", "4H"),
    360: ("6h", "6H"),
    720: ("12h", "12H"),
    1440: ("1day", "1D"),
    4320: ("3day", "3D"),
    10080: ("1week", "1W"),
}
#: most candles one request returns
MAX_CANDLES = 1000
#: recent trades ``trades`` starts from (futures allow 100 at most)
RECENT_TRADES = 100
#: funding interval (hours) when Bitget does not say
DEFAULT_FUNDING_HOURS = 8


def trade_row(item: Mapping[str, Any]) -> dict[str, Any]:
    """An FMZ trade from a REST ``fills`` row or a ``trade`` push (same field names:
    ``tradeId``, ``price``, ``size``, ``side``, ``ts``)."""
    return {
        "id": str(item.get("tradeId", "")),
        "time": int(item.get("ts") or 0),
        "price": number_text(item.get("price")),
        "amount": number_text(item.get("size")),
        "type": "buy" if item.get("side") == "buy" else "sell",
    }


class BitgetCatalog:
    """ticker, records, tickers, markets, fundings, set_margin_level, recent trades."""

    if TYPE_CHECKING:  # provided by BitgetAdapter / ExchangeAdapter
        client: Client
        context: AdapterContext
        public: BitgetV2DataStore

        def fmz_symbol(self, name: str) -> FMZSymbol: ...

        @staticmethod
        def _raw(instrument: Instrument) -> str: ...

        @staticmethod
        def _data(reply: Any, what: str) -> Any: ...

        async def depth(self, instrument: Instrument, limit: int) -> Any: ...

    async def _get(self, path: str, params: Mapping[str, str]) -> list[Any]:
        result = await self.client.fetch(
            "GET", REST + path, params=dict(params), timeout=self.context.timeout
        )
        data = self._data(json_of(result, "Bitget", f"GET {path}"), path.rpartition("/")[2])
        return data if isinstance(data, list) else []

    def _symbol_of(self, inst_type: str, raw: Any) -> FMZSymbol | None:
        name = f"{raw}.P" if inst_type == FUTURES else str(raw)
        try:
            return self.fmz_symbol(name)
        except BridgeError:
            return None

    async def recent_trades(self, instrument: Instrument) -> list[dict[str, Any]]:
        """The exchange's latest public trades, oldest first (``market/fills``)."""
        params = {"symbol": self._raw(instrument), "limit": str(RECENT_TRADES)}
        if instrument.market == FUTURES:
            params["productType"] = FUTURES
            path = "/api/v2/mix/market/fills"
        else:
            path = "/api/v2/spot/market/fills"
        rows = [trade_row(t) for t in await self._get(path, params) if isinstance(t, dict)]
        # Listed newest first; trades of one match share a time, so reverse before sorting.
        return sorted(reversed(rows), key=lambda t: t["time"])

    async def records(self, instrument: Instrument, period_minutes: int, limit: int) -> Any:
        """Candles, oldest first, row time in seconds."""
        granularity = GRANULARITIES.get(period_minutes)
        if granularity is None:
            periods = ", ".join(str(p) for p in GRANULARITIES)
            raise BridgeError(
                f"period {period_minutes} is not a Bitget granularity; use one of {periods}"
            )
        futures = instrument.market == FUTURES
        params = {
            "symbol": self._raw(instrument),
            "granularity": granularity[1] if futures else granularity[0],
            "limit": str(min(limit, MAX_CANDLES)),
        }
        if futures:
            params["productType"] = FUTURES
        path = "/api/v2/mix/market/candles" if futures else "/api/v2/spot/market/candles"
        rows = [r for r in await self._get(path, params) if isinstance(r, list) and len(r) >= 6]
        rows.sort(key=lambda r: int(r[0]))
        return [[int(r[0]) // 1000, *(number_text(v) for v in r[1:6])] for r in rows]

    @staticmethod
    def _ticker_row(
        symbol: FMZSymbol, day: Mapping[str, Any], bid: Any, ask: Any
    ) -> dict[str, Any]:
        return fmz_ticker(
            symbol,
            buy=bid,
            sell=ask,
            high=day.get("high24h"),
            low=day.get("low24h"),
            # The spot REST tickers name it "open", the futures ones and the stream "open24h".
            open=day.get("open24h", day.get("open")),
            last=day.get("lastPr"),
            volume=day.get("baseVolume"),
            time=day.get("ts", ""),
        )

    async def ticker(self, instrument: Instrument) -> Any:
        """Best bid and ask from the live verified book, the 24-hour figures from the
        live ``ticker`` channel (subscribed with the book)."""
        top = await self.depth(instrument, 1)
        key = {"instType": instrument.market, "instId": self._raw(instrument)}
        store = self.public.ticker
        await wait_for(lambda: store.get(key) is not None, self.context.sync_timeout)
        day = store.get(key)
        if day is None:
            raise BridgeError(f"no ticker for {instrument.symbol} yet (subscribed, none pushed)")
        bid = top["bids"][0][0] if top["bids"] else None
        ask = top["asks"][0][0] if top["asks"] else None
        return self._ticker_row(instrument.symbol, day, bid, ask)

    async def tickers(self) -> Any:
        """Every spot and USDT-futures symbol the bridge maps (``market/tickers``)."""
        rows = []
        spot = await self._get("/api/v2/spot/market/tickers", {})
        futures = await self._get("/api/v2/mix/market/tickers", {"productType": FUTURES})
        for inst_type, days in ((SPOT, spot), (FUTURES, futures)):
            for day in days:
                if not isinstance(day, dict):
                    continue
                symbol = self._symbol_of(inst_type, day.get("symbol"))
                if symbol is not None:
                    rows.append(self._ticker_row(symbol, day, day.get("bidPr"), day.get("askPr")))
        return rows

    async def markets(self) -> Any:
        """Trading rules from ``spot/public/symbols`` and ``mix/market/contracts``
        (perpetuals)."""
        markets: dict[str, Any] = {}
        for item in await self._get("/api/v2/spot/public/symbols", {}):
            if not isinstance(item, dict) or item.get("status") != "online":
                continue
            symbol = self._symbol_of(SPOT, item.get("symbol"))
            if symbol is None:
                continue
            prices = int(number_text(item.get("pricePrecision")))
            amounts = int(number_text(item.get("quantityPrecision")))
            markets[str(symbol)] = fmz_market(
                name=item.get("symbol"),
                symbol=symbol,
                tick=decimal_text(Decimal(1).scaleb(-prices)),
                step=decimal_text(Decimal(1).scaleb(-amounts)),
                price_precision=prices,
                amount_precision=amounts,
                min_qty=item.get("minTradeAmount"),
                max_qty=item.get("maxTradeAmount"),
                min_notional=item.get("minTradeUSDT"),
            )
        contracts = await self._get("/api/v2/mix/market/contracts", {"productType": FUTURES})
        for item in contracts:
            if not isinstance(item, dict) or item.get("symbolStatus") != "normal":
                continue
            if item.get("symbolType") != "perpetual":
                continue
            symbol = self._symbol_of(FUTURES, item.get("symbol"))
            if symbol is None:
                continue
            places = int(number_text(item.get("pricePlace")))
            # The tick is priceEndStep units of the last price place.
            tick = Decimal(number_text(item.get("priceEndStep"), "1")).scaleb(-places)
            step = number_text(item.get("sizeMultiplier"))
            markets[str(symbol)] = fmz_market(
                name=item.get("symbol"),
                symbol=symbol,
                tick=decimal_text(tick),
                step=step,
                price_precision=places,
                amount_precision=int(number_text(item.get("volumePlace"), str(step_places(step)))),
                min_qty=item.get("minTradeNum"),
                max_qty=item.get("maxOrderQty"),
                min_notional=item.get("minTradeUSDT"),
                contract_value="1",
                contract_currency=symbol.base,
            )
        return markets

    async def fundings(self, instrument: Instrument | None) -> Any:
        """The current funding of one perpetual (``current-fund-rate``: rate, interval
        in hours, ``nextUpdate``)."""
        if instrument is None or instrument.market != FUTURES:
            raise BridgeError("fundings needs a perpetual symbol such as BTC_USDT.swap")
        raw = self._raw(instrument)
        rows = await self._get(
            "/api/v2/mix/market/current-fund-rate", {"symbol": raw, "productType": FUTURES}
        )
        listed = [r for r in rows if isinstance(r, dict)]
        if not listed:
            raise BridgeError(f"Bitget lists no funding rate for {raw}")
        row = listed[0]
        hours = int(number_text(row.get("fundingRateInterval"), str(DEFAULT_FUNDING_HOURS)))
        return [
            {
                "symbol": str(instrument.symbol),
                "interval": hours * 3_600_000,
                "time": int(number_text(row.get("nextUpdate"))),
                "rate": number_text(row.get("fundingRate")),
            }
        ]

    async def set_margin_level(self, instrument: Instrument | None, level: Decimal) -> Any:
        """``POST /api/v2/mix/account/set-leverage`` (crossed margin in USDT, the
        margin the bridge trades with: one leverage for both sides)."""
        if instrument is None or instrument.market != FUTURES:
            raise BridgeError(
                "the margin level is set per perpetual: give a symbol such as BTC_USDT.swap"
            )
        if level != level.to_integral_value():
            raise BridgeError("Bitget leverage must be a whole number")
        body = {
            "symbol": self._raw(instrument),
            "productType": FUTURES,
            "marginCoin": "USDT",
            "leverage": decimal_text(level),
        }
        result = await self.client.fetch(
            "POST",
            REST + "/api/v2/mix/account/set-leverage",
            data=body,
            timeout=self.context.timeout,
        )
        self._data(json_of(result, "Bitget", "POST /api/v2/mix/account/set-leverage"), "leverage")
        return True
