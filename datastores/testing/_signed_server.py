"""A fake exchange HTTP server on 127.0.0.1 that checks request signatures.

``SignedServer("okx", keys=...)`` accepts requests signed the way the exchange
documents (see :mod:`datastores.testing._verify` and each exchange's
``datastores/testing/profiles/<exchange>/verifier.py``) and answers ``200`` with an
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
from types import TracebackType
from typing import Any

from aiohttp import web

from ._verify import FakeKey, ReceivedRequest, Rejected
from .profiles import signing_schemes

__all__ = ["SignedServer", "error_response"]


def error_response(scheme: str, rejected: Rejected) -> tuple[int, Any]:
    """The (HTTP status, JSON body) the exchange of ``scheme`` answers for a failed login."""
    return signing_schemes()[scheme].error(rejected)


class SignedServer:
    """An aiohttp server on 127.0.0.1 that verifies one exchange's HTTP signatures.

    Args:
        scheme: a signing-scheme name (``"okx"``, ``"mexc-futures"``...: the keys of
            :func:`~datastores.testing.profiles.signing_schemes`).
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
        schemes = signing_schemes()
        try:
            spec = schemes[scheme]
        except KeyError:
            raise ValueError(
                f"unknown signing scheme {scheme!r}; known: {sorted(schemes)}"
            ) from None
        self.scheme = scheme
        self.host = host or spec.host
        self._error = spec.error
        self._verify = spec.verifier()
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
            status, body = self._error(rejected)
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
