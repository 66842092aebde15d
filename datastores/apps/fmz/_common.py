"""Pieces every adapter of the FMZ bridge shares: waiting for live state,
FMZ order shapes and status words, exchange error replies, and
:class:`PairAdapter`, the base of the adapters whose exchange names spot and
perpetual alike (Binance, Bybit, Bitget)."""

from __future__ import annotations

import abc
import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from ..._client import FetchResult
from ..._ws.app import WebSocketApp
from .adapter import (
    AdapterContext,
    BridgeError,
    ExchangeAdapter,
    FMZSymbol,
    Instrument,
    decimal_text,
)

__all__ = [
    "PairAdapter",
    "RecentOrders",
    "TradeSeed",
    "fmz_market",
    "fmz_order",
    "fmz_ticker",
    "json_of",
    "number_text",
    "pass_through",
    "step_places",
    "wait_for",
]

#: FMZ order ``status`` words (the guide's vocabulary)
PENDING = "pending"
PARTIAL = "partial-filled"
FILLED = "filled"
CANCELED = "canceled"
PARTIAL_CANCELED = "partial-canceled"

#: orders remembered after they left the exchange's open-order list
RECENT_ORDERS = 2000
#: the perpetual's mark in instrument names (``BTCUSDT.P``), to tell it from spot
PERPETUAL_SUFFIX = ".P"
#: instruments one adapter follows at most (one WebSocket each)
MAX_FOLLOWED = 20
#: trades ``trades`` answers at most
TRADES = 100

logger = logging.getLogger("datastores.apps.fmz")


async def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.01) -> bool:
    """Poll ``condition`` until it holds (``True``) or ``timeout`` seconds pass (``False``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(step)
    return True


def number_text(value: Any, default: str = "0") -> str:
    """An exchange's number (string or number) as a plain decimal string; ``default``
    for empty or unparsable values."""
    if value is None or value == "" or isinstance(value, bool):
        return default
    try:
        return decimal_text(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return default


def fmz_order(
    *,
    order_id: str,
    symbol: str,
    amount: Any,
    price: Any,
    deal_amount: Any,
    avg_price: Any,
    side: str,
    status: str,
) -> dict[str, Any]:
    """The ``order`` object FMZ reads (``{id, symbol, amount, price, deal_amount,
    avg_price, type, status}``), values as strings."""
    return {
        "id": order_id,
        "symbol": symbol,
        "amount": number_text(amount),
        "price": number_text(price),
        "deal_amount": number_text(deal_amount),
        "avg_price": number_text(avg_price),
        "type": side,
        "status": status,
    }


def fmz_ticker(
    symbol: FMZSymbol,
    *,
    buy: Any,
    sell: Any,
    high: Any,
    low: Any,
    open: Any,
    last: Any,
    volume: Any,
    time: Any,
) -> dict[str, Any]:
    """The ``ticker`` object FMZ reads (``{symbol, buy, sell, high, low, open, last,
    vol, time}``): numbers as decimal strings, ``time`` (milliseconds) as text."""
    return {
        "symbol": str(symbol),
        "buy": number_text(buy),
        "sell": number_text(sell),
        "high": number_text(high),
        "low": number_text(low),
        "open": number_text(open),
        "last": number_text(last),
        "vol": number_text(volume),
        "time": str(time),
    }


def step_places(step: Any) -> int:
    """Decimal places of a step (``"0.00100000"`` -> 3)."""
    text = number_text(step)
    return len(text.partition(".")[2]) if "." in text else 0


def fmz_market(
    *,
    name: Any,
    symbol: FMZSymbol,
    tick: str,
    step: str,
    min_qty: Any,
    max_qty: Any,
    min_notional: Any = None,
    max_notional: Any = None,
    contract_value: Any = None,
    contract_currency: str = "",
    price_precision: int | None = None,
    amount_precision: int | None = None,
) -> dict[str, Any]:
    """One entry of FMZ's ``markets`` (keyed by ``str(symbol)``): ``name`` is the
    exchange's symbol, ``tick``/``step`` decimal strings whose places are the
    precisions unless given; the other numbers are the exchange's, ``"0"`` where
    it has none (``ct_val`` too, for spot)."""
    return {
        "symbol": name,
        "base_asset": symbol.base,
        "quote_asset": symbol.quote,
        "tick_size": tick,
        "amount_size": step,
        "price_precision": step_places(tick) if price_precision is None else price_precision,
        "amount_precision": step_places(step) if amount_precision is None else amount_precision,
        "min_qty": number_text(min_qty),
        "max_qty": number_text(max_qty),
        "min_notional": number_text(min_notional),
        "max_notional": number_text(max_notional),
        "ct_val": number_text(contract_value),
        "ct_val_ccy": contract_currency,
    }


def finished_status(filled: Any) -> str:
    """``canceled`` or ``partial-canceled`` by the filled amount."""
    return PARTIAL_CANCELED if number_text(filled) != "0" else CANCELED


class RecentOrders:
    """The latest state of orders seen on the private stream or placed by the
    bridge, by exchange order id (bounded; the oldest are forgotten)."""

    def __init__(self, size: int = RECENT_ORDERS) -> None:
        self._items: OrderedDict[str, Mapping[str, Any]] = OrderedDict()
        self._size = size

    def put(self, order_id: str, item: Mapping[str, Any]) -> None:
        """Remember ``item`` as the latest state of ``order_id``."""
        self._items[order_id] = item
        self._items.move_to_end(order_id)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def get(self, order_id: str) -> Mapping[str, Any] | None:
        """The latest state remembered, or ``None``."""
        return self._items.get(order_id)

    def values(self) -> list[Mapping[str, Any]]:
        """Every remembered order, oldest first."""
        return list(self._items.values())


def json_of(result: FetchResult, exchange: str, endpoint: str) -> Any:
    """The decoded JSON of a REST response, or a :class:`BridgeError` naming the
    exchange, endpoint and status (never the request)."""
    if not result.data and not isinstance(result.data, (list, dict)):
        raise BridgeError(
            f"{exchange} {endpoint}: HTTP {result.response.status}, the reply is not JSON"
        )
    return result.data


async def pass_through(
    adapter: ExchangeAdapter,
    url: str,
    http_method: str,
    params: Mapping[str, Any],
    *,
    in_body: bool,
    exchange: str,
    path: str,
) -> Any:
    """``__api_``: send ``params`` (values as text) to ``url`` in the query, or in
    the body where ``in_body`` (as the exchange takes them for ``http_method``);
    the decoded JSON reply, whatever it says."""
    query = {k: str(v) for k, v in params.items()}
    result = await adapter.client.fetch(
        http_method,
        url,
        params=None if in_body else query,
        data=query if in_body else None,
        timeout=adapter.context.timeout,
    )
    return json_of(result, exchange, f"{http_method} {path}")


class TradeSeed:
    """The REST recent trades each instrument's ``trades`` starts from.

    A trade stream only carries trades made after the subscription, so the first
    ``trades`` of a symbol would be empty: the adapter fetches the exchange's
    recent trades once per instrument (after subscribing, so nothing falls between
    the two) and merges them with what the stream pushed, by trade id.
    """

    def __init__(self) -> None:
        self._seeds: dict[str, list[dict[str, Any]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def merged(
        self,
        key: str,
        fetch: Callable[[], Any],
        streamed: list[dict[str, Any]],
        limit: int,
        logger: Any,
    ) -> list[dict[str, Any]]:
        """The last ``limit`` trades of REST's seed (``await fetch()`` on first use)
        and ``streamed``, oldest first, each id once. A failed fetch is logged and
        not retried: the stream alone serves the symbol from then on."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._seeds:
                try:
                    self._seeds[key] = list(await fetch())
                except Exception as exc:  # the stream still serves what it pushes
                    logger.warning(
                        "fmz: recent trades of %s unavailable (%s); serving streamed trades",
                        key,
                        type(exc).__name__,
                    )
                    self._seeds[key] = []
        rows: dict[str, dict[str, Any]] = {}
        for row in (*self._seeds[key], *streamed):
            rows[row["id"]] = row
        return sorted(rows.values(), key=lambda t: int(t["time"]))[-limit:]


class PairAdapter(ExchangeAdapter):
    """The base of the adapters whose exchange names spot and the perpetual alike
    (``BTCUSDT``): the bridge names the perpetual ``BTCUSDT.P`` (in order ids too).

    It holds what those adapters do the same way: reading an instrument name back
    (:attr:`quotes`), following an instrument (one public WebSocket each, at most
    :data:`MAX_FOLLOWED`), ``trades`` (REST seed, then the stream), and the private
    streams, each started once and its stores bootstrapped again after a reconnect.
    The subclass says how: :meth:`_open_public`, :meth:`_streamed_trades`,
    :meth:`_open_private`, :meth:`_load_private`, and ``recent_trades``.
    """

    #: the exchange in error messages (``"Bybit"``; the same on every route)
    exchange: ClassVar[str]
    #: quote coins recognised when reading a symbol back (a longer one first)
    quotes: ClassVar[tuple[str, ...]]

    def __init__(self, context: AdapterContext) -> None:
        super().__init__(context)
        self._followed: dict[str, WebSocketApp] = {}
        self._lock = asyncio.Lock()
        #: per private stream (a market, or ``"private"``): its lock, app, and its
        #: reconnect count when its stores were last loaded
        self._private_locks: dict[str, asyncio.Lock] = {}
        self._private_apps: dict[str, WebSocketApp] = {}
        self._loaded_at: dict[str, int] = {}
        self._recent = RecentOrders()
        self._trade_seed = TradeSeed()

    # ------------------------------------------------------------- symbols

    def instrument_named(self, name: str) -> Instrument:
        perpetual = name.endswith(PERPETUAL_SUFFIX)
        pair = name.removesuffix(PERPETUAL_SUFFIX)
        for quote in self.quotes:
            base = pair[: -len(quote)]
            if pair.endswith(quote) and base.isalnum() and base.isupper():
                return self.instrument(FMZSymbol(base, quote, "swap" if perpetual else ""))
        raise BridgeError(f"{name[:40]!r} is not a {self.exchange} symbol this bridge maps")

    @staticmethod
    def _raw(instrument: Instrument) -> str:
        """The exchange's symbol (``BTCUSDT``), the same for spot and the perpetual."""
        return instrument.name.removesuffix(PERPETUAL_SUFFIX)

    # --------------------------------------------------------- market data

    @abc.abstractmethod
    async def _open_public(self, instrument: Instrument) -> WebSocketApp:
        """Connect the public WebSocket of ``instrument`` (book, trades...)."""

    async def _opened_public(self, instrument: Instrument) -> None:
        """After :meth:`_open_public` (under the same lock): load what the stream
        needs (a book snapshot...). Nothing by default."""

    async def _follow(self, instrument: Instrument) -> None:
        async with self._lock:
            if instrument.name in self._followed:
                return
            if len(self._followed) >= MAX_FOLLOWED:
                raise BridgeError(f"this session already follows {MAX_FOLLOWED} instruments")
            self._followed[instrument.name] = await self._open_public(instrument)
            await self._opened_public(instrument)
            logger.info(
                "fmz %s: following %s (%s)",
                self.credential_name,
                self._raw(instrument),
                instrument.market,
            )

    @abc.abstractmethod
    def _streamed_trades(self, instrument: Instrument) -> list[dict[str, Any]]:
        """The last :data:`TRADES` trades the stream pushed, as FMZ trade rows."""

    @abc.abstractmethod
    async def recent_trades(self, instrument: Instrument) -> list[dict[str, Any]]:
        """The exchange's REST recent trades, as FMZ trade rows."""

    async def trades(self, instrument: Instrument) -> Any:
        """The REST recent trades, then what the trade stream pushed since."""
        await self._follow(instrument)
        return await self._trade_seed.merged(
            instrument.name,
            lambda: self.recent_trades(instrument),
            self._streamed_trades(instrument),
            TRADES,
            logger,
        )

    # ------------------------------------------------------- private state

    @abc.abstractmethod
    async def _open_private(self, key: str) -> WebSocketApp:
        """Connect the private stream ``key``."""

    @abc.abstractmethod
    async def _load_private(self, key: str) -> None:
        """Load the stores of the private stream ``key`` in full (REST)."""

    async def _private_state(self, key: str = "private") -> None:
        """Start the private stream ``key`` and bootstrap its stores (once, and again
        after the stream reconnected: private streams have no sequence to replay)."""
        app = self._private_apps.get(key)
        if app is not None and app.statistics().reconnects == self._loaded_at.get(key, 0):
            return
        async with self._private_locks.setdefault(key, asyncio.Lock()):
            app = self._private_apps.get(key)
            if app is not None:
                if app.statistics().reconnects != self._loaded_at.get(key, 0):
                    self._loaded_at[key] = app.statistics().reconnects
                    await self._load_private(key)
                return
            app = await self._open_private(key)
            try:
                self._loaded_at[key] = app.statistics().reconnects
                await self._load_private(key)
            except BaseException:
                await app.close()  # the next call starts over
                raise
            self._private_apps[key] = app

    async def assets(self) -> Any:
        return await self.accounts()
