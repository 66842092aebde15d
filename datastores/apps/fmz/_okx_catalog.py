"""The OKX methods of the FMZ bridge served by one REST call each: records, markets,
tickers, fundings, margin level and order history (OKX streams none of them in a form
the bridge keeps). A mixin of :class:`~datastores.apps.fmz.okx.OKXAdapter`.

Docs: https://www.okx.com/docs-v5/en/ (#order-book-trading-market-data-get-candlesticks,
#public-data-rest-api-get-instruments, #order-book-trading-market-data-get-tickers,
#public-data-rest-api-get-funding-rate, #trading-account-rest-api-set-leverage,
#order-book-trading-trade-get-order-history-last-7-days).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._common import fmz_market, fmz_ticker, json_of, number_text
from .adapter import AdapterContext, BridgeError, FMZSymbol, Instrument, decimal_text

if TYPE_CHECKING:
    from ..._client import Client

__all__ = ["BARS", "REST", "OKXCatalog", "okx_data", "ticker_row", "trade_row"]

REST = "https://www.okx.com"
#: FMZ record periods (minutes) -> OKX ``bar`` (daily and longer bars in UTC)
BARS: dict[int, str] = {
    1: "1m",
    3: "3m",
    5: "5m",
    15: "15m",
    30: "30m",
    60: "1H",
    120: "2H",
    240: "4H",
    360: "6Hutc",
    720: "12Hutc",
    1440: "1Dutc",
    10080: "1Wutc",
}
#: most candles one request returns (``GET /api/v5/market/candles``)
MAX_CANDLES = 300
#: most orders one ``orders-history`` request returns
MAX_HISTORY = 100


def okx_data(data: Any, what: str) -> list[Any]:
    """The ``data`` list of an OKX reply, or the exchange's own error
    (``code``/``msg``, and ``sCode``/``sMsg`` of the first item)."""
    if not isinstance(data, dict):
        raise BridgeError(f"OKX {what}: unexpected reply")
    rows = data.get("data")
    if str(data.get("code")) != "0":
        detail = ""
        if isinstance(rows, list) and rows and isinstance(rows[0], dict):
            detail = f" ({rows[0].get('sCode')} {str(rows[0].get('sMsg', ''))[:120]})"
        raise BridgeError(
            f"OKX {what} refused: {data.get('code')} {str(data.get('msg', ''))[:120]}{detail}"
        )
    return rows if isinstance(rows, list) else []


def trade_row(item: Mapping[str, Any]) -> dict[str, Any]:
    """An FMZ trade from a ``market/trades`` row or a ``trades`` push (same names:
    ``tradeId``, ``px``, ``sz``, ``side``, ``ts``)."""
    return {
        "id": str(item.get("tradeId", "")),
        "time": int(item.get("ts") or 0),
        "price": number_text(item.get("px")),
        "amount": number_text(item.get("sz")),
        "type": "buy" if item.get("side") == "buy" else "sell",
    }


def ticker_row(item: Mapping[str, Any], symbol: FMZSymbol) -> dict[str, Any]:
    """An OKX ticker (WebSocket ``tickers`` or REST) as FMZ's ticker object."""
    return fmz_ticker(
        symbol,
        buy=item.get("bidPx"),
        sell=item.get("askPx"),
        high=item.get("high24h"),
        low=item.get("low24h"),
        open=item.get("open24h"),
        last=item.get("last"),
        volume=item.get("vol24h"),
        time=item.get("ts", ""),
    )


class OKXCatalog:
    """records, tickers, markets, fundings, set_margin_level, history_orders."""

    if TYPE_CHECKING:  # provided by OKXAdapter / ExchangeAdapter
        client: Client
        context: AdapterContext
        _td_mode: str

        def fmz_symbol(self, name: str) -> FMZSymbol: ...

        def _fmz_order(self, item: Mapping[str, Any]) -> dict[str, Any]: ...

    async def _get(self, path: str, params: Mapping[str, str], what: str) -> list[Any]:
        result = await self.client.fetch(
            "GET", REST + path, params=dict(params), timeout=self.context.timeout
        )
        return okx_data(json_of(result, "OKX", f"GET {path}"), what)

    async def recent_trades(self, instrument: Instrument) -> list[dict[str, Any]]:
        """The exchange's latest public trades, oldest first (``market/trades``)."""
        rows = await self._get(
            "/api/v5/market/trades", {"instId": instrument.name, "limit": "100"}, "trades"
        )
        found = [trade_row(t) for t in rows if isinstance(t, dict)]
        # Listed newest first; trades of one match share a time, so reverse before sorting.
        return sorted(reversed(found), key=lambda t: t["time"])

    async def records(self, instrument: Instrument, period_minutes: int, limit: int) -> Any:
        """Candles from ``GET /api/v5/market/candles`` (OKX sends newest first)."""
        bar = BARS.get(period_minutes)
        if bar is None:
            periods = ", ".join(str(p) for p in BARS)
            raise BridgeError(f"period {period_minutes} is not an OKX bar; use one of {periods}")
        params = {"instId": instrument.name, "bar": bar, "limit": str(min(limit, MAX_CANDLES))}
        rows = await self._get("/api/v5/market/candles", params, "candles")
        records: list[list[Any]] = []
        for row in rows:
            if not isinstance(row, list) or len(row) < 6:
                continue
            records.append([int(row[0]) // 1000, *(number_text(v) for v in row[1:6])])
        records.sort(key=lambda r: int(r[0]))
        return records

    def _ticker_row(self, item: Mapping[str, Any]) -> dict[str, Any] | None:
        try:
            symbol = self.fmz_symbol(str(item.get("instId", "")))
        except BridgeError:
            return None
        return ticker_row(item, symbol)

    async def tickers(self) -> Any:
        """Every spot and swap ticker, from ``GET /api/v5/market/tickers``."""
        rows = []
        for kind in ("SPOT", "SWAP"):
            items = await self._get("/api/v5/market/tickers", {"instType": kind}, "tickers")
            rows += [r for r in map(self._ticker_row, items) if r is not None]
        return rows

    async def markets(self) -> Any:
        """Trading rules from ``GET /api/v5/public/instruments``, keyed by FMZ symbol."""
        markets: dict[str, Any] = {}
        for kind in ("SPOT", "SWAP"):
            items = await self._get("/api/v5/public/instruments", {"instType": kind}, "instruments")
            for item in items:
                try:
                    symbol = self.fmz_symbol(str(item.get("instId", "")))
                except BridgeError:
                    continue
                tick = number_text(item.get("tickSz"))
                lot = number_text(item.get("lotSz"))
                markets[str(symbol)] = fmz_market(
                    name=item.get("instId"),
                    symbol=symbol,
                    tick=tick,
                    step=lot,
                    min_qty=item.get("minSz"),
                    max_qty=item.get("maxLmtSz"),
                    contract_value=item.get("ctVal"),
                    contract_currency=str(item.get("ctValCcy", "")),
                )
        return markets

    async def fundings(self, instrument: Instrument | None) -> Any:
        """The current funding of one perpetual, from ``GET /api/v5/public/funding-rate``."""
        if instrument is None or instrument.market != "swap":
            raise BridgeError("fundings needs a perpetual symbol such as BTC_USDT.swap")
        params = {"instId": instrument.name}
        rows = await self._get("/api/v5/public/funding-rate", params, "funding rate")
        fundings = []
        for item in rows:
            time_ms = int(number_text(item.get("fundingTime")))
            next_ms = int(number_text(item.get("nextFundingTime")))
            fundings.append(
                {
                    "symbol": str(instrument.symbol),
                    "interval": next_ms - time_ms if next_ms > time_ms else 0,
                    "time": time_ms,
                    "rate": number_text(item.get("fundingRate")),
                }
            )
        return fundings

    async def set_margin_level(self, instrument: Instrument | None, level: Decimal) -> Any:
        """``POST /api/v5/account/set-leverage`` for one swap, in the bridge's margin mode."""
        if instrument is None or instrument.market != "swap":
            raise BridgeError(
                "the margin level is set per perpetual: give a symbol such as BTC_USDT.swap"
            )
        body = {"instId": instrument.name, "lever": decimal_text(level), "mgnMode": self._td_mode}
        result = await self.client.fetch(
            "POST", REST + "/api/v5/account/set-leverage", data=body, timeout=self.context.timeout
        )
        okx_data(json_of(result, "OKX", "POST /api/v5/account/set-leverage"), "set-leverage")
        return True

    async def history_orders(
        self, instrument: Instrument | None, since_ms: int | None, limit: int | None
    ) -> Any:
        """Finished orders of the last 7 days from ``GET /api/v5/trade/orders-history``,
        oldest first."""
        kinds = ["SPOT", "SWAP"] if instrument is None else [instrument.market.upper()]
        rows: list[dict[str, Any]] = []
        for kind in kinds:
            params = {"instType": kind, "limit": str(min(limit or MAX_HISTORY, MAX_HISTORY))}
            if instrument is not None:
                params["instId"] = instrument.name
            if since_ms:
                params["begin"] = str(since_ms)
            items = await self._get("/api/v5/trade/orders-history", params, "orders-history")
            rows += [i for i in items if isinstance(i, dict)]
        rows.sort(key=lambda i: int(number_text(i.get("cTime"))))
        return [self._fmz_order(i) for i in rows]
