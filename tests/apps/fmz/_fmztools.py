"""Tools of the FMZ bridge tests: distinctive keys, and an ``Agent`` that POSTs as
FMZ's docker does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from datastores.testing import FakeExchange

#: distinctive test credentials: the secret scan looks for these everywhere
ACCESS_KEY = "FMZ-ACCESS-3b9f6e21"
SECRET = "FMZ-SECRET-c0ffee5e11"
PASSPHRASE = "FMZ-PASSPHRASE-77aa19"
SECRETS = (SECRET, PASSPHRASE)


@dataclass
class Agent:
    """Speaks to the bridge as the FMZ docker does and keeps every reply."""

    url: str
    session: aiohttp.ClientSession
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET
    replies: list[str] = field(default_factory=list)
    nonce: int = 1730275031047002000

    async def post(
        self, path: str, body: bytes | str, headers: dict[str, str] | None = None
    ) -> Any:
        async with self.session.post(self.url + path, data=body, headers=headers) as response:
            text = await response.text()
            self.replies.append(text)
            assert response.status == 200, text
            assert response.content_type == "application/json"
            return await response.json(content_type=None)

    async def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        exchange: str = "OKX",
        headers: dict[str, str] | None = None,
    ) -> Any:
        import json

        self.nonce += 1
        body = {
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "method": method,
            "nonce": self.nonce,
            "params": params or {},
        }
        return await self.post("/" + exchange, json.dumps(body), headers)

    async def data(self, method: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        reply = await self.call(method, params, **kw)
        assert set(reply) == {"data"}, reply
        return reply["data"]

    async def error(self, method: str, params: dict[str, Any] | None = None, **kw: Any) -> str:
        reply = await self.call(method, params, **kw)
        assert set(reply) == {"error"}, reply
        assert isinstance(reply["error"], str)
        return reply["error"]


async def poll(
    agent: Agent, method: str, params: dict[str, Any], check: Any, *, exchange: str = "OKX"
) -> Any:
    """``method``'s ``data`` once ``check`` holds on it, asking again every 10 ms
    (500 tries at most, then an ``AssertionError`` showing the last answer)."""
    found = None
    for _ in range(500):
        found = await agent.data(method, params, exchange=exchange)
        if check(found):
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"{method} never matched: {found}")


async def until(condition: Callable[[], Any], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


class CannedHost:
    """An exchange's REST host: canned replies (in the exchange's documented shapes) for
    the paths in ``canned``; every other request forwarded to the fake's ``venue``."""

    def __init__(self, fake: FakeExchange, venue: str, canned: dict[str, Any]) -> None:
        self.fake, self.venue, self.canned = fake, venue, canned
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> CannedHost:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._session is not None
        assert self._runner is not None
        await self._session.close()
        await self._runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.path in self.canned:
            text = body.decode()
            # Bybit, Bitget and OKX post JSON bodies, Binance forms.
            sent = json.loads(text) if text.startswith("{") else dict(parse_qsl(text))
            query = {**sent, **request.query}
            self.seen.append((request.method, request.path, query))
            reply = self.canned[request.path]
            return web.json_response(reply(query) if callable(reply) else reply)
        assert self._session is not None
        target = self.fake.venues[self.venue].url + request.path_qs
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with self._session.request(
            request.method, target, headers=headers, data=body
        ) as response:
            return web.Response(
                status=response.status,
                body=await response.read(),
                content_type=response.content_type,
            )
