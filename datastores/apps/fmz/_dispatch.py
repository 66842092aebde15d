"""From one parsed FMZ request to one adapter call: method names, params, types.

The FMZ agent sends most numbers as strings (``"limit": "30"``) but some as
JSON numbers (``historyorders``); every numeric param is accepted as either
and parsed exactly (:class:`~decimal.Decimal`, never ``float``). A wrong type
or a missing param is a :class:`BridgeError` naming the param, never a crash.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .adapter import (
    BridgeError,
    ExchangeAdapter,
    FMZSymbol,
    NotSupported,
    OrderId,
    OrderRequest,
    OrderSide,
    PositionSelector,
)

__all__ = ["ALIASES", "API_PREFIX", "Params", "canonical_method", "dispatch"]

API_PREFIX = "__api_"

#: Accepted method names (lower case) -> canonical name. The guide documents the
#: spot names; the futures names are not published, so the likely spellings are
#: accepted (see the reference, "futures-specific parts").
ALIASES: Mapping[str, str] = {
    **{name: name for name in ("ticker", "depth", "trades", "records", "accounts", "assets")},
    **{name: name for name in ("trade", "cancel", "order", "orders", "historyorders")},
    "getticker": "ticker",
    "getdepth": "depth",
    "gettrades": "trades",
    "getrecords": "records",
    "account": "accounts",
    "getaccount": "accounts",
    "getassets": "assets",
    "createorder": "trade",
    "cancelorder": "cancel",
    "getorder": "order",
    "getorders": "orders",
    "gethistoryorders": "historyorders",
    "positions": "positions",
    "position": "positions",
    "getpositions": "positions",
    "getposition": "positions",
    "marginlevel": "marginlevel",
    "setmarginlevel": "marginlevel",
    "margin_level": "marginlevel",
    "fundings": "fundings",
    "funding": "fundings",
    "getfundings": "fundings",
    "markets": "markets",
    "getmarkets": "markets",
    "tickers": "tickers",
    "gettickers": "tickers",
    "io": "io",
}

#: most characters of a param value quoted back in an error
_SHOWN = 40
#: largest ``limit`` honoured
MAX_LIMIT = 5000


def canonical_method(method: str) -> str:
    """The canonical name of ``method`` (``"api"`` for ``__api_...``).

    Raises:
        NotSupported: not a method of the protocol.
    """
    if method.startswith(API_PREFIX):
        return "api"
    name = ALIASES.get(method.lower())
    if name is None:
        raise NotSupported(method[:_SHOWN])
    return name


class Params:
    """Typed access to the ``params`` object; errors name the param."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    def _get(self, name: str, required: bool) -> Any:
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                raise BridgeError(f"missing param {name!r}")
            return None
        return value

    def string(self, name: str, *, required: bool = True) -> str | None:
        """A string param."""
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise BridgeError(f"param {name!r} must be a string, not {type(value).__name__}")
        return value

    def decimal(self, name: str, *, required: bool = True) -> Decimal | None:
        """A number given as a string or a JSON number, parsed exactly."""
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise BridgeError(f"param {name!r} must be a number, not {type(value).__name__}")
        try:
            # A JSON float arrives as float: its shortest repr is what the agent wrote.
            number = Decimal(
                repr(value)
                if isinstance(value, float)
                else value.strip()
                if isinstance(value, str)
                else value
            )
        except (InvalidOperation, ValueError):
            raise BridgeError(f"param {name!r} is not a number: {str(value)[:_SHOWN]!r}") from None
        if not number.is_finite():
            raise BridgeError(f"param {name!r} must be finite")
        return number

    def integer(self, name: str, *, required: bool = True) -> int | None:
        """A whole number given as a string or a JSON number."""
        number = self.decimal(name, required=required)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise BridgeError(f"param {name!r} must be a whole number")
        return int(number)

    def required_string(self, name: str) -> str:
        """A string param that must be present."""
        value = self.string(name)
        if value is None:  # pragma: no cover - string() raised already
            raise BridgeError(f"missing param {name!r}")
        return value

    def required_decimal(self, name: str) -> Decimal:
        """A number param that must be present."""
        value = self.decimal(name)
        if value is None:  # pragma: no cover - decimal() raised already
            raise BridgeError(f"missing param {name!r}")
        return value

    def symbol(self, name: str = "symbol", *, required: bool = True) -> FMZSymbol | None:
        """An FMZ symbol (``BTC_USDT``, ``btc_usdt.swap``)."""
        text = self.string(name, required=required)
        return None if text is None else FMZSymbol.parse(text)


def _limit(params: Params, default: int) -> int:
    limit = params.integer("limit", required=False)
    if limit is None or limit == 0:
        return default
    if limit < 0:
        raise BridgeError("param 'limit' must not be negative")
    return min(limit, MAX_LIMIT)


async def _ticker(adapter: ExchangeAdapter, params: Params) -> Any:
    return await adapter.ticker(adapter.instrument(_required_symbol(params)))


async def _depth(adapter: ExchangeAdapter, params: Params) -> Any:
    return await adapter.depth(adapter.instrument(_required_symbol(params)), _limit(params, 30))


async def _trades(adapter: ExchangeAdapter, params: Params) -> Any:
    return await adapter.trades(adapter.instrument(_required_symbol(params)))


async def _records(adapter: ExchangeAdapter, params: Params) -> Any:
    period = params.integer("period", required=False) or 60
    if period <= 0:
        raise BridgeError("param 'period' (minutes) must be positive")
    instrument = adapter.instrument(_required_symbol(params))
    return await adapter.records(instrument, period, _limit(params, 500))


async def _accounts(adapter: ExchangeAdapter, params: Params) -> Any:
    return await adapter.accounts()


async def _assets(adapter: ExchangeAdapter, params: Params) -> Any:
    return await adapter.assets()


_SIDES: Mapping[str, OrderSide] = {
    "buy": "buy",
    "sell": "sell",
    "closebuy": "closebuy",
    "closesell": "closesell",
}


async def _trade(adapter: ExchangeAdapter, params: Params) -> Any:
    instrument = adapter.instrument(_required_symbol(params))
    kind = params.required_string("type")
    side = _SIDES.get(kind.lower())
    if side is None:
        raise BridgeError(
            f"param 'type' must be buy, sell, closebuy or closesell, not {kind[:_SHOWN]!r}"
        )
    if instrument.is_spot and side not in ("buy", "sell"):
        raise BridgeError(f"{kind} is for futures; spot orders are buy or sell")
    amount = params.required_decimal("amount")
    price = params.required_decimal("price")
    if amount <= 0:
        raise BridgeError("param 'amount' must be positive")
    if price <= 0 and price != -1:
        raise BridgeError("param 'price' must be positive, or -1 for a market order")
    order = OrderRequest(instrument, side, amount, None if price == -1 else price)
    return await adapter.trade(order)


def _order_id(adapter: ExchangeAdapter, params: Params) -> OrderId:
    order_id = OrderId.parse(params.required_string("id"))
    adapter.instrument_named(order_id.instrument)  # an instrument of this exchange
    return order_id


async def _cancel(adapter: ExchangeAdapter, params: Params) -> Any:
    return await adapter.cancel(_order_id(adapter, params))


async def _order(adapter: ExchangeAdapter, params: Params) -> Any:
    return await adapter.order(_order_id(adapter, params))


async def _orders(adapter: ExchangeAdapter, params: Params) -> Any:
    symbol = params.symbol(required=False)
    return await adapter.orders(None if symbol is None else adapter.instrument(symbol))


async def _history_orders(adapter: ExchangeAdapter, params: Params) -> Any:
    symbol = params.symbol(required=False)
    since = params.integer("since", required=False) or None
    limit = params.integer("limit", required=False) or None
    if (since is not None and since < 0) or (limit is not None and limit < 0):
        raise BridgeError("params 'since' and 'limit' must not be negative")
    instrument = None if symbol is None else adapter.instrument(symbol)
    return await adapter.history_orders(instrument, since, limit)


def _selector(text: str | None) -> PositionSelector:
    if not text:
        return PositionSelector()
    quote, dot, contract = text.partition(".")
    if "_" not in quote and dot and contract.lower() in ("swap", "futures") and quote.isalnum():
        return PositionSelector(quote=quote.upper(), contract=contract.lower())
    return PositionSelector(symbol=FMZSymbol.parse(text))


async def _positions(adapter: ExchangeAdapter, params: Params) -> Any:
    return await adapter.positions(_selector(params.string("symbol", required=False)))


async def _margin_level(adapter: ExchangeAdapter, params: Params) -> Any:
    level = params.decimal("marginLevel", required=False)
    if level is None:
        level = params.required_decimal("level")
    if level <= 0:
        raise BridgeError("the margin level must be positive")
    symbol = params.symbol(required=False)
    return await adapter.set_margin_level(
        None if symbol is None else adapter.instrument(symbol), level
    )


async def _fundings(adapter: ExchangeAdapter, params: Params) -> Any:
    symbol = params.symbol(required=False)
    return await adapter.fundings(None if symbol is None else adapter.instrument(symbol))


async def _markets(adapter: ExchangeAdapter, params: Params) -> Any:
    return await adapter.markets()


async def _tickers(adapter: ExchangeAdapter, params: Params) -> Any:
    return await adapter.tickers()


def _required_symbol(params: Params) -> FMZSymbol:
    return FMZSymbol.parse(params.required_string("symbol"))


Handler = Callable[[ExchangeAdapter, Params], Awaitable[Any]]

HANDLERS: Mapping[str, Handler] = {
    "ticker": _ticker,
    "depth": _depth,
    "trades": _trades,
    "records": _records,
    "accounts": _accounts,
    "assets": _assets,
    "trade": _trade,
    "cancel": _cancel,
    "order": _order,
    "orders": _orders,
    "historyorders": _history_orders,
    "positions": _positions,
    "marginlevel": _margin_level,
    "fundings": _fundings,
    "markets": _markets,
    "tickers": _tickers,
}

#: legacy ``io`` codes (a lead from a secondary source): 0 SetMarginLevel, 3 GetPosition
_IO_CODES: Mapping[int, str] = {0: "marginlevel", 3: "positions"}


async def dispatch(
    adapter: ExchangeAdapter,
    method: str,
    params: Mapping[str, Any],
    *,
    body: Mapping[str, Any],
    http_method: str | None,
) -> Any:
    """Call the adapter for canonical ``method`` (see :func:`canonical_method`).

    ``body`` is the whole request object (the legacy ``io`` method carries
    ``code`` and ``args`` beside ``params``); ``http_method`` is the
    ``Http-Method`` header of ``__api_`` calls.
    """
    name = canonical_method(method)
    if name == "api":
        return await _api(adapter, method[len(API_PREFIX) :], params, http_method)
    if name == "io":
        return await _io(adapter, body)
    if name not in adapter.supported_methods():
        raise NotSupported(method[:_SHOWN])
    return await HANDLERS[name](adapter, Params(params))


async def _io(adapter: ExchangeAdapter, body: Mapping[str, Any]) -> Any:
    code = body.get("code")
    args = body.get("args")
    name = _IO_CODES.get(code) if isinstance(code, int) and not isinstance(code, bool) else None
    if name is None or name not in adapter.supported_methods():
        raise NotSupported(f"io code {str(code)[:_SHOWN]}")
    if name == "positions":
        return await adapter.positions(PositionSelector())
    if not isinstance(args, list) or len(args) != 1:
        raise BridgeError("io code 0 (SetMarginLevel) takes args [level]")
    return await _margin_level(adapter, Params({"marginLevel": args[0]}))


async def _api(
    adapter: ExchangeAdapter, path: str, params: Mapping[str, Any], http_method: str | None
) -> Any:
    from .passthrough import HTTP_METHODS, validate_path

    if "api" not in adapter.supported_methods():
        raise NotSupported(API_PREFIX + path[:_SHOWN])
    verb = (http_method or "").strip().upper()
    if verb not in HTTP_METHODS:
        raise BridgeError(
            "__api_ calls need the Http-Method header (GET, POST, PUT or DELETE), "
            f"got {verb[:10]!r}"
        )
    reason = validate_path(path) or adapter.api_allowed(verb, path)
    if reason is not None:
        raise BridgeError(reason)
    query: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, (dict, list)):
            raise BridgeError(f"__api_ param {key[:_SHOWN]!r} must be a string or a number")
        query[key] = value
    return await adapter.api(verb, path, query, None)
