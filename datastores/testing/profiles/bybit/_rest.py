"""REST endpoints of the fake Bybit V5 venues (see :mod:`.profile`).

Answers ``{"retCode": 0, "retMsg": "OK", "result": .., "retExtInfo": {}, "time": ..}``;
bad parameters are HTTP 200 with a non-zero ``retCode`` (10001), as on Bybit.
Requests name their category with the ``category`` query parameter and are
answered from the venue of that category among those sharing the server.
Signed requests (``X-BAPI-*`` headers) are checked by
:func:`~datastores.testing._verify.verify_bybit` (independent of the client's signer).
https://bybit-exchange.github.io/docs/v5/guide#authentication ,
https://bybit-exchange.github.io/docs/v5/error
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .... import _json
from ..._verify import ReceivedRequest, Rejected
from ._account import order_row, position_row, wallet_row
from ._market import levels
from ._trade import BybitTrade
from .verifier import bybit_error, verify_bybit

if TYPE_CHECKING:
    from ...market import MarketGenerator
    from .profile import BybitProfile

__all__ = ["CATEGORIES", "BybitRest", "rest_error_body"]

#: every category Bybit V5 knows (the fake serves spot and linear)
CATEGORIES = ("spot", "linear", "inverse", "option")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def rest_error_body(status: int, now: int) -> dict[str, Any]:
    """Bybit's body for a failed request with HTTP ``status`` (429, 401, 5xx...) at
    ``now`` (ms). https://bybit-exchange.github.io/docs/v5/error"""
    if status == 429:
        code, message = 10006, "Too many visits!"
    elif status == 401:
        code, message = 10003, "API key is invalid."
    elif status >= 500:
        code, message = 10016, "Internal system error."
    else:
        code, message = 10001, "params error"
    return {"retCode": code, "retMsg": message, "result": {}, "retExtInfo": {}, "time": now}


class BybitRest:
    """The REST endpoints of the Bybit venues of one server (bound to the profile
    of the venue that owns it)."""

    def __init__(self, profile: BybitProfile) -> None:
        self.profile = profile
        self.trade = BybitTrade(self)

    def routes(self) -> list[web.RouteDef]:
        """``/v5/...`` REST routes of the server."""
        return [
            web.get("/v5/market/orderbook", self.orderbook),
            web.get("/v5/market/full_orderbook", self.full_orderbook),
            web.get("/v5/market/time", self.time),
            web.get("/v5/market/recent-trade", self.recent_trade),
            web.get("/v5/market/tickers", self.tickers),
            web.get("/v5/order/realtime", self.signed(self.orders)),
            web.get("/v5/position/list", self.signed(self.positions)),
            web.get("/v5/account/wallet-balance", self.signed(self.wallet)),
            *self.trade.routes(),
        ]

    def _ok(self, result: Any) -> web.Response:
        body = {
            "retCode": 0,
            "retMsg": "OK",
            "result": result,
            "retExtInfo": {},
            "time": self.profile.venue.now_ms(),
        }
        return web.json_response(body, dumps=_json.dumps)

    def _error(self, code: int, message: str, status: int = 200) -> web.Response:
        # Bybit answers bad parameters with HTTP 200 and a non-zero retCode.
        body = {
            "retCode": code,
            "retMsg": message,
            "result": {},
            "retExtInfo": {},
            "time": self.profile.venue.now_ms(),
        }
        return web.json_response(body, status=status, dumps=_json.dumps)

    def _category_of(self, request: web.Request) -> BybitProfile | web.Response:
        category = request.query.get("category")
        if not category:
            return self._error(10001, "params error: category is required")
        target = self.profile.category_profile(category)
        if target is None:
            if category in CATEGORIES:
                return self._error(
                    10001, f"params error: category {category} is not served by this fake"
                )
            return self._error(10001, "Illegal category")
        return target

    def _market_of(
        self, request: web.Request
    ) -> tuple[BybitProfile, MarketGenerator] | web.Response:
        target = self._category_of(request)
        if isinstance(target, web.Response):
            return target
        symbol = request.query.get("symbol")
        if not symbol:
            return self._error(10001, "params error: symbol is required")
        market = target.venue.markets.get(symbol)
        if market is None:
            return self._error(10001, "params error: Symbol Is Invalid")
        return target, market

    async def recent_trade(self, request: web.Request) -> web.Response:
        """``GET /v5/market/recent-trade`` (``category``, ``symbol``, ``limit``: spot
        1-60, others 1-1000), newest first."""
        found = self._market_of(request)
        if isinstance(found, web.Response):
            return found
        target, market = found
        most = 60 if target.category == "spot" else 1000
        try:
            limit = int(request.query.get("limit", "60" if most == 60 else "500"))
        except ValueError:
            return self._error(10001, "params error: limit")
        if not 1 <= limit <= most:
            return self._error(10001, "params error: limit")
        kept = list(target.recent_trades.get(market.symbol, ()))[-limit:]
        rows = [
            {"execId": t["i"], "symbol": t["s"], "price": t["p"], "size": t["v"],
             "side": t["S"], "time": str(t["T"]), "isBlockTrade": False}
            for t in reversed(kept)
        ]  # fmt: skip
        return self._ok({"category": target.category, "list": rows})

    async def tickers(self, request: web.Request) -> web.Response:
        """``GET /v5/market/tickers`` (``category``, optional ``symbol``)."""
        target = self._category_of(request)
        if isinstance(target, web.Response):
            return target
        symbol = request.query.get("symbol")
        if symbol is not None and symbol not in target.venue.markets:
            return self._error(10001, "params error: Symbol Is Invalid")
        symbols = [symbol] if symbol is not None else list(target.venue.markets)
        return self._ok(
            {"category": target.category, "list": [target.rest_ticker(s) for s in symbols]}
        )

    async def orderbook(self, request: web.Request) -> web.Response:
        """``GET /v5/market/orderbook`` (``category``, ``symbol``, ``limit`` 1-1000)."""
        found = self._market_of(request)
        if isinstance(found, web.Response):
            return found
        target, market = found
        try:
            limit = int(request.query.get("limit", str(target.default_limit)))
        except ValueError:
            return self._error(10001, "params error: limit")
        if not 1 <= limit <= 1000:
            return self._error(10001, "params error: limit")
        now = self.profile.venue.now_ms()
        return self._ok(
            {
                "s": market.symbol,
                "b": levels(market.levels("bid", limit)),
                "a": levels(market.levels("ask", limit)),
                "ts": now,
                "u": target.update_id(f"orderbook.full.{market.symbol}"),
                "seq": market.last_update_id,
                "cts": now,
            }
        )

    async def full_orderbook(self, request: web.Request) -> web.Response:
        """``GET /v5/market/full_orderbook``: the whole book, with the ``u`` of
        ``orderbook.full.{symbol}``."""
        found = self._market_of(request)
        if isinstance(found, web.Response):
            return found
        target, market = found
        now = self.profile.venue.now_ms()
        return self._ok(
            {
                "s": market.symbol,
                "b": levels(market.levels("bid", 10_000)),
                "a": levels(market.levels("ask", 10_000)),
                "ts": now,
                # the u of the full-depth stream: the client bridges its deltas on it
                "u": target.update_id(f"orderbook.full.{market.symbol}"),
                "seq": market.last_update_id,
                "cts": now,
            }
        )

    async def time(self, request: web.Request) -> web.Response:
        """``GET /v5/market/time``."""
        now = self.profile.venue.clock.time()
        return self._ok({"timeSecond": str(int(now)), "timeNano": str(int(now * 1e9))})

    def signed(self, handler: Handler) -> Handler:
        """``handler`` behind Bybit's ``X-BAPI-*`` authentication."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            received = await ReceivedRequest.of(request, "api.bybit.com")
            venue = self.profile.venue
            try:
                verify_bybit(received, self.profile.api_keys(), venue.clock.time())
            except Rejected as rejected:
                status, body = bybit_error(rejected)
                body["time"] = venue.now_ms()
                return web.json_response(body, status=status, dumps=_json.dumps)
            return await handler(request)

        return guarded

    async def orders(self, request: web.Request) -> web.StreamResponse:
        """``GET /v5/order/realtime``: the open orders of a category (with ``orderId`` or
        ``orderLinkId``: that order, whatever its state)."""
        target = self._category_of(request)
        if isinstance(target, web.Response):
            return target
        query = request.query
        named = self.trade.realtime(target, query)
        orders = target.venue.account.open_orders(query.get("symbol")) if named is None else named
        if "baseCoin" in query:
            orders = [o for o in orders if o.symbol.startswith(query["baseCoin"])]
        if "settleCoin" in query:
            orders = [o for o in orders if o.symbol.endswith(query["settleCoin"])]
        return self._ok(
            {
                "list": [order_row(o, target.category, ws=False) for o in orders],
                "nextPageCursor": "",
                "category": target.category,
            }
        )

    async def positions(self, request: web.Request) -> web.StreamResponse:
        """``GET /v5/position/list`` (``symbol`` or ``settleCoin``; not for spot)."""
        target = self._category_of(request)
        if isinstance(target, web.Response):
            return target
        if target.category == "spot":
            return self._error(10001, "Illegal category")
        query = request.query
        symbol = query.get("symbol")
        settle = query.get("settleCoin")
        if not symbol and not settle:
            return self._error(10001, "params error: symbol or settleCoin is required")
        positions = [
            p
            for p in target.venue.account.positions.values()
            if (
                p.symbol == symbol
                if symbol
                else p.symbol.endswith(settle or "") and p.amount != "0"
            )
        ]
        now = self.profile.venue.now_ms()
        rows = [
            position_row(
                p,
                target.category,
                target.mark_price(p.symbol),
                now,
                self.profile.next_seq(),
                ws=False,
            )
            for p in positions
        ]
        return self._ok({"list": rows, "nextPageCursor": "", "category": target.category})

    async def wallet(self, request: web.Request) -> web.StreamResponse:
        """``GET /v5/account/wallet-balance`` (``accountType=UNIFIED``, optional ``coin``)."""
        account_type = request.query.get("accountType")
        if account_type != "UNIFIED":
            return self._error(10001, "accountType only support UNIFIED")
        balances = self.profile.unified_balances()
        coins = request.query.get("coin")
        listed = list(balances.values())
        if coins:
            wanted = set(coins.split(","))
            listed = [b for b in listed if b.asset in wanted]
        return self._ok({"list": [wallet_row(listed, balances)]})
