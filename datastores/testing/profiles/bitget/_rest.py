"""REST endpoints of the fake Bitget venue (see :mod:`.profile`), v2 and legacy v1.

Answers ``{"code": "00000", "msg": "success", "requestTime": .., "data": ..}``;
errors are HTTP 400 with Bitget's code (``40009`` bad signature...), an unknown
path HTTP 404 ``40404``. Signed requests carry ``ACCESS-KEY/SIGN/TIMESTAMP/
PASSPHRASE`` and are checked by :func:`~datastores.testing._verify.verify_bitget`
(independent of the client's signer). https://www.bitget.com/api-doc/common/signature ,
https://www.bitget.com/api-doc/common/error-code/restapi
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .... import _json
from ..._verify import FakeKey, ReceivedRequest, Rejected
from ._account import INST_TYPES, V1_TYPES
from .verifier import verify_bitget

if TYPE_CHECKING:
    from .profile import BitgetProfile

__all__ = ["BitgetRest", "rest_error_body"]

#: signed-request headers and Bitget's code when one is missing
_REQUIRED_HEADERS = (
    ("ACCESS-KEY", "40001"),
    ("ACCESS-SIGN", "40002"),
    ("ACCESS-TIMESTAMP", "40003"),
    ("ACCESS-PASSPHRASE", "40011"),
)

Handler = Callable[[web.Request], Awaitable[web.Response]]


def error(code: str, msg: str, now: int, status: int = 400) -> web.Response:
    """A Bitget error answer with HTTP ``status`` at ``now`` (ms)."""
    body = {"code": code, "msg": msg, "requestTime": now, "data": None}
    return web.json_response(body, status=status, dumps=_json.dumps)


def ok(data: Any, now: int) -> web.Response:
    """A successful Bitget answer carrying ``data`` at ``now`` (ms)."""
    body = {"code": "00000", "msg": "success", "requestTime": now, "data": data}
    return web.json_response(body, dumps=_json.dumps)


def rest_error_body(status: int, now: int) -> dict[str, Any]:
    """Bitget's body for a failed request with HTTP ``status`` (429, 5xx...) at ``now``."""
    if status == 429:
        return {"code": "429", "msg": "Too Many Requests", "requestTime": now, "data": None}
    if status >= 500:
        return {"code": "40015", "msg": "System is abnormal, please try again later",
                "requestTime": now, "data": None}  # fmt: skip
    return {"code": str(status), "msg": f"HTTP {status}", "requestTime": now, "data": None}


class BitgetRest:
    """The REST endpoints of the Bitget venue (bound to its profile)."""

    def __init__(self, profile: BitgetProfile) -> None:
        self.profile = profile

    def routes(self) -> list[web.RouteDef]:
        """``/api/...`` routes, then a catch-all answering Bitget's 404 (keep it last)."""
        from ._trade import BitgetTrade  # it imports this module's answers

        signed = self.signed
        return [
            web.get("/api/v2/public/time", self.time),
            web.get("/api/v2/spot/market/fills", self.fills),
            web.get("/api/v2/mix/market/fills", self.fills),
            web.get("/api/v2/spot/market/tickers", self.tickers),
            web.get("/api/v2/mix/market/tickers", self.tickers),
            web.get("/api/v2/mix/order/orders-pending", signed(self.mix_orders)),
            web.get("/api/v2/spot/trade/unfilled-orders", signed(self.spot_orders)),
            web.get("/api/v2/mix/position/all-position", signed(self.positions)),
            web.get("/api/mix/v1/order/current", signed(self.v1_orders)),
            *BitgetTrade(self.profile).routes(signed),
            web.route("*", "/{tail:.*}", self.not_found),
        ]

    def _now(self) -> int:
        return self.profile.venue.now_ms()

    async def time(self, request: web.Request) -> web.Response:
        """``GET /api/v2/public/time``."""
        now = self._now()
        return ok({"serverTime": str(now)}, now)

    def _inst_type(self, request: web.Request) -> str | web.Response:
        """``SPOT`` on ``/spot/`` paths, else the ``productType`` param."""
        return "SPOT" if "/spot/" in request.path else self._product_type(request)

    async def fills(self, request: web.Request) -> web.Response:
        """``GET /api/v2/spot|mix/market/fills`` (``symbol``, ``limit``: spot 1-500,
        futures 1-100; ``productType`` for futures): the latest trades, newest first."""
        inst_type = self._inst_type(request)
        if isinstance(inst_type, web.Response):
            return inst_type
        now = self._now()
        key = f"{inst_type}:{request.query.get('symbol', '')}"
        if key not in self.profile.venue.markets:
            return error("40034", "Parameter symbol does not exist", now)
        most = 500 if inst_type == "SPOT" else 100
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            return error("40020", "Parameter limit error", now)
        if not 1 <= limit <= most:
            return error("40020", "Parameter limit error", now)
        kept = list(self.profile.recent_trades.get(key, ()))[-limit:]
        symbol = key.partition(":")[2]
        return ok([{"symbol": symbol, **t} for t in reversed(kept)], now)

    async def tickers(self, request: web.Request) -> web.Response:
        """``GET /api/v2/spot|mix/market/tickers`` (optional ``symbol`` on spot;
        ``productType`` for futures)."""
        inst_type = self._inst_type(request)
        if isinstance(inst_type, web.Response):
            return inst_type
        prefix = f"{inst_type}:"
        keys = [k for k in self.profile.venue.markets if k.startswith(prefix)]
        if "symbol" in request.query:
            keys = [k for k in keys if k == prefix + request.query["symbol"]]
        return ok([self.profile.rest_ticker(k) for k in keys], self._now())

    async def not_found(self, request: web.Request) -> web.Response:
        """Any other path: Bitget's 404 body."""
        return error("40404", "Request URL NOT FOUND", self._now(), status=404)

    async def check_signed(self, request: web.Request) -> web.Response | None:
        """Verify Bitget's ``ACCESS-*`` headers; Bitget's error response, or ``None``."""
        now = self._now()
        for header, code in _REQUIRED_HEADERS:
            if not request.headers.get(header):
                return error(code, f"{header.replace('-', '_')} cannot be empty", now)
        path, _, query = request.raw_path.partition("?")
        received = ReceivedRequest(
            request.method, "api.bitget.com", path, query, request.headers, await request.read()
        )
        venue = self.profile.venue
        key = FakeKey(venue.api_key, venue.api_secret, venue.api_passphrase)
        try:
            verify_bitget(received, {venue.api_key: key}, venue.clock.time())
        except Rejected as exc:
            if exc.kind == "key" and "passphrase" in exc.message:
                return error("40012", "apikey/password is incorrect", now)
            if exc.kind == "key":
                return error("40006", "Invalid ACCESS_KEY", now)
            if exc.kind == "timestamp":
                return error("40008", "Request timestamp expired", now)
            if exc.kind == "missing":
                return error("40005", "Invalid ACCESS_TIMESTAMP", now)
            return error("40009", "sign signature error", now)
        return None

    def signed(self, handler: Handler) -> Handler:
        """``handler`` behind :meth:`check_signed`."""

        async def guarded(request: web.Request) -> web.Response:
            refused = await self.check_signed(request)
            return refused if refused is not None else await handler(request)

        return guarded

    def _product_type(self, request: web.Request) -> str | web.Response:
        value = request.query.get("productType", "").upper()
        if not value:
            return error("40019", "Parameter productType cannot be empty", self._now())
        if value not in INST_TYPES[1:]:
            return error("40020", "Parameter productType error", self._now())
        return value

    async def mix_orders(self, request: web.Request) -> web.Response:
        """``GET /api/v2/mix/order/orders-pending`` (``productType``, optional ``symbol``)."""
        product = self._product_type(request)
        if isinstance(product, web.Response):
            return product
        symbol = request.query.get("symbol", "").upper() or None
        return ok(self.profile.private.mix_orders(product, symbol), self._now())

    async def spot_orders(self, request: web.Request) -> web.Response:
        """``GET /api/v2/spot/trade/unfilled-orders`` (optional ``symbol``)."""
        symbol = request.query.get("symbol", "").upper() or None
        return ok(self.profile.private.spot_orders(symbol), self._now())

    async def positions(self, request: web.Request) -> web.Response:
        """``GET /api/v2/mix/position/all-position`` (``productType``, optional ``marginCoin``)."""
        product = self._product_type(request)
        if isinstance(product, web.Response):
            return product
        coin = request.query.get("marginCoin", "").upper() or None
        return ok(self.profile.private.positions(product, coin), self._now())

    async def v1_orders(self, request: web.Request) -> web.Response:
        """``GET /api/mix/v1/order/current`` (``symbol`` like ``BTCUSDT_UMCBL``)."""
        now = self._now()
        inst_id, _, v1_type = request.query.get("symbol", "").upper().rpartition("_")
        if not inst_id:
            return error("40019", "Parameter symbol cannot be empty", now)
        inst_type = V1_TYPES.get(v1_type)
        if inst_type is None or f"{inst_type}:{inst_id}" not in self.profile.venue.markets:
            return error("40034", "Parameter symbol does not exist", now)
        return ok(self.profile.private.v1_orders(inst_type, inst_id), now)
