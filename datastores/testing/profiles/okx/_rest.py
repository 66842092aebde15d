"""REST endpoints of the fake OKX venues (see :mod:`.okx`).

Answers ``{"code": "0", "msg": "", "data": [...]}``; errors
``{"code": "5xxxx", "msg": .., "data": []}`` with OKX's codes and HTTP statuses
(400 parameters, 401 authentication). Signed requests are verified by
:func:`~datastores.testing._verify.verify_okx` (independent of the client's
signer); a request carrying ``x-simulated-trading: 1`` must be signed with the
demo key and is answered from the demo venue.
https://www.okx.com/docs-v5/en/#overview-rest-authentication ,
https://www.okx.com/docs-v5/en/#error-code-rest-api
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .... import _json
from ..._verify import FakeKey, ReceivedRequest, Rejected
from ._account import balance_summary, inst_type, matches, okx_order, position_summary
from ._books import top_levels
from ._trade import OKXTrade
from .verifier import verify_okx

if TYPE_CHECKING:
    from ...fake import Venue
    from .profile import OKXProfile

__all__ = ["INST_TYPES", "OKXRest", "okx_profile", "rest_error_body"]

INST_TYPES = frozenset({"SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "ANY"})
_DEMO_HEADER = "x-simulated-trading"


def ok(data: list[Any]) -> web.Response:
    """A successful OKX answer carrying ``data``."""
    return web.json_response({"code": "0", "msg": "", "data": data}, dumps=_json.dumps)


def error(status: int, code: str, msg: str) -> web.Response:
    """An OKX error answer with HTTP ``status``."""
    return web.json_response(
        {"code": code, "msg": msg, "data": []}, status=status, dumps=_json.dumps
    )


def auth_error(exc: Rejected) -> web.Response:
    """OKX's answer to a request that fails authentication (HTTP 401)."""
    message = exc.message
    if exc.kind == "missing":
        for header, code in (
            ("OK-ACCESS-KEY", "50103"),
            ("OK-ACCESS-PASSPHRASE", "50104"),
            ("OK-ACCESS-SIGN", "50106"),
            ("OK-ACCESS-TIMESTAMP", "50107"),
        ):
            if header in message:
                return error(401, code, f'Request header "{header}" cannot be empty.')
        return error(401, "50112", "Invalid OK-ACCESS-TIMESTAMP")
    if exc.kind == "key":
        if "passphrase" in message:
            return error(401, "50105", "Invalid OK-ACCESS-PASSPHRASE")
        if "demo" in message:
            return error(401, "50101", "APIKey does not match current environment.")
        return error(401, "50111", "Invalid OK-ACCESS-KEY")
    if exc.kind == "timestamp":
        return error(401, "50102", "Timestamp request expired")
    return error(401, "50113", "Invalid Sign")


#: a signed endpoint: the request and the venue (production or demo) it is for
Handler = Callable[[web.Request, "Venue"], Awaitable[web.Response]]


def okx_profile(venue: Venue) -> OKXProfile | None:
    """``venue``'s profile if it is an OKX one."""
    from .profile import OKXProfile  # the profile module imports this one

    return venue.profile if isinstance(venue.profile, OKXProfile) else None


def rest_error_body(status: int) -> dict[str, Any]:
    """OKX's body for a failed request with HTTP ``status`` (429, 5xx...)."""
    if status == 429:
        return {"code": "50011", "msg": "Too Many Requests", "data": []}
    if status == 500:
        return {"code": "50026", "msg": "System error. Try again later", "data": []}
    if status >= 500:
        return {
            "code": "50001",
            "msg": "Service temporarily unavailable. Please try again later",
            "data": [],
        }
    return {"code": "50000", "msg": f"HTTP {status}", "data": []}


class OKXRest:
    """The REST endpoints of one OKX venue (bound to its profile)."""

    def __init__(self, profile: OKXProfile) -> None:
        self.profile = profile

    def routes(self) -> list[web.RouteDef]:
        """``/api/v5/...`` routes of the venue."""
        return [
            web.get("/api/v5/public/time", self.time),
            web.get("/api/v5/market/books", self.books),
            web.get("/api/v5/trade/orders-pending", self.signed(self.orders_pending)),
            web.get("/api/v5/trade/orders-algo-pending", self.signed(self.algo_pending)),
            web.get("/api/v5/account/balance", self.signed(self.balance)),
            web.get("/api/v5/account/positions", self.signed(self.positions)),
            *OKXTrade(self).routes(),
        ]

    async def time(self, request: web.Request) -> web.Response:
        """``GET /api/v5/public/time``."""
        return ok([{"ts": str(self.profile.venue.now_ms())}])

    async def books(self, request: web.Request) -> web.Response:
        """``GET /api/v5/market/books`` (``instId``, ``sz`` 1-400, ``source=0``), with ``seqId``."""
        demo = request.headers.get(_DEMO_HEADER) == "1"
        venue = self.profile.venue_for(demo)
        if venue is None:
            return error(
                503,
                "50001",
                "Service temporarily unavailable: this fake exchange does not run "
                + ("demo trading" if demo else "production"),
            )
        query = request.query
        inst = query.get("instId")
        if not inst:
            return error(400, "50014", "Parameter instId cannot be empty")
        market = venue.markets.get(inst)
        if market is None:
            return error(400, "51001", "Instrument ID does not exist")
        size = query.get("sz", "1")
        if not size.isdigit() or not 1 <= int(size) <= 400:
            return error(400, "51000", "Parameter sz error")
        if query.get("source", "0") != "0":
            return error(400, "51000", "Parameter source error")
        profile = okx_profile(venue)
        assert profile is not None
        asks, bids = top_levels(market, int(size))
        seq = profile.seq_id(inst, market.last_update_id)
        return ok([{"asks": asks, "bids": bids, "ts": str(venue.now_ms()), "seqId": seq}])

    def signed(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        """``handler`` behind OKX authentication; it gets the venue the request is for."""

        async def guarded(request: web.Request) -> web.Response:
            body = await request.read()
            path, _, query = request.raw_path.partition("?")
            received = ReceivedRequest(
                request.method, request.host, path, query, request.headers, body
            )
            keys = {
                v.api_key: FakeKey(v.api_key, v.api_secret, v.api_passphrase, demo=okx.demo)
                for v in self.profile.venue.peers.values()
                if (okx := okx_profile(v)) is not None
            }
            try:
                verify_okx(received, keys, self.profile.venue.clock.time())
            except Rejected as exc:
                return auth_error(exc)
            venue = self.profile.venue_for(request.headers.get(_DEMO_HEADER) == "1")
            assert venue is not None  # the key matched a running venue of that kind
            return await handler(request, venue)

        return guarded

    async def orders_pending(self, request: web.Request, venue: Venue) -> web.Response:
        """``GET /api/v5/trade/orders-pending``: the open orders, newest first."""
        query = request.query
        kind = query.get("instType")
        if kind is not None and kind not in INST_TYPES - {"ANY"}:
            return error(400, "51000", "Parameter instType error")
        inst = query.get("instId")
        if inst is not None and inst not in venue.markets:
            return error(400, "51001", "Instrument ID does not exist")
        limit = query.get("limit", "100")
        if not limit.isdigit() or not 1 <= int(limit) <= 100:
            return error(400, "51000", "Parameter limit error")
        orders = [
            o
            for o in venue.account.open_orders(inst)
            if kind is None or inst_type(o.symbol) == kind
        ]
        orders.reverse()  # newest first, as OKX lists them
        return ok([okx_order(o) for o in orders[: int(limit)]])

    async def algo_pending(self, request: web.Request, venue: Venue) -> web.Response:
        """``GET /api/v5/trade/orders-algo-pending`` (``ordType`` required): none."""
        kinds = request.query.get("ordType")
        if not kinds:
            return error(400, "50014", "Parameter ordType cannot be empty")
        known = {"conditional", "oco", "trigger", "move_order_stop", "iceberg", "twap", "chase"}
        if any(k not in known for k in kinds.split(",")):
            return error(400, "51000", "Parameter ordType error")
        return ok([])  # the fake account has no algo orders

    async def balance(self, request: web.Request, venue: Venue) -> web.Response:
        """``GET /api/v5/account/balance``."""
        wanted = request.query.get("ccy")
        balances = [
            b
            for b in venue.account.balances.values()
            if (Decimal(b.free) or Decimal(b.locked))
            and (wanted is None or b.asset in wanted.split(","))
        ]
        return ok([balance_summary(balances, venue.now_ms())])

    async def positions(self, request: web.Request, venue: Venue) -> web.Response:
        """``GET /api/v5/account/positions`` (non-zero positions)."""
        arg = {k: request.query[k] for k in ("instType", "instId") if k in request.query}
        profile = okx_profile(venue)
        assert profile is not None
        now = venue.now_ms()
        return ok(
            [
                position_summary(p, profile.mark_price(p.symbol), now)
                for p in venue.account.positions.values()
                if Decimal(p.amount) and matches(arg, p.symbol)
            ]
        )
