"""A fake exchange HTTP server on 127.0.0.1 that checks request signatures.

``SignedServer("okx", keys=...)`` accepts requests signed the way the exchange
documents (see :mod:`datastores.testing._verify`) and answers ``200`` with an
echo of what it received, or the exchange's own error shape (status and JSON
body modelled on its docs) when authentication fails. Point a real
:class:`datastores.Client` at it with ``Client(redirects=server.redirects)``::

    async with SignedServer("bybit", keys={"KEY": FakeKey("KEY", "SECRET")}) as server:
        async with Client({"bybit": ["KEY", "SECRET"]}, redirects=server.redirects) as client:
            result = await client.fetch("GET", "https://api.bybit.com/v5/order/realtime")
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

from ._verify import FakeKey, ReceivedRequest, Rejected, make_verifier

__all__ = ["ERROR_SHAPES", "SCHEMES", "SignedServer", "error_response"]


@dataclass(frozen=True)
class _Scheme:
    verifier: str
    host: str


#: Fake-able signing schemes: name -> (verifier, the real host the server stands in for).
SCHEMES: dict[str, _Scheme] = {
    "bitflyer": _Scheme("bitflyer", "api.bitflyer.com"),
    "gmocoin": _Scheme("gmocoin", "api.coin.z.com"),
    "bitbank": _Scheme("bitbank", "api.bitbank.cc"),
    "coincheck": _Scheme("coincheck", "coincheck.com"),
    "okj": _Scheme("okj", "www.okcoin.jp"),
    "bittrade": _Scheme("bittrade", "api-cloud.bittrade.co.jp"),
    "bybit": _Scheme("bybit", "api.bybit.com"),
    "binance": _Scheme("binance", "api.binance.com"),
    "binance-usdsm": _Scheme("binance", "fapi.binance.com"),
    "okx": _Scheme("okx", "www.okx.com"),
    "phemex": _Scheme("phemex", "api.phemex.com"),
    "bitget": _Scheme("bitget", "api.bitget.com"),
    "mexc": _Scheme("mexc", "api.mexc.com"),
    "mexc-futures": _Scheme("mexc_futures", "contract.mexc.com"),
    "kucoin": _Scheme("kucoin", "api.kucoin.com"),
    "bitmex": _Scheme("bitmex", "www.bitmex.com"),
    "hyperliquid": _Scheme("hyperliquid", "api.hyperliquid.xyz"),
}


def _now_ms() -> int:
    return int(time.time() * 1000)


# Error answers, modelled on each exchange's documented error bodies. Codes are the
# exchanges' codes for the failure where the docs give one.
ERROR_SHAPES: dict[str, Callable[[Rejected], tuple[int, Any]]] = {
    "bitflyer": lambda r: (401, {"status": -500, "error_message": r.message, "data": None}),
    "gmocoin": lambda r: (
        200,
        {
            "status": 5,
            "messages": [{"message_code": "ERR-5010", "message_string": r.message}],
            "responsetime": "2026-01-01T00:00:00.000Z",
        },
    ),
    "bitbank": lambda r: (200, {"success": 0, "data": {"code": 20001}}),
    "coincheck": lambda r: (401, {"success": False, "error": r.message}),
    "okj": lambda r: (401, {"code": 30013, "message": "Invalid Sign"}),
    "bittrade": lambda r: (
        200,
        {
            "status": "error",
            "err-code": "api-signature-not-valid",
            "err-msg": r.message,
            "data": None,
        },
    ),
    "bybit": lambda r: (
        401,
        {
            "retCode": 10002 if r.kind == "timestamp" else 10004,
            "retMsg": r.message,
            "result": {},
            "retExtInfo": {},
            "time": _now_ms(),
        },
    ),
    "binance": lambda r: (
        400,
        {"code": -1021 if r.kind == "timestamp" else -1022, "msg": r.message},
    ),
    "okx": lambda r: (
        401,
        {"code": "50102" if r.kind == "timestamp" else "50113", "msg": r.message, "data": []},
    ),
    "phemex": lambda r: (401, {"code": 401, "msg": r.message, "data": None}),
    "bitget": lambda r: (
        400,
        {
            "code": "40008" if r.kind == "timestamp" else "40009",
            "msg": r.message,
            "requestTime": _now_ms(),
            "data": None,
        },
    ),
    "mexc": lambda r: (400, {"code": 700002, "msg": r.message}),
    "mexc_futures": lambda r: (
        200,
        {"success": False, "code": 602, "message": r.message},
    ),
    "kucoin": lambda r: (
        401,
        {"code": "400002" if r.kind == "timestamp" else "400005", "msg": r.message},
    ),
    "bitmex": lambda r: (401, {"error": {"message": r.message, "name": "HTTPError"}}),
    "hyperliquid": lambda r: (200, {"status": "err", "response": r.message}),
}


def error_response(verifier: str, rejected: Rejected) -> tuple[int, Any]:
    """The (HTTP status, JSON body) the exchange answers for a failed authentication."""
    return ERROR_SHAPES[verifier](rejected)


class SignedServer:
    """An aiohttp server on 127.0.0.1 that verifies one exchange's HTTP signatures.

    Args:
        scheme: a key of :data:`SCHEMES` (``"okx"``, ``"mexc-futures"``...).
        keys: API key id -> :class:`FakeKey` the exchange knows (Hyperliquid:
            lower-case address -> key).
        clock: server time in epoch seconds (pass ``VirtualClock().time`` in tests).
        host: the real host this server stands in for (default: the scheme's).

    Attributes:
        received: every :class:`ReceivedRequest`, in arrival order.
        rejected: the :class:`Rejected` errors, in order.
    """

    def __init__(
        self,
        scheme: str,
        keys: Mapping[str, FakeKey],
        *,
        clock: Callable[[], float] = time.time,
        host: str | None = None,
    ) -> None:
        try:
            spec = SCHEMES[scheme]
        except KeyError:
            raise ValueError(
                f"unknown signing scheme {scheme!r}; known: {sorted(SCHEMES)}"
            ) from None
        self.scheme = scheme
        self.host = host or spec.host
        self._verifier_name = spec.verifier
        self._verify = make_verifier(spec.verifier)
        self._keys = dict(keys)
        self._clock = clock
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.received: list[ReceivedRequest] = []
        self.rejected: list[Rejected] = []

    def __repr__(self) -> str:
        return f"<SignedServer {self.scheme} for {self.host} on port {self.port}>"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def redirects(self) -> dict[str, str]:
        """``{real_host: base_url}`` for ``Client(redirects=...)``."""
        return {self.host: self.base_url}

    async def start(self) -> None:
        """Listen on an ephemeral port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        """Stop the server."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SignedServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _handle(self, request: web.Request) -> web.Response:
        received = ReceivedRequest(
            method=request.method,
            host=self.host,
            path=request.raw_path.split("?", 1)[0],
            query=request.rel_url.raw_query_string,
            headers=request.headers,
            body=await request.read(),
        )
        self.received.append(received)
        try:
            self._verify(received, self._keys, self._clock())
        except Rejected as rejected:
            self.rejected.append(rejected)
            status, body = error_response(self._verifier_name, rejected)
            return web.json_response(body, status=status)
        return web.json_response(
            {
                "ok": True,
                "method": received.method,
                "path": received.path,
                "query": received.query,
                "body": received.body.decode("utf-8", "replace"),
            }
        )
