"""The Binance adapter of the FMZ bridge: spot (``BTC_USDT`` = ``BTCUSDT``) and
USDⓈ-M perpetuals (``BTC_USDT.swap`` = ``BTCUSDT`` on fapi, named ``BTCUSDT.P``
inside order ids so both markets stay apart).

Market data only for now: on first use of a symbol, one WebSocket on its
diff-depth and trade streams, the book bootstrapped from the REST snapshot
and kept verified (``U``/``u``/``pu`` sequence); ``depth`` answers from it or
refuses while unsynced. ``__api_`` passes signed calls through. Private state
and order entry are not served yet (``not support``).

Docs: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams ,
https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from ..._collection import DataStoreCollection
from ..._ws.app import WebSocketApp
from ...exchanges.binance.store import BinanceSpotDataStore, BinanceUSDSMDataStore
from ._common import json_of, number_text, wait_for
from .adapter import AdapterContext, BridgeError, ExchangeAdapter, FMZSymbol, Instrument

__all__ = ["BinanceAdapter"]

logger = logging.getLogger("datastores.apps.fmz")

#: quote assets recognised when reading a Binance symbol back (longest first)
QUOTES = ("FDUSD", "USDT", "USDC", "TUSD", "BUSD", "BTC", "ETH", "BNB", "EUR", "TRY", "BRL")
PERPETUAL_SUFFIX = ".P"
MAX_FOLLOWED = 20
TRADES = 100


class _Market:
    """Where one Binance market lives."""

    def __init__(self, rest: str, ws: str, depth_path: str, trade_stream: str) -> None:
        self.rest = rest
        self.ws = ws
        self.depth_path = depth_path
        self.trade_stream = trade_stream


MARKETS: Mapping[str, _Market] = {
    "spot": _Market(
        "https://api.binance.com", "wss://stream.binance.com:9443/ws", "/api/v3/depth", "trade"
    ),
    "usdsm": _Market(
        "https://fapi.binance.com", "wss://fstream.binance.com/ws", "/fapi/v1/depth", "aggTrade"
    ),
}


class BinanceAdapter(ExchangeAdapter):
    """Binance spot and USDⓈ-M: market data and ``__api_`` (to api.binance.com,
    or fapi.binance.com for paths under ``/fapi/``)."""

    name: ClassVar[str] = "Binance"
    credential_name: ClassVar[str] = "binance"

    def __init__(self, context: AdapterContext) -> None:
        super().__init__(context)
        self.stores: dict[str, DataStoreCollection] = {
            "spot": BinanceSpotDataStore(),
            "usdsm": BinanceUSDSMDataStore(),
        }
        for store in self.stores.values():
            store.client = self.client
        self._followed: dict[str, WebSocketApp] = {}
        self._failed: dict[str, str] = {}
        self._lock = asyncio.Lock()

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

    def instrument_named(self, name: str) -> Instrument:
        perpetual = name.endswith(PERPETUAL_SUFFIX)
        pair = name[: -len(PERPETUAL_SUFFIX)] if perpetual else name
        for quote in QUOTES:
            base = pair[: -len(quote)]
            if pair.endswith(quote) and base.isalnum() and base.isupper():
                symbol = FMZSymbol(base, quote, "swap" if perpetual else "")
                return self.instrument(symbol)
        raise BridgeError(f"{name[:40]!r} is not a Binance symbol this bridge maps")

    @staticmethod
    def _raw(instrument: Instrument) -> str:
        return instrument.name.removesuffix(PERPETUAL_SUFFIX)

    # --------------------------------------------------------- market data

    async def _follow(self, instrument: Instrument) -> None:
        key = instrument.name
        async with self._lock:
            if key in self._followed:
                return
            if len(self._followed) >= MAX_FOLLOWED:
                raise BridgeError(f"this session already follows {MAX_FOLLOWED} instruments")
            market = MARKETS[instrument.market]
            store = self.stores[instrument.market]
            raw = self._raw(instrument)
            lower = raw.lower()
            url = f"{market.ws}/{lower}@depth@100ms/{lower}@{market.trade_stream}"
            self._followed[key] = await self.client.ws_connect(url, hdlr_json=store.onmessage)
            try:
                await store.initialize(
                    self.client.get(
                        market.rest + market.depth_path,
                        params={"symbol": raw, "limit": 1000},
                        timeout=self.context.timeout,
                    )
                )
            except Exception as exc:  # the exchange's refusal (unknown symbol...): say so
                self._failed[key] = str(exc)[:200]
            logger.info("fmz binance: following %s (%s)", raw, instrument.market)

    async def depth(self, instrument: Instrument, limit: int) -> Any:
        await self._follow(instrument)
        book: Any = self.stores[instrument.market].orderbook  # type: ignore[attr-defined]
        raw = self._raw(instrument)
        if instrument.name not in self._failed:
            await wait_for(lambda: book.is_synced(raw), self.context.sync_timeout)
        if not book.is_synced(raw):
            failed = self._failed.get(instrument.name)
            if failed is not None and book.status(raw).last_update_id is None:
                raise BridgeError(f"unknown symbol {instrument.symbol}: {failed}")
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

    async def trades(self, instrument: Instrument) -> Any:
        await self._follow(instrument)
        store: Any = self.stores[instrument.market].trade  # type: ignore[attr-defined]
        items = store.find({"s": self._raw(instrument)})[-TRADES:]
        return [
            {
                "id": str(t.get("t", t.get("a", ""))),
                "time": int(t.get("T") or 0),
                "price": number_text(t.get("p")),
                "amount": number_text(t.get("q")),
                # m: the buyer is the maker, so the taker sold
                "type": "sell" if t.get("m") else "buy",
            }
            for t in items
        ]

    # ------------------------------------------------------------ pass-through

    async def api(
        self, http_method: str, path: str, params: Mapping[str, Any], body: str | None
    ) -> Any:
        base = MARKETS["usdsm" if path.startswith("/fapi/") else "spot"].rest
        query = {k: str(v) for k, v in params.items()}
        result = await self.client.fetch(
            http_method, base + path, params=query, timeout=self.context.timeout
        )
        return json_of(result, "Binance", f"{http_method} {path}")
