"""One :class:`~datastores.Client` and one adapter (with its stores and streams)
per exchange and key pair.

The FMZ agent sends the keys on every request; the first request of a key
pair creates its session, later ones reuse it (its stores are already live).
Sessions are found by a SHA-256 digest of the keys, so the pool's own
dictionary never holds a secret as a key.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from typing import Any

from ..._client import Client
from ..._errors import DatastoresError
from .adapter import AdapterContext, APIKeys, BridgeError, ExchangeAdapter

__all__ = ["SessionPool"]

logger = logging.getLogger("datastores.apps.fmz")


def _digest(exchange: str, access_key: str, secret_key: str) -> str:
    h = hashlib.sha256()
    for part in (exchange, access_key, secret_key):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


class SessionPool:
    """Sessions by (exchange, key pair), created on first use, closed together.

    Args:
        max_sessions: most key pairs served at once. A new key pair beyond it
            replaces the session unused for longest if that one has been idle for
            ``idle_timeout`` seconds (a key pair with a typo stops holding a place),
            and is refused otherwise (a typo must not open streams without end).
        client_kwargs: passed to every ``Client`` (``redirects=`` for fakes).
        context_kwargs: passed to every :class:`AdapterContext`.
    """

    def __init__(
        self,
        *,
        max_sessions: int = 16,
        idle_timeout: float = 600.0,
        client_kwargs: Mapping[str, Any] | None = None,
        context_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.max_sessions = max_sessions
        self._client_kwargs = dict(client_kwargs or {})
        self._context_kwargs = dict(context_kwargs or {})
        self._sessions: dict[str, asyncio.Future[ExchangeAdapter]] = {}
        #: session key -> loop time of its last use (sessions idle longest come first)
        self._last_used: dict[str, float] = {}
        self.idle_timeout = idle_timeout
        self._closed = False

    def __len__(self) -> int:
        return len(self._sessions)

    async def get(
        self, adapter_class: type[ExchangeAdapter], access_key: str, secret_key: str
    ) -> ExchangeAdapter:
        """The session of this key pair, created if new (concurrent first calls share it).

        Raises:
            BridgeError: bad keys (never quoted), too many sessions, pool closed.
        """
        if self._closed:
            raise BridgeError("the bridge is shutting down")
        key = _digest(adapter_class.name, access_key, secret_key)
        loop = asyncio.get_running_loop()
        future = self._sessions.get(key)
        if future is None:
            keys = APIKeys.from_fmz(access_key, secret_key, passphrase=adapter_class.passphrase)
            if len(self._sessions) >= self.max_sessions:
                await self._evict_idle(loop.time())
            if len(self._sessions) >= self.max_sessions:
                raise BridgeError(
                    f"too many key pairs ({self.max_sessions}) in use; restart the bridge "
                    "with a higher --max-sessions if this is intended"
                )
            future = loop.create_future()
            self._sessions[key] = future
            self._last_used[key] = loop.time()
            try:
                adapter = await self._create(adapter_class, keys)
            except BaseException as exc:
                del self._sessions[key]
                self._last_used.pop(key, None)
                future.set_exception(
                    exc if isinstance(exc, Exception) else BridgeError("cancelled")
                )
                future.exception()  # retrieved: no "never retrieved" warning
                raise
            future.set_result(adapter)
            return adapter
        self._last_used[key] = loop.time()
        return await asyncio.shield(future)

    async def _evict_idle(self, now: float) -> None:
        """Close the session unused for longest if it is idle beyond ``idle_timeout``."""
        key = min(self._last_used, key=self._last_used.__getitem__, default=None)
        if key is None or now - self._last_used[key] < self.idle_timeout:
            return
        future = self._sessions.pop(key)
        del self._last_used[key]
        if future.done() and not future.cancelled() and future.exception() is None:
            await self._close(future.result())
        logger.info("fmz: closed a session idle for more than %.0f s", self.idle_timeout)

    async def _create(self, adapter_class: type[ExchangeAdapter], keys: APIKeys) -> ExchangeAdapter:
        try:
            client = Client(
                apis={adapter_class.credential_name: keys.as_api_entry()}, **self._client_kwargs
            )
        except DatastoresError:
            raise BridgeError(
                "the access_key/secret_key are not usable for this exchange"
            ) from None
        context = AdapterContext(client=client, keys=keys, **self._context_kwargs)
        try:
            adapter = adapter_class(context)
        except BaseException:
            await client.close()
            raise
        logger.info("fmz: new session for %s (%d open)", adapter_class.name, len(self._sessions))
        return adapter

    async def aclose(self) -> None:
        """Close every session: the adapter, then its client."""
        self._closed = True
        sessions, self._sessions = list(self._sessions.values()), {}
        self._last_used.clear()
        for future in sessions:
            if not future.done() or future.cancelled() or future.exception() is not None:
                continue
            await self._close(future.result())

    @staticmethod
    async def _close(adapter: ExchangeAdapter) -> None:
        try:
            await adapter.aclose()
        except Exception:
            logger.error("fmz: closing the %s adapter failed", adapter.name)
        await adapter.client.close()
