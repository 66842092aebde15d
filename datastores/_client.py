"""The HTTP client: one aiohttp session that signs every request by host.

``Client`` wraps one :class:`aiohttp.ClientSession`. For each request it builds
the exact URL and body, asks the exchange signer registered for the URL's host
(:mod:`datastores._request`), applies test redirects, and sends the bytes it
signed. aiohttp errors are translated into :class:`TransportError` here, in one
place. HTTP error statuses are not raised: :meth:`Client.request` returns the
response like aiohttp does, and :meth:`Client.fetch` returns a
:class:`FetchResult`; :func:`datastores._http.read_response` (used by
``DataStoreCollection.initialize``) is what raises :class:`ExchangeAPIError`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Generator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
from yarl import URL

from . import _json
from ._clock import SYSTEM_CLOCK, Clock
from ._credentials import ApisArg, Credentials, load_apis
from ._errors import ConfigurationError, TransportError
from ._http import scrub_client_error
from ._redact import register_client
from ._registry import http_auth_by_host
from ._request import Auth, ParamsArg, build_url, prepare_request, redirect_url
from ._session import (
    DEFAULT_HTTP_CONNECTIONS,
    DEFAULT_REQUEST_TIMEOUT,
    client_timeout,
    connection_limit,
    same_origin_guard,
)
from ._signing import HttpAuth

if TYPE_CHECKING:
    from ._ws import WebSocketApp
    from ._ws.session import Handler

__all__ = [
    "DEFAULT_HTTP_CONNECTIONS",
    "DEFAULT_REQUEST_TIMEOUT",
    "Auth",
    "Client",
    "FetchResult",
    "NotJSONContent",
    "RequestContext",
]

logger = logging.getLogger("datastores.client")


class _Closer(Protocol):
    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class NotJSONContent:
    """Marker placed in :attr:`FetchResult.data` when the body is not JSON.

    It is always falsy, so ``if result.data:`` skips non-JSON bodies.

    Attributes:
        error: the decoding error (``None`` for an empty body).
    """

    error: Exception | None = None

    def __bool__(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A finished request: the response (body already read), its text and JSON.

    ``repr()`` shows the method, the URL without its query, the status and the
    sizes: never the query (signatures, key ids) or the body.

    Attributes:
        response: the aiohttp response (released; status and headers stay readable).
        text: the body decoded as text.
        data: the decoded JSON, or :class:`NotJSONContent` when it is not JSON.
    """

    response: aiohttp.ClientResponse
    text: str
    data: Any

    def __repr__(self) -> str:
        # Neither the query (Binance/MEXC `signature=`, BitTrade's `AccessKeyId`) nor the
        # body (a server may echo the request) is shown: reprs end up in logs and tracebacks.
        url = self.response.url
        shown = f"{url.origin()}{url.raw_path}"  # origin(): no user:password either
        return (
            f"<FetchResult {self.response.method} {shown} -> {self.response.status}, "
            f"{len(self.text)} characters of text, data: {type(self.data).__name__}>"
        )


class RequestContext:
    """What ``Client.request()`` returns: awaitable and an async context manager.

    ``await client.get(url)`` gives the :class:`aiohttp.ClientResponse` (release it
    or read it); ``async with client.get(url) as resp:`` releases it on exit.
    The request starts only when awaited or entered. ``.client`` is the
    :class:`Client`, which ``DataStoreCollection.initialize()`` remembers.
    """

    __slots__ = ("_factory", "_response", "client")

    def __init__(
        self, client: Client, factory: Callable[[], Coroutine[Any, Any, aiohttp.ClientResponse]]
    ) -> None:
        self.client = client
        self._factory = factory
        self._response: aiohttp.ClientResponse | None = None

    def __await__(self) -> Generator[Any, None, aiohttp.ClientResponse]:
        return self._factory().__await__()

    async def __aenter__(self) -> aiohttp.ClientResponse:
        self._response = await self._factory()
        return self._response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        response, self._response = self._response, None
        if response is not None:
            response.release()
            await response.wait_for_close()


class Client:
    """One aiohttp session that signs each request for the exchange its host belongs to.

    Args:
        apis: credentials: a dict ``{"bybit": ["KEY", "SECRET"], ...}``, a path to a
            JSON file of that shape, or ``None`` (then ``$DATASTORES_APIS`` names
            the file, else pybotters' ``$PYBOTTERS_APIS``, else ``./apis.json`` if
            present). See ``docs/credentials.md``.
        base_url: text put in front of relative URLs (``client.get("/v5/...")``).
        redirects: real host -> base URL of a stand-in server, e.g.
            ``{"api.binance.com": "http://127.0.0.1:8080"}``. Requests are signed
            for the real URL, then sent to the stand-in with path and query intact.
        clock: time source for signatures and background work.
        http_connections: most REST connections open at once (aiohttp's ``limit``);
            ``None`` for no limit. More requests wait for a free one. Default 100.
        ws_connections: most WebSocket connections open at once, in a pool of their
            own; ``None`` (default) for no limit.
        **session_kwargs: passed to :class:`aiohttp.ClientSession`. ``timeout`` (an
            :class:`aiohttp.ClientTimeout`, or a number: the total in seconds) bounds
            each REST request; default :data:`DEFAULT_REQUEST_TIMEOUT` (30 s total).

    Construct it inside a running event loop (``async with Client() as client``).

    Raises:
        ConfigurationError: unusable credentials (the message names the entry,
            never the secret).
    """

    def __init__(
        self,
        apis: ApisArg = None,
        base_url: str = "",
        *,
        redirects: Mapping[str, str] | None = None,
        clock: Clock = SYSTEM_CLOCK,
        http_connections: int | None = DEFAULT_HTTP_CONNECTIONS,
        ws_connections: int | None = None,
        **session_kwargs: Any,
    ) -> None:
        from . import __version__

        self._credentials: Mapping[str, Credentials] = MappingProxyType(load_apis(apis))
        register_client(self)  # errors redact these credentials while this client lives
        self._base_url = base_url
        self._redirects = {host: URL(base) for host, base in (redirects or {}).items()}
        self._clock = clock
        self._closers: list[_Closer] = []
        self._closed = False
        headers = dict(session_kwargs.pop("headers", None) or {})
        if not any(name.lower() == "user-agent" for name in headers):
            headers["User-Agent"] = f"datastores/{__version__}"
        self._middlewares: tuple[Any, ...] = tuple(session_kwargs.get("middlewares") or ())
        given_timeout = session_kwargs.pop("timeout", None)
        timeout = client_timeout(given_timeout)
        http_limit = connection_limit("http_connections", http_connections)
        self._ws_limit = connection_limit("ws_connections", ws_connections)
        connector = session_kwargs.pop("connector", None)
        if connector is not None and http_connections != DEFAULT_HTTP_CONNECTIONS:
            raise ConfigurationError(
                "pass either connector= or http_connections=, not both: the connector "
                "sets its own limit"
            )
        # WebSockets get a session (and a connection pool) of their own, created on the
        # first ws_connect: in one pool, 100 open sockets made every REST request wait.
        # It keeps aiohttp's handshake timeout unless the caller gave one.
        self._ws_session_kwargs: dict[str, Any] = {
            "headers": headers,
            **{k: v for k, v in session_kwargs.items() if k != "connector_owner"},
        }
        if given_timeout is not None:
            self._ws_session_kwargs["timeout"] = timeout
        self._ws_session: aiohttp.ClientSession | None = None
        if connector is None:
            connector = aiohttp.TCPConnector(limit=http_limit)
        self._session = aiohttp.ClientSession(
            headers=headers, timeout=timeout, connector=connector, **session_kwargs
        )

    # -- properties -------------------------------------------------------------

    @property
    def session(self) -> aiohttp.ClientSession:
        """The :class:`aiohttp.ClientSession` of REST requests (``http_connections``)."""
        return self._session

    @property
    def ws_session(self) -> aiohttp.ClientSession:
        """The :class:`aiohttp.ClientSession` WebSockets connect with (own pool).

        Created on first use, limited to ``ws_connections``, closed with the client.

        Raises:
            RuntimeError: the client is closed.
        """
        if self._ws_session is None:
            if self._closed:
                raise RuntimeError("datastores.Client is closed")
            self._ws_session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._ws_limit), **self._ws_session_kwargs
            )
        return self._ws_session

    @property
    def credentials(self) -> Mapping[str, Credentials]:
        """Loaded credentials by name (read-only)."""
        return self._credentials

    @property
    def clock(self) -> Clock:
        """The clock used for signatures and background work."""
        return self._clock

    @property
    def base_url(self) -> str:
        """Text put in front of relative request URLs."""
        return self._base_url

    @property
    def redirects(self) -> Mapping[str, URL]:
        """Real host -> stand-in base URL (read-only)."""
        return MappingProxyType(self._redirects)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._closed

    def __repr__(self) -> str:
        names = ", ".join(sorted(self._credentials)) or "none"
        state = "closed" if self._closed else "open"
        return f"<Client {state} base_url={self._base_url!r} credentials=[{names}]>"

    # -- lifecycle --------------------------------------------------------------

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def add_closer(self, obj: _Closer) -> None:
        """Register background work to stop when the client closes.

        ``obj.aclose()`` is awaited by :meth:`close` (latest registered first),
        before the session closes, so no task outlives the client.

        Raises:
            RuntimeError: the client is already closed.
        """
        if self._closed:
            raise RuntimeError("datastores.Client is closed; cannot register more background work")
        self._closers.append(obj)

    def remove_closer(self, obj: _Closer) -> None:
        """Forget ``obj`` (it closed by itself). Unknown objects are ignored."""
        try:
            self._closers.remove(obj)
        except ValueError:
            pass

    async def close(self) -> None:
        """Stop every registered closer, then close the sessions. Idempotent.

        Cancelled midway (a timeout around the shutdown), it still runs the other
        closers and closes the session, then re-raises the cancellation.
        """
        if self._closed:
            return
        self._closed = True
        closers, self._closers = self._closers[::-1], []
        cancelled: asyncio.CancelledError | None = None
        for closer in closers:
            try:
                await closer.aclose()
            except asyncio.CancelledError as exc:
                # Cancelled mid-shutdown (a timeout around it): finish closing, then re-raise.
                cancelled = exc
            except Exception:
                # One failing closer must not keep the others (or the session) open.
                logger.exception("closing %r failed", type(closer).__name__)
        for session in (self._ws_session, self._session):
            if session is None:
                continue
            try:
                await session.close()
            except asyncio.CancelledError as exc:
                cancelled = exc
        if cancelled is not None:
            raise cancelled

    # -- URLs ------------------------------------------------------------------

    def resolve_url(self, url: str | URL) -> URL:
        """Apply ``redirects`` to ``url`` (path and query kept exactly).

        Relative URLs are first resolved against ``base_url``.
        """
        return redirect_url(build_url(self._base_url, url), self._redirects)

    # -- requests ----------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str | URL,
        *,
        params: ParamsArg = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: Any = Auth,
        **kwargs: Any,
    ) -> RequestContext:
        """Send one request, signed for the URL's host unless ``auth=None``.

        Args:
            method: HTTP method.
            url: absolute URL, or relative to ``base_url``.
            params: query parameters, merged after any query already in ``url``.
            data: the body. A mapping is encoded the way the host's exchange signs
                it (JSON or form); ``bytes``/``str`` are sent as given. For hosts no
                signer knows, aiohttp encodes it as usual.
            headers: extra headers (some signers read them, e.g. Bybit's
                ``X-BAPI-RECV-WINDOW``, OKX's ``x-simulated-trading``).
            auth: :data:`Auth` (default) signs by host; ``None`` sends unsigned.
            **kwargs: other :meth:`aiohttp.ClientSession.request` arguments
                (``timeout``, ...). ``json=`` is refused for signed hosts.

        Returns:
            A :class:`RequestContext`; the response status is not checked.

        Raises:
            TransportError: the network failed (aiohttp's error is chained), or a
                signed request was redirected to another origin (refused before
                anything is sent there; same-origin redirects are followed).
            ConfigurationError: bad arguments.
        """

        async def send() -> aiohttp.ClientResponse:
            return await self._send(method, url, params, data, headers, auth, kwargs)

        return RequestContext(self, send)

    def get(self, url: str | URL, *, params: ParamsArg = None, **kwargs: Any) -> RequestContext:
        """``request("GET", ...)``."""
        return self.request("GET", url, params=params, **kwargs)

    def post(self, url: str | URL, *, data: Any = None, **kwargs: Any) -> RequestContext:
        """``request("POST", ...)``."""
        return self.request("POST", url, data=data, **kwargs)

    def put(self, url: str | URL, *, data: Any = None, **kwargs: Any) -> RequestContext:
        """``request("PUT", ...)``."""
        return self.request("PUT", url, data=data, **kwargs)

    def delete(self, url: str | URL, *, data: Any = None, **kwargs: Any) -> RequestContext:
        """``request("DELETE", ...)``."""
        return self.request("DELETE", url, data=data, **kwargs)

    async def fetch(
        self,
        method: str,
        url: str | URL,
        *,
        params: ParamsArg = None,
        data: Any = None,
        **kwargs: Any,
    ) -> FetchResult:
        """Send a request and read the whole body; decode JSON whatever the Content-Type.

        The status is not checked: look at ``result.response.status``.

        Returns:
            :class:`FetchResult` whose ``data`` is the JSON value, or a falsy
            :class:`NotJSONContent` when the body is empty or not JSON.

        Raises:
            TransportError: the network failed while sending or reading.
        """
        async with self.request(method, url, params=params, data=data, **kwargs) as response:
            failure: TransportError | None = None
            try:
                body = await response.read()
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                failure = _transport_error(response.method, response.url, exc)
            if failure is not None:
                raise failure  # outside the except: aiohttp's unscrubbed error is not the context
        text = _decode_text(response, body)
        decoded: Any
        if not body:
            decoded = NotJSONContent(None)
        else:
            try:
                decoded = _json.loads(body)
            except ValueError as exc:
                decoded = NotJSONContent(exc)
        return FetchResult(response, text, decoded)

    async def _send(
        self,
        method: str,
        url: str | URL,
        params: ParamsArg,
        data: Any,
        headers: Mapping[str, str] | None,
        auth: Any,
        kwargs: dict[str, Any],
    ) -> aiohttp.ClientResponse:
        if self._closed:
            raise RuntimeError("datastores.Client is closed")
        table: Mapping[str, HttpAuth] = http_auth_by_host()
        real_url = build_url(self._base_url, url, params)
        if "json" in kwargs and (real_url.host or "") in table:
            raise ConfigurationError(
                f"json= is not supported for {real_url.host}: pass the body as data= so it "
                "can be signed exactly as sent"
            )
        prepared = prepare_request(
            method,
            real_url,
            data=data,
            headers=headers,
            auth=auth,
            credentials=self._credentials,
            table=table,
            now=self._clock.time(),
        )
        target = redirect_url(prepared.url, self._redirects)
        body = prepared.body if prepared.body is not None else prepared.passthrough_data
        logger.debug(
            "%s %s%s (%s)",
            prepared.method,
            prepared.url.host,
            prepared.url.raw_path,
            f"signed with {prepared.credential_name!r}" if prepared.signed else "unsigned",
        )
        if prepared.signed:
            # aiohttp re-sends every header but Authorization to wherever a redirect points:
            # our signing headers (keys, passphrases) must stay with the origin they were for.
            guard = same_origin_guard(prepared.method, prepared.url, prepared.credential_name)
            chosen = kwargs.get("middlewares")  # None: the session's, as aiohttp does
            middlewares = self._middlewares if chosen is None else tuple(chosen)
            kwargs = {**kwargs, "middlewares": (*middlewares, guard)}
        try:
            return await self._session.request(
                prepared.method,
                target,
                data=body if body != b"" else None,
                headers=prepared.headers,
                **kwargs,
            )
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            failure = _transport_error(prepared.method, prepared.url, exc)
        raise failure  # outside the except: aiohttp's unscrubbed error is not the context

    # -- WebSocket ---------------------------------------------------------------

    async def ws_connect(
        self,
        url: str | URL,
        *,
        send_str: str | Sequence[str] | None = None,
        send_bytes: bytes | Sequence[bytes] | None = None,
        send_json: Any = None,
        hdlr_str: Handler | Sequence[Handler] | None = None,
        hdlr_bytes: Handler | Sequence[Handler] | None = None,
        hdlr_json: Handler | Sequence[Handler] | None = None,
        auth: Any = Auth,
        heartbeat: float | None = 10.0,
        **kwargs: Any,
    ) -> WebSocketApp:
        """Open a reconnecting WebSocket application (see ``docs/websocket.md``).

        Returns once the first connection is open, authenticated and subscribed;
        the returned :class:`~datastores.WebSocketApp` is closed with the client.
        ``send_json`` is any JSON value (or a list of them, one message each);
        handlers are called as ``handler(message, ws)``. Raises as
        :func:`datastores._ws.connect` documents.
        """
        from ._ws import connect  # loaded on first use: HTTP-only users never pay for it

        return await connect(
            self,
            url,
            send_str=send_str,
            send_bytes=send_bytes,
            send_json=send_json,
            hdlr_str=hdlr_str,
            hdlr_bytes=hdlr_bytes,
            hdlr_json=hdlr_json,
            auth=auth,
            heartbeat=heartbeat,
            **kwargs,
        )


def _decode_text(response: aiohttp.ClientResponse, body: bytes) -> str:
    if not body:
        return ""
    try:
        return body.decode(response.get_encoding(), "replace")
    except (LookupError, RuntimeError):
        # An unknown or unusable charset in Content-Type: exchanges speak UTF-8.
        return body.decode("utf-8", "replace")


def _transport_error(method: str, url: URL, exc: BaseException) -> TransportError:
    """Our error for a network failure, chained to a copy of aiohttp's without the query.

    The query is left out everywhere (message, chained error, its repr): it can
    carry signatures, listenKeys and account identifiers.
    """
    shown = f"{url.scheme}://{url.host}{url.raw_path}"
    cause = scrub_client_error(exc, shown)
    reason = str(cause) or type(exc).__name__
    if isinstance(exc, asyncio.TimeoutError):
        reason = (
            "timed out (raise the limit with timeout= on the request or the Client; "
            f"default {DEFAULT_REQUEST_TIMEOUT:g} s in all)"
        )
    error = TransportError(f"{method} {shown} failed: {type(exc).__name__}: {reason}")
    error.__cause__ = cause
    return error
