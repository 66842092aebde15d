"""The bridge's HTTP server: ``POST /<Name>`` from the FMZ agent to an exchange adapter.

Every answer is HTTP 200 with a JSON object, ``{"data": ...}`` or
``{"error": "..."}`` (the agent reads the ``error`` key, and has no use for
other statuses). Requests are served concurrently (the agent's
``exchange.Go`` issues calls in parallel), each within a timeout; bodies
over the size limit are refused unread; a body that is not valid JSON is
refused without being quoted (it holds the secret key); nothing the agent
sends can stop the server.

Logs name the exchange, the method and the outcome, never the body, a key
or a signature; error texts sent back are scrubbed of this request's keys.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from aiohttp import web

from ... import _json
from ..._errors import DatastoresError
from ..._redact import REDACTED, redact
from ._dispatch import canonical_method, dispatch
from ._pool import SessionPool
from .adapter import BridgeError, ExchangeAdapter

__all__ = ["DEFAULT_PORT", "FMZBridge", "default_adapters", "serve_fmz"]

logger = logging.getLogger("datastores.apps.fmz")

DEFAULT_PORT = 6666
#: bodies are small JSON objects; 64 KiB leaves room for long __api_ queries
DEFAULT_MAX_BODY = 64 * 1024
#: seconds requests still running at shutdown may take to finish
SHUTDOWN_TIMEOUT = 1.0


def default_adapters() -> dict[str, type[ExchangeAdapter]]:
    """The adapters shipped with the bridge, by route name (``OKX``, ``Binance``,
    ``BinanceFutures``, ``Bybit``, ``Bitget``, ``BitgetFutures``)."""
    from .binance import BinanceAdapter, BinanceFuturesAdapter
    from .bitget import BitgetAdapter, BitgetFuturesAdapter
    from .bybit import BybitAdapter
    from .okx import OKXAdapter

    adapters = (
        OKXAdapter,
        BinanceAdapter,
        BinanceFuturesAdapter,
        BybitAdapter,
        BitgetAdapter,
        BitgetFuturesAdapter,
    )
    return {cls.name: cls for cls in adapters}


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return redact(text)


class FMZBridge:
    """The FMZ custom-protocol server.

    Args:
        adapters: route name -> adapter class (default :func:`default_adapters`:
            ``OKX``, ``Binance``, ``BinanceFutures``, ``Bybit``, ``Bitget``,
            ``BitgetFutures``). Route names match the last segment of the
            service address configured on FMZ, without regard to case; give
            more names for one class to use other spellings
            (``{"MyOKX": OKXAdapter}``).
        host: the address to listen on (loopback unless ``allow_remote``).
        port: the port to listen on (``0``: any free port, see :attr:`url`).
        allow_remote: required for a host other than loopback: the agent sends the
            secret key in clear text on every request.
        max_body: largest request body in bytes.
        request_timeout: seconds one request may take in all.
        sync_timeout: seconds a first ``depth``/``ticker`` waits for its new book.
        allow_unsafe_api: let ``__api_`` reach withdrawal and transfer endpoints.
        max_sessions: most key pairs at once; beyond it, a new key pair replaces
            the session unused for longest if it has been idle ``idle_timeout`` seconds.
        client_kwargs: passed to each session's ``Client`` (``redirects=``...).
        adapter_options: passed to adapters as ``AdapterContext.options``.
    """

    def __init__(
        self,
        adapters: Mapping[str, type[ExchangeAdapter]] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        allow_remote: bool = False,
        max_body: int = DEFAULT_MAX_BODY,
        request_timeout: float = 10.0,
        sync_timeout: float = 5.0,
        allow_unsafe_api: bool = False,
        max_sessions: int = 16,
        idle_timeout: float = 600.0,
        client_kwargs: Mapping[str, Any] | None = None,
        adapter_options: Mapping[str, Any] | None = None,
    ) -> None:
        if not is_loopback(host) and not allow_remote:
            raise ValueError(
                f"refusing to listen on {host!r}: the FMZ agent sends the secret key in clear "
                "text; pass allow_remote=True (--allow-remote) to do it anyway"
            )
        if max_body <= 0 or request_timeout <= 0 or sync_timeout < 0:
            raise ValueError("max_body and request_timeout must be positive")
        table = default_adapters() if adapters is None else dict(adapters)
        self.adapters = {name.lower(): cls for name, cls in table.items()}
        self.host = host
        self.port = port
        self.max_body = max_body
        self.request_timeout = request_timeout
        self.pool = SessionPool(
            max_sessions=max_sessions,
            idle_timeout=idle_timeout,
            client_kwargs=client_kwargs,
            context_kwargs={
                "sync_timeout": sync_timeout,
                "request_timeout": request_timeout,
                "allow_unsafe_api": allow_unsafe_api,
                "options": dict(adapter_options or {}),
            },
        )
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.requests = 0
        self.errors = 0

    def __repr__(self) -> str:
        return f"<FMZBridge {self.url or 'not started'} {sorted(self.adapters)}>"

    @property
    def url(self) -> str:
        """``http://host:port`` once started (``""`` before)."""
        if self._runner is None or not self._runner.addresses:
            return ""
        host, port = self._runner.addresses[0][:2]
        return f"http://{host}:{port}" if ":" not in host else f"http://[{host}]:{port}"

    def application(self) -> web.Application:
        """The aiohttp application (for embedding in another server)."""
        # client_max_size only bounds request.read(); the handler reads the body itself.
        app = web.Application(client_max_size=self.max_body)
        app.router.add_route("*", "/{name:[^/]*}", self._handle)
        app.router.add_route("*", "/{path:.*}", self._handle)
        return app

    async def start(self) -> FMZBridge:
        """Listen (``async with`` does this)."""
        if self._runner is None:
            # The agent gave up on a request whose connection closed: stop working on it
            # (handler_cancellation), and do not keep requests running at shutdown.
            runner = web.AppRunner(
                self.application(),
                access_log=None,
                handler_cancellation=True,
                shutdown_timeout=SHUTDOWN_TIMEOUT,
            )
            await runner.setup()
            site = web.TCPSite(runner, self.host, self.port)
            try:
                await site.start()
            except BaseException:
                await runner.cleanup()
                raise
            self._runner, self._site = runner, site
            logger.info("fmz: bridge listening on %s", self.url)
        return self

    async def aclose(self) -> None:
        """Stop listening and close every session (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        await self.pool.aclose()

    async def __aenter__(self) -> FMZBridge:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -------------------------------------------------------------- requests

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        started = time.monotonic()
        secrets: list[str] = []
        label = "?"
        try:
            reply = await asyncio.wait_for(self._answer(request, secrets), self.request_timeout)
        except asyncio.TimeoutError:
            reply = {"error": f"timed out after {self.request_timeout:g} s"}
        except BridgeError as exc:
            reply = {"error": str(exc)}
        except DatastoresError as exc:
            reply = {"error": str(exc)}
        except Exception as exc:
            # Never the message of an unknown exception: it may quote the request.
            logger.error("fmz: internal error (%s) while serving a request", type(exc).__name__)
            reply = {"error": f"internal error ({type(exc).__name__})"}
        if "error" in reply:
            self.errors += 1
            reply = {"error": _scrub(str(reply["error"]), secrets)}
            label = reply["error"][:120]
        else:
            label = "ok"
        logger.debug(
            "fmz: %s %s -> %s (%.1f ms)",
            request.method,
            request.path[:40],
            label,
            (time.monotonic() - started) * 1e3,
        )
        return web.Response(
            body=_json.dumps(reply).encode(),
            status=200,
            content_type="application/json",
            charset="utf-8",
        )

    async def _read_body(self, request: web.Request) -> bytes:
        length = request.content_length
        if length is not None and length > self.max_body:
            raise BridgeError(f"request body too large ({length} bytes, limit {self.max_body})")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = await request.content.readany()
            if not chunk:
                break
            size += len(chunk)
            if size > self.max_body:
                raise BridgeError(f"request body too large (limit {self.max_body} bytes)")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _answer(self, request: web.Request, secrets: list[str]) -> dict[str, Any]:
        if request.method != "POST":
            return {"error": f"{request.method[:10]} not supported: the FMZ protocol uses POST"}
        name = request.match_info.get("name")
        adapter_class = self.adapters.get(name.lower()) if name else None
        if adapter_class is None:
            served = ", ".join("/" + cls.name for cls in dict.fromkeys(self.adapters.values()))
            return {"error": f"unknown exchange {request.path[:40]!r}: this bridge serves {served}"}
        body = await self._read_body(request)
        try:
            payload = _json.loads(body)
        except (ValueError, UnicodeDecodeError):
            # Never quote the body: it carries the secret key.
            return {"error": "invalid JSON in the request body"}
        if not isinstance(payload, dict):
            return {"error": "the request body must be a JSON object"}
        access_key = payload.get("access_key")
        secret_key = payload.get("secret_key")
        if not isinstance(access_key, str) or not isinstance(secret_key, str):
            field = "access_key" if not isinstance(access_key, str) else "secret_key"
            problem = "missing" if payload.get(field) is None else "not a string"
            return {"error": f"{field} is {problem}"}
        secrets.extend([access_key, secret_key, *secret_key.split(",")])
        method = payload.get("method")
        if not isinstance(method, str) or not method:
            return {"error": "method is missing or not a string"}
        params = payload.get("params", {})
        if params is None:
            params = {}
        if not isinstance(params, dict):
            return {"error": "params must be a JSON object"}
        nonce = payload.get("nonce")
        if nonce is not None and (isinstance(nonce, bool) or not isinstance(nonce, (int, str))):
            return {"error": "nonce must be an integer"}
        canonical_method(method)  # unknown names: "not support" before any session
        adapter = await self.pool.get(adapter_class, access_key, secret_key)
        data = await dispatch(
            adapter,
            method,
            params,
            body=payload,
            http_method=request.headers.get("Http-Method"),
        )
        return {"data": data}


async def serve_fmz(
    stop: asyncio.Event | None = None,
    adapters: Mapping[str, type[ExchangeAdapter]] | None = None,
    **options: Any,
) -> None:
    """Run an :class:`FMZBridge` until ``stop`` is set (forever without one).

    ``options`` are :class:`FMZBridge`'s keyword arguments.
    """
    async with FMZBridge(adapters, **options):
        await (stop or asyncio.Event()).wait()
