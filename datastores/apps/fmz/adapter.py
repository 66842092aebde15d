"""The interface every exchange adapter of the FMZ bridge implements.

The bridge (:mod:`datastores.apps.fmz.server`) parses and validates what the
FMZ agent sends, then calls one method of an :class:`ExchangeAdapter` with
typed arguments: an :class:`Instrument` (already mapped from the FMZ symbol),
an :class:`OrderRequest` with :class:`~decimal.Decimal` price and amount, an
:class:`OrderId`... The adapter answers with the ``data`` of the reply (plain
JSON values) or raises :class:`BridgeError`; it never sees the raw request and
never builds the envelope.

An adapter instance belongs to one key pair (one :class:`APIKeys`): it gets
its own :class:`datastores.Client` through the :class:`AdapterContext` and
keeps its own public and private stores and WebSocket streams, so nothing
leaks from one key pair to another. Market data comes from live stores
(subscribed on first use), private state from private stores bootstrapped by
``initialize()``, orders go through the signed ``Client``.

A method the adapter does not override answers ``{"error": "not support:
<method>"}``: :meth:`ExchangeAdapter.supported_methods` lists the ones it does.
Shapes of ``data`` (from ``docs/fmz.md`` and the FMZ guide,
https://www.fmz.com/digest-topic/10527):

=============== =============================================================
method          ``data``
=============== =============================================================
ticker          ``{symbol, buy, sell, high, low, open, last, vol, time}``
depth           ``{time, asks: [[price, amount]...], bids: [[price, amount]...]}``
trades          ``[{id, time, price, amount, type}]``
records         ``[[time_s, open, high, low, close, volume]]`` oldest first
accounts/assets ``[{currency, free, frozen}]``
trade           ``{id}``
cancel          ``true``
order           ``{id, symbol, amount, price, deal_amount, avg_price, type, status}``
orders          a list of those (open orders)
historyorders   a list of those (finished orders)
positions       ``[{symbol, margin_level, amount, frozen_amount, price, profit,
                type, contract_type, margin}]`` (``type`` 0 long, 1 short)
marginlevel     ``true``
fundings        ``[{symbol, interval, time, rate}]``
markets         ``{fmz_symbol: {symbol, base_asset, quote_asset, ...}}``
tickers         a list of ticker objects
=============== =============================================================

Prices and amounts in ``data`` are strings (decimal, no exponent), times in
milliseconds unless said otherwise.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from aiohttp import ClientTimeout

    from ..._client import Client

__all__ = [
    "METHODS",
    "APIKeys",
    "AdapterContext",
    "BridgeError",
    "ExchangeAdapter",
    "FMZSymbol",
    "Instrument",
    "NotSupported",
    "OrderId",
    "OrderRequest",
    "OrderSide",
    "PositionSelector",
    "decimal_text",
]

#: Canonical method names, in the order of the FMZ guide's table. ``api`` is the
#: ``__api_<path>`` pass-through.
METHODS: tuple[str, ...] = (
    "ticker",
    "depth",
    "trades",
    "records",
    "accounts",
    "assets",
    "trade",
    "cancel",
    "order",
    "orders",
    "historyorders",
    "positions",
    "marginlevel",
    "fundings",
    "markets",
    "tickers",
    "api",
)

#: Python method of :class:`ExchangeAdapter` for each canonical name that differs.
ADAPTER_METHOD: Mapping[str, str] = {
    "historyorders": "history_orders",
    "marginlevel": "set_margin_level",
}

OrderSide = Literal["buy", "sell", "closebuy", "closesell"]


class BridgeError(Exception):
    """A failure the agent is told about as ``{"error": str(exc)}``.

    The message must name what went wrong and never contain a secret, a
    passphrase, a signature or the request body.
    """


class NotSupported(BridgeError):
    """The method is not implemented for this exchange (``not support: <method>``)."""

    def __init__(self, method: str) -> None:
        super().__init__(f"not support: {method}")
        self.method = method


def decimal_text(value: Decimal | str | int) -> str:
    """A decimal as a plain string without exponent (``"0.00001"``, ``"12"``)."""
    number = value if isinstance(value, Decimal) else Decimal(value)
    if number == 0:
        return "0"
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


@dataclass(frozen=True, slots=True)
class FMZSymbol:
    """An FMZ symbol: ``BTC_USDT`` (spot), ``BTC_USDT.swap`` (perpetual),
    ``BTC_USDT.quarter``...

    Attributes:
        base, quote: upper-case assets.
        contract: ``""`` for spot, else FMZ's contract code (``swap``,
            ``this_week``, ``next_week``, ``quarter``, ``next_quarter``) or an
            exchange's option code, as given.
    """

    base: str
    quote: str
    contract: str = ""

    @property
    def is_spot(self) -> bool:
        """No contract part."""
        return not self.contract

    def __str__(self) -> str:
        pair = f"{self.base}_{self.quote}"
        return f"{pair}.{self.contract}" if self.contract else pair

    @classmethod
    def parse(cls, text: str) -> FMZSymbol:
        """``"btc_usdt.swap"`` -> ``FMZSymbol("BTC", "USDT", "swap")``.

        Case of the pair is normalised (the guide's ``trades`` example sends
        ``eth_usdt``); the contract code is lower-cased except option codes.

        Raises:
            BridgeError: not ``BASE_QUOTE[.contract]``.
        """
        pair, dot, contract = text.strip().partition(".")
        base, underscore, quote = pair.partition("_")
        valid = (
            underscore
            and base.isalnum()
            and quote.isalnum()
            and (not dot or contract)
            and len(text) <= 64
        )
        if not valid:
            raise BridgeError(
                f"invalid symbol {text[:64]!r}: expected BASE_QUOTE or BASE_QUOTE.contract "
                "(e.g. BTC_USDT, BTC_USDT.swap)"
            )
        if contract.lower() in ("swap", "this_week", "next_week", "quarter", "next_quarter"):
            contract = contract.lower()
        return cls(base.upper(), quote.upper(), contract)


@dataclass(frozen=True, slots=True)
class Instrument:
    """An FMZ symbol mapped to one exchange instrument.

    Attributes:
        symbol: the FMZ form.
        name: the exchange's instrument name (``BTC-USDT-SWAP``, ``BTCUSDT``).
        market: the adapter's own market kind (``"spot"``, ``"swap"``,
            ``"usdsm"``...), which picks the stores, streams and endpoints.
    """

    symbol: FMZSymbol
    name: str
    market: str

    @property
    def is_spot(self) -> bool:
        """A spot instrument."""
        return self.symbol.is_spot


@dataclass(frozen=True, slots=True)
class OrderId:
    """An order id as given to the agent: ``"<instrument>,<exchange order id>"``
    (``"BTC-USDT-SWAP,1547130415509278720"``), opaque to FMZ, so ``order`` and
    ``cancel`` work without a symbol."""

    instrument: str
    order_id: str

    def __str__(self) -> str:
        return f"{self.instrument},{self.order_id}"

    @classmethod
    def parse(cls, text: str) -> OrderId:
        """The inverse of ``str()``.

        Raises:
            BridgeError: not ``instrument,order id``.
        """
        instrument, comma, order_id = text.partition(",")
        if not comma or not instrument or not order_id or len(text) > 128 or "," in order_id:
            raise BridgeError(
                f"invalid order id {text[:128]!r}: expected the id returned by 'trade' "
                "(instrument,order id)"
            )
        return cls(instrument, order_id)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order to place.

    Attributes:
        instrument: where.
        side: ``buy``/``sell`` (spot, or open long/short for futures),
            ``closebuy`` (close a long: sell), ``closesell`` (close a short: buy).
        amount: base units for spot; contracts for futures (as FMZ counts them).
        price: limit price, or ``None`` for a market order (FMZ sends ``-1``).
    """

    instrument: Instrument
    side: OrderSide
    amount: Decimal
    price: Decimal | None

    @property
    def is_buy(self) -> bool:
        """The exchange-side direction: ``buy`` and ``closesell`` buy."""
        return self.side in ("buy", "closesell")

    @property
    def reduce_only(self) -> bool:
        """``closebuy``/``closesell``: the order may only reduce a position."""
        return self.side in ("closebuy", "closesell")


@dataclass(frozen=True, slots=True)
class PositionSelector:
    """Which positions ``positions`` asks for: one symbol (``BTC_USDT.swap``), a
    range (``USDT.swap``: every USDT-margined perpetual; ``USDT.futures``: every
    USDT-margined dated future), or everything (``None``/empty)."""

    symbol: FMZSymbol | None = None
    quote: str | None = None
    contract: str | None = None

    def matches(self, symbol: FMZSymbol) -> bool:
        """Whether a position on ``symbol`` is asked for."""
        if self.symbol is not None:
            return symbol == self.symbol
        if self.quote is not None and symbol.quote != self.quote:
            return False
        if self.contract == "swap":
            return symbol.contract == "swap"
        if self.contract == "futures":
            return symbol.contract not in ("", "swap")
        return not symbol.is_spot


@dataclass(frozen=True, repr=False, slots=True)
class APIKeys:
    """One key pair as the agent sends it, with the passphrase unpacked.

    FMZ's form has only Access Key and Secret Key, so exchanges whose keys
    have a passphrase (OKX, Bitget...) take ``secret_key = "<secret>,<passphrase>"``.
    The passphrase is everything after the **last** comma, so a passphrase
    cannot hold a comma (a secret can). ``repr()`` shows neither secret nor
    passphrase.
    """

    access_key: str
    secret: str
    passphrase: str | None = None

    def __repr__(self) -> str:
        shown = self.access_key[:4] + "…" if len(self.access_key) > 8 else "…"
        return f"APIKeys(access_key={shown!r}, secret=<hidden>, passphrase=<hidden>)"

    @classmethod
    def from_fmz(cls, access_key: str, secret_key: str, *, passphrase: bool) -> APIKeys:
        """Split ``secret_key`` when the exchange needs a passphrase.

        Raises:
            BridgeError: empty key or secret, or no passphrase packed when needed
                (the message never shows either string).
        """
        if not access_key or not secret_key:
            raise BridgeError("access_key and secret_key must not be empty")
        if not passphrase:
            return cls(access_key, secret_key)
        secret, comma, packed = secret_key.rpartition(",")
        if not comma or not secret or not packed:
            raise BridgeError(
                "this exchange's keys have a passphrase: enter the Secret Key on FMZ as "
                "'<secret>,<passphrase>'"
            )
        return cls(access_key, secret, packed)

    def as_api_entry(self) -> list[str]:
        """The list ``Client(apis={name: [...]})`` takes."""
        entry = [self.access_key, self.secret]
        if self.passphrase is not None:
            entry.append(self.passphrase)
        return entry


@dataclass(frozen=True, slots=True)
class AdapterContext:
    """What an adapter gets from the bridge.

    Attributes:
        client: a :class:`datastores.Client` signed with this key pair only
            (closed by the bridge after :meth:`ExchangeAdapter.aclose`).
        keys: the key pair (for the adapter's own checks; the client signs).
        sync_timeout: seconds to wait for a book's first sync on first use
            before answering that it is not synced.
        request_timeout: seconds each REST request may take.
        allow_unsafe_api: let ``__api_`` reach withdrawal and transfer endpoints.
        options: adapter-specific settings (``{"rest_url": ...}``...).
    """

    client: Client
    keys: APIKeys
    sync_timeout: float = 5.0
    request_timeout: float = 10.0
    allow_unsafe_api: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def timeout(self) -> ClientTimeout:
        """The per-request ``aiohttp.ClientTimeout``."""
        from aiohttp import ClientTimeout

        return ClientTimeout(total=self.request_timeout)


class ExchangeAdapter(abc.ABC):
    """One exchange, for one key pair. Subclass it once per exchange.

    Class attributes:
        name: the exchange's name on the bridge's routes (``"OKX"``), matched
            without regard to case: ``POST /OKX``.
        credential_name: the ``Client(apis=...)`` name (``"okx"``).
        passphrase: the exchange's keys have a passphrase (packed in the secret).
        api_prefixes: the path prefixes ``__api_`` may reach without
            ``allow_unsafe_api`` (market data, trading and account endpoints, never
            the wallet's); withdrawal and transfer paths are refused even inside them.

    Symbol mapping (both ways, futures included) is :meth:`instrument` and
    :meth:`fmz_symbol`. Every other method maps to one FMZ method and raises
    :class:`NotSupported` unless overridden. Methods are called concurrently
    (the agent issues calls in parallel); an adapter serialises what must be.
    """

    name: ClassVar[str]
    credential_name: ClassVar[str]
    passphrase: ClassVar[bool] = False
    #: the allow-list of ``__api_`` paths (prefixes); empty: any path but the unsafe ones
    api_prefixes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, context: AdapterContext) -> None:
        self.context = context
        self.client = context.client

    @classmethod
    def supported_methods(cls) -> frozenset[str]:
        """Canonical names (:data:`METHODS`) this adapter implements."""
        names = set()
        for method in METHODS:
            attribute = ADAPTER_METHOD.get(method, method)
            if getattr(cls, attribute) is not getattr(ExchangeAdapter, attribute):
                names.add(method)
        return frozenset(names)

    # ------------------------------------------------------------- symbols

    @abc.abstractmethod
    def instrument(self, symbol: FMZSymbol) -> Instrument:
        """Map an FMZ symbol to this exchange's instrument.

        Raises:
            BridgeError: the exchange has no such instrument kind (an unknown
                contract code, an unsupported quote...).
        """

    @abc.abstractmethod
    def instrument_named(self, name: str) -> Instrument:
        """Map an exchange instrument name (as embedded in an :class:`OrderId`)
        back to an :class:`Instrument` (FMZ symbol included).

        Raises:
            BridgeError: not an instrument name of this exchange.
        """

    def fmz_symbol(self, name: str) -> FMZSymbol:
        """The FMZ symbol of an exchange instrument name."""
        return self.instrument_named(name).symbol

    def symbol_text(self, name: str) -> str:
        """The FMZ symbol of ``name`` as text, or ``name`` itself where the bridge does
        not map it (an order the exchange lists on an instrument the bridge does not trade)."""
        try:
            return str(self.fmz_symbol(name))
        except BridgeError:
            return name

    # --------------------------------------------------------- market data

    async def ticker(self, instrument: Instrument) -> Any:
        """``GetTicker``: from the live ticker and book stores."""
        raise NotSupported("ticker")

    async def depth(self, instrument: Instrument, limit: int) -> Any:
        """``GetDepth``: the best ``limit`` levels per side of the verified book.

        Raises:
            BridgeError: the book is not synced (the message says why).
        """
        raise NotSupported("depth")

    async def trades(self, instrument: Instrument) -> Any:
        """``GetTrades``: recent public trades, oldest first."""
        raise NotSupported("trades")

    async def records(self, instrument: Instrument, period_minutes: int, limit: int) -> Any:
        """``GetRecords``: candles of ``period_minutes``, oldest first, row time in seconds."""
        raise NotSupported("records")

    async def markets(self) -> Any:
        """``GetMarkets``: every instrument's trading rules, keyed by FMZ symbol."""
        raise NotSupported("markets")

    async def tickers(self) -> Any:
        """``GetTickers``: tickers of every instrument."""
        raise NotSupported("tickers")

    async def fundings(self, instrument: Instrument | None) -> Any:
        """``GetFundings``: funding of one perpetual (or of those followed)."""
        raise NotSupported("fundings")

    # ------------------------------------------------------- private state

    async def accounts(self) -> Any:
        """``GetAccount``: balances as ``[{currency, free, frozen}]``."""
        raise NotSupported("accounts")

    async def assets(self) -> Any:
        """``GetAssets``: the same shape as :meth:`accounts`."""
        raise NotSupported("assets")

    async def orders(self, instrument: Instrument | None) -> Any:
        """``GetOrders``: open orders (of one instrument, or all)."""
        raise NotSupported("orders")

    async def order(self, order_id: OrderId) -> Any:
        """``GetOrder``: one order, open or finished."""
        raise NotSupported("order")

    async def history_orders(
        self, instrument: Instrument | None, since_ms: int | None, limit: int | None
    ) -> Any:
        """``GetHistoryOrders``: finished orders, newest last."""
        raise NotSupported("historyorders")

    async def positions(self, selector: PositionSelector) -> Any:
        """``GetPositions``: open positions that ``selector`` matches (``[]`` when flat)."""
        raise NotSupported("positions")

    # --------------------------------------------------------- order entry

    async def trade(self, order: OrderRequest) -> Any:
        """``CreateOrder``/``Buy``/``Sell``: ``{"id": str(OrderId)}``."""
        raise NotSupported("trade")

    async def cancel(self, order_id: OrderId) -> Any:
        """``CancelOrder``: ``True`` once the exchange accepted the cancel."""
        raise NotSupported("cancel")

    async def set_margin_level(self, instrument: Instrument | None, level: Decimal) -> Any:
        """``SetMarginLevel``: set the leverage (``True``)."""
        raise NotSupported("marginlevel")

    async def api(
        self, http_method: str, path: str, params: Mapping[str, Any], body: str | None
    ) -> Any:
        """``exchange.IO("api", ...)``: call ``path`` signed, return the exchange's JSON.

        The bridge has already checked the path against the allow-list.
        """
        raise NotSupported("api")

    def api_allowed(self, http_method: str, path: str) -> str | None:
        """Why ``path`` is refused for ``__api_`` (``None``: allowed). Unless the user
        opted in (``allow_unsafe_api``), a path must start with one of
        :attr:`api_prefixes` and must not be a withdrawal, transfer, sub-account...
        endpoint (:func:`~datastores.apps.fmz.passthrough.unsafe_reason`)."""
        from .passthrough import outside_reason, unsafe_reason

        if self.context.allow_unsafe_api:
            return None
        return outside_reason(path, self.api_prefixes) or unsafe_reason(path)

    # ------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:  # noqa: B027 (optional hook)
        """Stop the adapter's own tasks (the bridge closes the client afterwards)."""
