"""The Bybit methods of the FMZ bridge that are not order entry or private state:
the ticker (from the live ``tickers`` stream and the verified book), and, by REST
on each call, records, tickers, markets, fundings, margin level and the recent
trades that ``trades`` starts from. A mixin of
:class:`~datastores.apps.fmz.bybit.BybitAdapter`.

Docs: https://bybit-exchange.github.io/docs/v5/market/kline ,
https://bybit-exchange.github.io/docs/v5/market/tickers ,
https://bybit-exchange.github.io/docs/v5/market/instrument ,
https://bybit-exchange.github.io/docs/v5/market/recent-trade ,
https://bybit-exchange.github.io/docs/v5/position/leverage ,
https://bybit-exchange.github.io/docs/v5/websocket/public/ticker
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._common import fmz_market, fmz_ticker, json_of, number_text, wait_for
from .adapter import AdapterContext, BridgeError, FMZSymbol, Instrument, decimal_text

if TYPE_CHECKING:
    from ..._client import Client
    from ...exchanges.bybit.store import BybitDataStore

__all__ = ["INTERVALS", "REST", "BybitCatalog", "trade_row"]

REST = "https://api.bybit.com"
#: FMZ record periods (minutes) -> Bybit kline ``interval``
INTERVALS: dict[int, str] = {
    1: "1",
    3: "3",
    5: "5",
    15: "15",
    30: "30",
    60: "60",
    120: "120",
    240: "240",
    360: "360",
    720: "720",
    1440: "D",
    10080: "W",
}
#: most klines one request returns
MAX_KLINES = 1000
#: recent trades ``trades`` starts from (spot allows 60, linear 1000)
RECENT_TRADES = {"spot": 60, "linear": 100}
#: Bybit's answer when the leverage asked for is the one already set
_NOT_MODIFIED = 110043
#: pages of instruments-info read at most (1000 instruments each)
_MAX_PAGES = 10


def trade_row(item: Mapping[str, Any]) -> dict[str, Any]:
    """An FMZ trade from a ``recent-trade`` row (``execId``, ``price``, ``size``,
    ``side``, ``time``) or a ``publicTrade`` push (``i``, ``p``, ``v``, ``S``, ``T``)."""
    return {
        "id": str(item.get("execId", item.get("i", ""))),
        "time": int(item.get("time", item.get("T")) or 0),
        "price": number_text(item.get("price", item.get("p"))),
        "amount": number_text(item.get("size", item.get("v"))),
        "type": "buy" if item.get("side", item.get("S")) == "Buy" else "sell",
    }


class BybitCatalog:
    """ticker, records, tickers, markets, fundings, set_margin_level, recent trades."""

    if TYPE_CHECKING:  # provided by BybitAdapter / ExchangeAdapter
        client: Client
        context: AdapterContext
        public: dict[str, BybitDataStore]

        def fmz_symbol(self, name: str) -> FMZSymbol: ...

        @staticmethod
        def _raw(instrument: Instrument) -> str: ...

        @staticmethod
        def _result(data: Any, what: str) -> Mapping[str, Any]: ...

        async def _follow(self, instrument: Instrument) -> None: ...

        async def depth(self, instrument: Instrument, limit: int) -> Any: ...

    async def _get(self, path: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        result = await self.client.fetch(
            "GET", REST + path, params=dict(params), timeout=self.context.timeout
        )
        return self._result(json_of(result, "Bybit", f"GET {path}"), path.rpartition("/")[2])

    def _symbol_of(self, category: str, raw: Any) -> FMZSymbol | None:
        name = f"{raw}.P" if category == "linear" else str(raw)
        try:
            return self.fmz_symbol(name)
        except BridgeError:
            return None

    async def recent_trades(self, instrument: Instrument) -> list[dict[str, Any]]:
        """The exchange's latest public trades, oldest first (``recent-trade``)."""
        category = instrument.market
        found = await self._get(
            "/v5/market/recent-trade",
            {
                "category": category,
                "symbol": self._raw(instrument),
                "limit": str(RECENT_TRADES[category]),
            },
        )
        rows = [trade_row(t) for t in found.get("list") or () if isinstance(t, dict)]
        # Listed newest first; trades of one match share a time, so reverse before sorting.
        return sorted(reversed(rows), key=lambda t: t["time"])

    async def records(self, instrument: Instrument, period_minutes: int, limit: int) -> Any:
        """Klines, oldest first (Bybit lists them newest first), row time in seconds."""
        interval = INTERVALS.get(period_minutes)
        if interval is None:
            periods = ", ".join(str(p) for p in INTERVALS)
            raise BridgeError(
                f"period {period_minutes} is not a Bybit interval; use one of {periods}"
            )
        found = await self._get(
            "/v5/market/kline",
            {
                "category": instrument.market,
                "symbol": self._raw(instrument),
                "interval": interval,
                "limit": str(min(limit, MAX_KLINES)),
            },
        )
        rows = [r for r in found.get("list") or () if isinstance(r, list) and len(r) >= 6]
        rows.sort(key=lambda r: int(r[0]))
        return [[int(r[0]) // 1000, *(number_text(v) for v in r[1:6])] for r in rows]

    @staticmethod
    def _ticker_row(
        symbol: FMZSymbol, day: Mapping[str, Any], bid: Any, ask: Any, time_ms: Any
    ) -> dict[str, Any]:
        return fmz_ticker(
            symbol,
            buy=bid,
            sell=ask,
            high=day.get("highPrice24h"),
            low=day.get("lowPrice24h"),
            open=day.get("prevPrice24h"),
            last=day.get("lastPrice"),
            volume=day.get("volume24h"),
            time=time_ms,
        )

    async def ticker(self, instrument: Instrument) -> Any:
        """Best bid and ask from the live verified book, the 24-hour figures from the
        live ``tickers.<symbol>`` stream (subscribed with the book)."""
        top = await self.depth(instrument, 1)
        store = self.public[instrument.market].ticker
        raw = self._raw(instrument)
        await wait_for(lambda: store.get({"symbol": raw}) is not None, self.context.sync_timeout)
        day = store.get({"symbol": raw})
        if day is None:
            raise BridgeError(f"no ticker for {instrument.symbol} yet (subscribed, none pushed)")
        bid = top["bids"][0][0] if top["bids"] else None
        ask = top["asks"][0][0] if top["asks"] else None
        return self._ticker_row(instrument.symbol, day, bid, ask, top["time"])

    async def tickers(self) -> Any:
        """Every spot and linear symbol the bridge maps (``/v5/market/tickers``)."""
        rows = []
        for category in ("spot", "linear"):
            result = await self.client.fetch(
                "GET",
                REST + "/v5/market/tickers",
                params={"category": category},
                timeout=self.context.timeout,
            )
            data = json_of(result, "Bybit", "GET /v5/market/tickers")
            found = self._result(data, "tickers")
            time_ms = data.get("time", "") if isinstance(data, dict) else ""
            for day in found.get("list") or ():
                if not isinstance(day, dict):
                    continue
                symbol = self._symbol_of(category, day.get("symbol"))
                if symbol is not None:
                    bid, ask = day.get("bid1Price"), day.get("ask1Price")
                    rows.append(self._ticker_row(symbol, day, bid, ask, time_ms))
        return rows

    async def _instruments(self, category: str, symbol: str | None = None) -> list[Any]:
        """``instruments-info`` of a category, every page (or of one symbol)."""
        params = {"category": category, "limit": "1000"}
        if symbol is not None:
            params["symbol"] = symbol
        items: list[Any] = []
        for _ in range(_MAX_PAGES):
            found = await self._get("/v5/market/instruments-info", params)
            items += found.get("list") or []
            cursor = found.get("nextPageCursor")
            if not cursor or symbol is not None:
                break
            params["cursor"] = str(cursor)
        return items

    async def markets(self) -> Any:
        """Trading rules from ``instruments-info`` (spot, and linear perpetuals)."""
        markets: dict[str, Any] = {}
        for category in ("spot", "linear"):
            for item in await self._instruments(category):
                if not isinstance(item, dict) or item.get("status") != "Trading":
                    continue
                if category == "linear" and item.get("contractType") != "LinearPerpetual":
                    continue
                symbol = self._symbol_of(category, item.get("symbol"))
                if symbol is None:
                    continue
                lot = item.get("lotSizeFilter") or {}
                tick = number_text((item.get("priceFilter") or {}).get("tickSize"))
                # Spot steps by basePrecision, linear by qtyStep.
                step = number_text(lot.get("qtyStep", lot.get("basePrecision")))
                linear = category == "linear"
                markets[str(symbol)] = fmz_market(
                    name=item.get("symbol"),
                    symbol=symbol,
                    tick=tick,
                    step=step,
                    min_qty=lot.get("minOrderQty"),
                    max_qty=lot.get("maxOrderQty"),
                    min_notional=lot.get("minNotionalValue", lot.get("minOrderAmt")),
                    max_notional=lot.get("maxOrderAmt"),
                    contract_value="1" if linear else "0",
                    contract_currency=symbol.base if linear else "",
                )
        return markets

    async def fundings(self, instrument: Instrument | None) -> Any:
        """The next funding of one perpetual (rate and time from ``tickers``, the
        interval from ``instruments-info``'s ``fundingInterval`` in minutes)."""
        if instrument is None or instrument.market != "linear":
            raise BridgeError("fundings needs a perpetual symbol such as BTC_USDT.swap")
        raw = self._raw(instrument)
        found = await self._get("/v5/market/tickers", {"category": "linear", "symbol": raw})
        listed = [t for t in found.get("list") or () if isinstance(t, dict)]
        if not listed:
            raise BridgeError(f"Bybit lists no ticker for {raw}")
        info = [i for i in await self._instruments("linear", raw) if isinstance(i, dict)]
        minutes = int(number_text(info[0].get("fundingInterval") if info else None, "480"))
        return [
            {
                "symbol": str(instrument.symbol),
                "interval": minutes * 60_000,
                "time": int(number_text(listed[0].get("nextFundingTime"))),
                "rate": number_text(listed[0].get("fundingRate")),
            }
        ]

    async def set_margin_level(self, instrument: Instrument | None, level: Decimal) -> Any:
        """``POST /v5/position/set-leverage``, both sides (Bybit's "leverage not
        modified" when it is already set counts as done)."""
        if instrument is None or instrument.market != "linear":
            raise BridgeError(
                "the margin level is set per perpetual: give a symbol such as BTC_USDT.swap"
            )
        leverage = decimal_text(level)
        body = {
            "category": "linear",
            "symbol": self._raw(instrument),
            "buyLeverage": leverage,
            "sellLeverage": leverage,
        }
        result = await self.client.fetch(
            "POST",
            REST + "/v5/position/set-leverage",
            data=body,
            timeout=self.context.timeout,
        )
        data = json_of(result, "Bybit", "POST /v5/position/set-leverage")
        if not (isinstance(data, dict) and data.get("retCode") == _NOT_MODIFIED):
            self._result(data, "set-leverage")
        return True
