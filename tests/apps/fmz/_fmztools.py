"""Tools of the FMZ bridge tests: distinctive keys, and an ``Agent`` that POSTs as
FMZ's docker does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

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


async def until(condition: Callable[[], Any], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)
