"""The Binance methods of the FMZ bridge served by REST on each call: records, the
ticker's 24-hour figures, tickers, markets, fundings and margin level (spot and
USDⓈ-M). A mixin of :class:`~datastores.apps.fmz.binance.BinanceAdapter`.

Docs: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints ,
https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api ,
https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Change-Initial-Leverage
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._common import fmz_market, fmz_ticker, json_of, number_text
from .adapter import AdapterContext, BridgeError, FMZSymbol, Instrument, decimal_text

if TYPE_CHECKING:
    from ..._client import Client

__all__ = ["INTERVALS", "REST", "BinanceCatalog", "trade_row"]

#: REST base of each market
REST: Mapping[str, str] = {"spot": "https://api.binance.com", "usdsm": "https://fapi.binance.com"}
#: path prefix of each market's endpoints
PREFIX: Mapping[str, str] = {"spot": "/api/v3", "usdsm": "/fapi/v1"}
#: FMZ record periods (minutes) -> Binance kline ``interval``
INTERVALS: dict[int, str] = {
    1: "1m",
    3: "3m",
    5: "5m",
    15: "15m",
    30: "30m",
    60: "1h",
    120: "2h",
    240: "4h",
    360: "6h",
    480: "8h",
    720: "12h",
    1440: "1d",
    4320: "3d",
    10080: "1w",
}
#: most klines one request returns
MAX_KLINES = {"spot": 1000, "usdsm": 1500}
#: funding interval of USDⓈ-M perpetuals unless ``fundingInfo`` lists another
DEFAULT_FUNDING_HOURS = 8


def trade_row(item: Mapping[str, Any]) -> dict[str, Any]:
    """An FMZ trade from a ``trade``/``aggTrade`` push (``t``/``a``, ``p``, ``q``, ``T``,
    ``m``), an ``aggTrades`` row (same keys) or a spot ``trades`` row (``id``,
    ``price``, ``qty``, ``time``, ``isBuyerMaker``)."""
    buyer_is_maker = item.get("m", item.get("isBuyerMaker"))
    return {
        "id": str(item.get("t", item.get("a", item.get("id", "")))),
        "time": int(item.get("T", item.get("time")) or 0),
        "price": number_text(item.get("p", item.get("price"))),
        "amount": number_text(item.get("q", item.get("qty"))),
        # the buyer is the maker, so the taker sold
        "type": "sell" if buyer_is_maker else "buy",
    }


class BinanceCatalog:
    """records, ticker, tickers, markets, fundings, set_margin_level, recent trades."""

    if TYPE_CHECKING:  # provided by BinanceAdapter / ExchangeAdapter
        client: Client
        context: AdapterContext

        def fmz_symbol(self, name: str) -> FMZSymbol: ...

        def instrument_named(self, name: str) -> Instrument: ...

        @staticmethod
        def _raw(instrument: Instrument) -> str: ...

        @staticmethod
        def _ok(data: Any, what: str) -> Mapping[str, Any]: ...

        async def depth(self, instrument: Instrument, limit: int) -> Any: ...

    async def _get(self, market: str, endpoint: str, params: Mapping[str, str]) -> Any:
        path = PREFIX[market] + endpoint
        result = await self.client.fetch(
            "GET", REST[market] + path, params=dict(params), timeout=self.context.timeout
        )
        data = json_of(result, "Binance", f"GET {path}")
        if isinstance(data, dict):
            self._ok(data, endpoint.strip("/"))
        return data

    def _symbol_of(self, market: str, raw: Any) -> FMZSymbol | None:
        name = f"{raw}.P" if market == "usdsm" else str(raw)
        try:
            return self.fmz_symbol(name)
        except BridgeError:
            return None

    async def recent_trades(self, instrument: Instrument) -> list[dict[str, Any]]:
        """The exchange's latest public trades, oldest first: spot ``trades`` and
        USDⓈ-M ``aggTrades``, whose ids are those of the streams the bridge follows
        (``trade`` and ``aggTrade``)."""
        endpoint = "/aggTrades" if instrument.market == "usdsm" else "/trades"
        rows = await self._get(
            instrument.market, endpoint, {"symbol": self._raw(instrument), "limit": "100"}
        )
        found = (
            [trade_row(t) for t in rows if isinstance(t, dict)] if isinstance(rows, list) else []
        )
        return sorted(found, key=lambda t: t["time"])

    async def records(self, instrument: Instrument, period_minutes: int, limit: int) -> Any:
        """Klines, oldest first (Binance's own order), row time in seconds."""
        interval = INTERVALS.get(period_minutes)
        if interval is None:
            periods = ", ".join(str(p) for p in INTERVALS)
            raise BridgeError(
                f"period {period_minutes} is not a Binance interval; use one of {periods}"
            )
        market = instrument.market
        params = {
            "symbol": self._raw(instrument),
            "interval": interval,
            "limit": str(min(limit, MAX_KLINES[market])),
        }
        rows = await self._get(market, "/klines", params)
        if not isinstance(rows, list):
            raise BridgeError("Binance klines: unexpected reply")
        return [
            [int(row[0]) // 1000, *(number_text(v) for v in row[1:6])]
            for row in rows
            if isinstance(row, list) and len(row) >= 6
        ]

    @staticmethod
    def _ticker_row(
        symbol: FMZSymbol, day: Mapping[str, Any], bid: Any, ask: Any
    ) -> dict[str, Any]:
        return fmz_ticker(
            symbol,
            buy=bid,
            sell=ask,
            high=day.get("highPrice"),
            low=day.get("lowPrice"),
            open=day.get("openPrice"),
            last=day.get("lastPrice"),
            volume=day.get("volume"),
            time=day.get("closeTime", ""),
        )

    async def ticker(self, instrument: Instrument) -> Any:
        """Best bid and ask from the live verified book; the 24-hour figures from
        ``ticker/24hr`` (Binance streams them only on a channel the bridge does not keep)."""
        top = await self.depth(instrument, 1)
        day = await self._get(instrument.market, "/ticker/24hr", {"symbol": self._raw(instrument)})
        if not isinstance(day, dict):
            raise BridgeError("Binance ticker/24hr: unexpected reply")
        bid = top["bids"][0][0] if top["bids"] else None
        ask = top["asks"][0][0] if top["asks"] else None
        return self._ticker_row(instrument.symbol, day, bid, ask)

    async def tickers(self) -> Any:
        """Every spot and USDⓈ-M symbol the bridge maps (``ticker/24hr``; futures bid and
        ask from ``ticker/bookTicker``)."""
        rows = []
        for market in ("spot", "usdsm"):
            days = await self._get(market, "/ticker/24hr", {})
            books: dict[str, Mapping[str, Any]] = {}
            if market == "usdsm":
                tops = await self._get(market, "/ticker/bookTicker", {})
                books = {str(t.get("symbol")): t for t in tops if isinstance(t, dict)}
            for day in days if isinstance(days, list) else []:
                if not isinstance(day, dict):
                    continue
                symbol = self._symbol_of(market, day.get("symbol"))
                if symbol is None:
                    continue
                top = books.get(str(day.get("symbol")), day)
                rows.append(self._ticker_row(symbol, day, top.get("bidPrice"), top.get("askPrice")))
        return rows

    async def markets(self) -> Any:
        """Trading rules from ``exchangeInfo`` (spot, and USDⓈ-M perpetuals)."""
        markets: dict[str, Any] = {}
        for market in ("spot", "usdsm"):
            info = await self._get(market, "/exchangeInfo", {})
            for item in info.get("symbols", []) if isinstance(info, dict) else []:
                if not isinstance(item, dict) or item.get("status") != "TRADING":
                    continue
                if market == "usdsm" and item.get("contractType") != "PERPETUAL":
                    continue
                symbol = self._symbol_of(market, item.get("symbol"))
                if symbol is None:
                    continue
                filters = {
                    f.get("filterType"): f for f in item.get("filters", []) if isinstance(f, dict)
                }
                price = filters.get("PRICE_FILTER", {})
                lot = filters.get("LOT_SIZE", {})
                notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
                tick = number_text(price.get("tickSize"))
                step = number_text(lot.get("stepSize"))
                markets[str(symbol)] = fmz_market(
                    name=item.get("symbol"),
                    symbol=symbol,
                    tick=tick,
                    step=step,
                    min_qty=lot.get("minQty"),
                    max_qty=lot.get("maxQty"),
                    min_notional=notional.get("minNotional") or notional.get("notional"),
                    max_notional=notional.get("maxNotional"),
                    contract_value="1" if market == "usdsm" else "0",
                    contract_currency=symbol.base if market == "usdsm" else "",
                )
        return markets

    async def fundings(self, instrument: Instrument | None) -> Any:
        """The next funding of one perpetual (``premiumIndex``; the interval from
        ``fundingInfo``, 8 h where it lists nothing)."""
        if instrument is None or instrument.market != "usdsm":
            raise BridgeError("fundings needs a perpetual symbol such as BTC_USDT.swap")
        raw = self._raw(instrument)
        index = await self._get("usdsm", "/premiumIndex", {"symbol": raw})
        info = await self._get("usdsm", "/fundingInfo", {})
        hours = DEFAULT_FUNDING_HOURS
        for row in info if isinstance(info, list) else []:
            if isinstance(row, dict) and row.get("symbol") == raw:
                hours = int(number_text(row.get("fundingIntervalHours"), str(hours)))
        if not isinstance(index, dict):
            raise BridgeError("Binance premiumIndex: unexpected reply")
        return [
            {
                "symbol": str(instrument.symbol),
                "interval": hours * 3_600_000,
                "time": int(number_text(index.get("nextFundingTime"))),
                "rate": number_text(index.get("lastFundingRate")),
            }
        ]

    async def set_margin_level(self, instrument: Instrument | None, level: Decimal) -> Any:
        """``POST /fapi/v1/leverage`` (whole numbers only)."""
        if instrument is None or instrument.market != "usdsm":
            raise BridgeError(
                "the margin level is set per perpetual: give a symbol such as BTC_USDT.swap"
            )
        if level != level.to_integral_value():
            raise BridgeError("Binance leverage must be a whole number")
        body = {"symbol": self._raw(instrument), "leverage": decimal_text(level)}
        result = await self.client.fetch(
            "POST", REST["usdsm"] + "/fapi/v1/leverage", data=body, timeout=self.context.timeout
        )
        self._ok(json_of(result, "Binance", "POST /fapi/v1/leverage"), "leverage")
        return True
