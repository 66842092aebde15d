"""datastores.Client against real aiohttp servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import traceback
import types
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from datastores import DataStoreCollection
from datastores._client import (
    DEFAULT_HTTP_CONNECTIONS,
    DEFAULT_REQUEST_TIMEOUT,
    Client,
    FetchResult,
    NotJSONContent,
    RequestContext,
)
from datastores._errors import ConfigurationError, TransportError
from datastores._request import Auth
from datastores.testing import VirtualClock


class Echo:
    """A loopback server that answers with what it received."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.hold = asyncio.Event()
        self.base = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        record = {
            "method": request.method,
            "path": request.raw_path.split("?", 1)[0],
            "query": request.rel_url.raw_query_string,
            "body": body.decode(),
            "content_type": request.headers.get("Content-Type"),
            "headers": dict(request.headers),
        }
        self.requests.append(record)
        if request.path == "/text":
            return web.Response(text="plain words")
        if request.path == "/badcharset":
            return web.Response(
                body="é".encode(), headers={"Content-Type": "text/plain; charset=bogus"}
            )
        if request.path == "/empty":
            return web.Response(body=b"")
        if request.path == "/error":
            return web.json_response({"code": -1, "msg": "nope"}, status=500)
        if request.path == "/hang":
            await self.hold.wait()
        return web.json_response({k: v for k, v in record.items() if k != "headers"})


@pytest.fixture
async def echo() -> AsyncIterator[Echo]:
    server = Echo()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.base = f"http://127.0.0.1:{port}"
    yield server
    server.hold.set()
    await runner.cleanup()


async def test_request_is_awaitable_and_a_context_manager_carrying_the_client(echo: Echo) -> None:
    async with Client({}, base_url=echo.base) as client:
        context = client.get("/a")
        assert isinstance(context, RequestContext)
        assert context.client is client
        response = await context
        assert response.status == 200
        assert (await response.json())["path"] == "/a"
        async with client.post("/b", data={"x": "1"}) as response:
            assert (await response.json())["body"] == "x=1"
        assert response.closed


async def test_base_url_and_params_merge(echo: Echo) -> None:
    async with Client({}, base_url=echo.base) as client:
        result = await client.fetch("GET", "/p?a=1", params={"b": "2", "c": True, "d": False})
        assert result.data["query"] == "a=1&b=2&c=true&d=false"
        absolute = await client.fetch("GET", f"{echo.base}/abs", params=[("z", 1), ("z", 2)])
        assert absolute.data["path"] == "/abs"
        assert absolute.data["query"] == "z=1&z=2"


async def test_relative_url_without_base_url_is_a_clear_error() -> None:
    async with Client({}) as client:
        with pytest.raises(ConfigurationError, match="not absolute"):
            await client.get("/relative")


async def test_fetch_decodes_json_or_marks_non_json(echo: Echo) -> None:
    async with Client({}, base_url=echo.base) as client:
        good = await client.fetch("PUT", "/json", data={"k": "v"})
        text = await client.fetch("GET", "/text")
        empty = await client.fetch("DELETE", "/empty")
        odd = await client.fetch("GET", "/badcharset")
    assert isinstance(good, FetchResult)
    assert good.data["method"] == "PUT"
    assert text.text == "plain words"
    assert isinstance(text.data, NotJSONContent)
    assert not text.data
    assert isinstance(text.data.error, ValueError)
    assert isinstance(empty.data, NotJSONContent)
    assert empty.data.error is None
    assert odd.text == "é"


def test_json_nested_too_deep_is_refused_without_crashing_the_process() -> None:
    # orjson refuses nesting deeper than 1024; the fallback to the stdlib decoder (meant
    # for NaN and huge integers) recursed in C and, with a raised recursion limit,
    # overflowed the C stack: one frame or response from a server killed the process.
    code = (
        "import sys; sys.setrecursionlimit(1_000_000)\n"
        "from datastores import _json\n"
        "try:\n"
        "    _json.loads('[' * 200_000 + ']' * 200_000)\n"
        "except ValueError:\n"
        "    print('refused')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "refused"), done.stderr[-500:]


async def test_http_error_statuses_are_returned_not_raised(echo: Echo) -> None:
    async with Client({}, base_url=echo.base) as client:
        response = await client.get("/error")
        assert response.status == 500
        response.release()
        result = await client.fetch("GET", "/error")
    assert result.response.status == 500
    assert result.data == {"code": -1, "msg": "nope"}


async def test_redirects_keep_the_exact_path_and_query(echo: Echo) -> None:
    redirects = {"api.example-exchange.test": echo.base}
    async with Client({}, redirects=redirects) as client:
        url = URL("https://api.example-exchange.test/v1/a%2Fb?x=%2B1&y=a+b", encoded=True)
        assert client.resolve_url(url) == URL(f"{echo.base}/v1/a%2Fb?x=%2B1&y=a+b", encoded=True)
        result = await client.fetch("GET", url)
    assert result.data["path"] == "/v1/a%2Fb"
    assert result.data["query"] == "x=%2B1&y=a+b"


async def test_signed_binance_request_is_sent_byte_for_byte(echo: Echo) -> None:
    clock = VirtualClock(start=1_700_000_000.0)
    apis = {"binance": ["KEY", "SECRET"]}
    async with Client(apis, redirects={"api.binance.com": echo.base}, clock=clock) as client:
        result = await client.fetch(
            "POST",
            "https://api.binance.com/api/v3/order",
            params={"symbol": "BTC/USDT"},
            data={"side": "BUY", "note": "a b&c"},
        )
    record = echo.requests[-1]
    assert record["body"] == "side=BUY&note=a+b%26c"
    assert record["content_type"] == "application/x-www-form-urlencoded"
    assert record["query"].startswith("symbol=BTC/USDT&timestamp=1700000000000&signature=")
    assert record["headers"]["X-MBX-APIKEY"] == "KEY"
    assert result.response.status == 200


async def test_auth_none_and_unknown_hosts_are_not_signed(echo: Echo) -> None:
    apis = {"bybit": ["KEY", "SECRET"]}
    async with Client(apis, redirects={"api.bybit.com": echo.base}) as client:
        await client.fetch("GET", "https://api.bybit.com/v5/market/time", auth=None)
        await client.fetch("POST", f"{echo.base}/other", json={"k": 1})
    unsigned, other = echo.requests
    assert "X-BAPI-SIGN" not in unsigned["headers"]
    assert other["body"] == '{"k": 1}'
    assert "X-BAPI-SIGN" not in other["headers"]


async def test_argument_errors() -> None:
    async with Client({"bybit": ["KEY", "SECRET"]}) as client:
        with pytest.raises(ConfigurationError, match="data="):
            await client.post("https://api.bybit.com/v5/order/create", json={"a": 1})
        with pytest.raises(ConfigurationError, match="auth="):
            await client.get("https://api.bybit.com/v5/order/realtime", auth="yes")
        with pytest.raises(TypeError):
            Auth()


async def test_connection_failure_is_translated_and_chained() -> None:
    listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    async with Client({}) as client:
        with pytest.raises(TransportError) as info:
            await client.get(f"http://127.0.0.1:{port}/x?secret-ish=1")
    assert isinstance(info.value.__cause__, aiohttp.ClientConnectionError)
    assert "secret-ish" not in str(info.value)
    assert "GET http://127.0.0.1/x failed" in str(info.value)


async def test_redirect_loops_do_not_leak_the_query_or_headers() -> None:
    # aiohttp's TooManyRedirects names the whole URL (here a Binance listenKey) and its
    # repr shows the request headers (OKX sends the passphrase as one).
    listen_key = "LISTENKEY0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"

    async def loop_back(request: web.Request) -> web.Response:
        raise web.HTTPFound(location=str(request.rel_url))

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", loop_back)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    apis = {"binance": ["KEY", "SECRET"], "okx": ["KEY", "SECRET", "PASSPHRASE-VALUE"]}
    redirects = {"fapi.binance.com": base, "www.okx.com": base}
    errors: list[TransportError] = []
    try:
        async with Client(apis, redirects=redirects) as client:
            for url in (
                "https://fapi.binance.com/fapi/v1/listenKey",
                "https://www.okx.com/api/v5/account/balance",
            ):
                with pytest.raises(TransportError) as info:
                    await client.fetch(
                        "PUT", url, params={"listenKey": listen_key}, max_redirects=1
                    )
                errors.append(info.value)
    finally:
        await runner.cleanup()
    for error in errors:
        # Still chained to aiohttp's error, with its type...
        assert isinstance(error.__cause__, aiohttp.TooManyRedirects)
        assert "TooManyRedirects" in str(error)
        # ...but neither the message, the traceback nor any repr in the chain shows them.
        shown = "".join(traceback.format_exception(error))
        chain: BaseException | None = error
        while chain is not None:
            shown += f"{chain!s} {chain!r}"
            chain = chain.__cause__ or chain.__context__
        assert listen_key not in shown
        assert "PASSPHRASE-VALUE" not in shown


async def test_timeout_is_translated(echo: Echo) -> None:
    async with Client({}, base_url=echo.base) as client:
        with pytest.raises(TransportError, match="timed out") as info:
            await client.fetch("GET", "/hang", timeout=aiohttp.ClientTimeout(total=0.02))
    assert isinstance(info.value.__cause__, asyncio.TimeoutError)


class Recorder:
    def __init__(self, name: str, log: list[str], fail: bool = False) -> None:
        self.name, self.log, self.fail = name, log, fail

    async def aclose(self) -> None:
        self.log.append(self.name)
        if self.fail:
            raise RuntimeError("boom")


async def test_close_stops_closers_latest_first_then_the_session(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log: list[str] = []
    client = Client({})
    client.add_closer(Recorder("first", log))
    client.add_closer(Recorder("failing", log, fail=True))
    client.add_closer(Recorder("last", log))
    removed = Recorder("removed", log)
    client.add_closer(removed)
    client.remove_closer(removed)
    with caplog.at_level(logging.ERROR, logger="datastores.client"):
        await client.close()
    assert log == ["last", "failing", "first"]
    assert client.closed
    assert client.session.closed
    assert "closing 'Recorder' failed" in caplog.text
    await client.close()  # idempotent
    assert log == ["last", "failing", "first"]
    with pytest.raises(RuntimeError, match="closed"):
        client.add_closer(Recorder("late", log))
    with pytest.raises(RuntimeError, match="closed"):
        await client.get("http://127.0.0.1:9/x")


async def test_a_close_cancelled_midway_still_closes_the_session() -> None:
    # A timeout around the shutdown cancelled close() inside a slow closer: the
    # remaining closers were skipped and the aiohttp session stayed open
    # ("Unclosed client session" at exit).
    log: list[str] = []
    entered = asyncio.Event()

    class Slow:
        async def aclose(self) -> None:
            entered.set()
            await asyncio.Event().wait()

    client = Client({})
    client.add_closer(Recorder("first", log))
    client.add_closer(Slow())
    closing = asyncio.ensure_future(client.close())
    await entered.wait()
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    assert client.closed
    assert log == ["first"]  # the other closers still ran
    assert client.session.closed


async def test_user_agent_default_and_override(echo: Echo) -> None:
    async with Client({}, base_url=echo.base) as client:
        await client.fetch("GET", "/ua")
    async with Client({}, base_url=echo.base, headers={"user-agent": "mine/1"}) as client:
        await client.fetch("GET", "/ua")
    assert echo.requests[0]["headers"]["User-Agent"].startswith("datastores/")
    assert echo.requests[1]["headers"]["User-Agent"] == "mine/1"


async def test_properties() -> None:
    clock = VirtualClock()
    async with Client(
        {"bybit": ["KEY", "SECRET"]}, clock=clock, redirects={"a.test": "http://127.0.0.1:1"}
    ) as client:
        assert client.clock is clock
        assert list(client.credentials) == ["bybit"]
        with pytest.raises(TypeError):
            client.credentials["x"] = None  # type: ignore[index]
        assert client.redirects == {"a.test": URL("http://127.0.0.1:1")}
        assert isinstance(client.session, aiohttp.ClientSession)
        assert "bybit" in repr(client)
        assert client.base_url == ""


class _Collection(DataStoreCollection):
    seen: list[str]

    async def _onresponse(self, resp: Any, data: Any) -> None:
        self.seen = [resp.url.path, data["path"]]


async def test_initialize_remembers_the_client(echo: Echo) -> None:
    store = _Collection()
    async with Client({}, base_url=echo.base) as client:
        await store.initialize(client.get("/snapshot"))
    assert store.client is client
    assert store.seen == ["/snapshot", "/snapshot"]


async def test_ws_connect_delegates_to_the_websocket_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[Any, ...]] = []

    async def connect(client: Any, url: str, **kwargs: Any) -> str:
        calls.append((client, url, kwargs))
        return "app"

    fake = types.ModuleType("datastores._ws")
    fake.connect = connect  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "datastores._ws", fake)
    async with Client({}) as client:
        app = await client.ws_connect(
            "wss://x.test/ws",
            send_json={"op": "sub"},
            hdlr_json=print,
            heartbeat=5.0,
            protocols=("p",),
        )
    ((called_client, url, kwargs),) = calls
    assert called_client is client
    assert app == "app"
    assert url == "wss://x.test/ws"
    assert kwargs["send_json"] == {"op": "sub"}
    assert kwargs["hdlr_json"] is print
    assert kwargs["heartbeat"] == 5.0
    assert kwargs["auth"] is Auth
    assert kwargs["protocols"] == ("p",)


def test_ws_connect_is_typed_to_return_a_websocket_app() -> None:
    import typing

    from datastores import WebSocketApp
    from datastores._ws.session import Handler

    hints = typing.get_type_hints(
        Client.ws_connect, localns={"WebSocketApp": WebSocketApp, "Handler": Handler}
    )
    assert hints["return"] is WebSocketApp


@pytest.fixture
async def silent_base() -> AsyncIterator[str]:
    """A server that accepts TCP connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_rest_requests_have_a_default_total_timeout() -> None:
    # aiohttp's own default is 300 s: initialize() against a silent server hung that long.
    assert DEFAULT_REQUEST_TIMEOUT == 30.0
    async with Client({}) as client:
        assert client.session.timeout.total == DEFAULT_REQUEST_TIMEOUT
    async with Client({}, timeout=aiohttp.ClientTimeout(total=5, sock_connect=2)) as client:
        assert client.session.timeout == aiohttp.ClientTimeout(total=5, sock_connect=2)
    async with Client({}, timeout=7) as client:  # a number is the total, in seconds
        assert client.session.timeout.total == 7
    with pytest.raises(ConfigurationError, match="timeout"):
        Client({}, timeout="soon")


async def test_a_silent_server_gives_a_transport_error_per_client_or_request(
    silent_base: str,
) -> None:
    loop = asyncio.get_running_loop()
    async with Client({}, base_url=silent_base, timeout=0.2) as client:
        started = loop.time()
        with pytest.raises(TransportError, match="timed out") as info:
            await client.fetch("GET", "/x?q=1")
        assert loop.time() - started < 5
        assert "timeout=" in str(info.value)  # says what to change
        store = DataStoreCollection()
        with pytest.raises(TransportError, match="timed out"):
            await store.initialize(client.get("/snapshot"))
    async with Client({}, base_url=silent_base) as client:  # default 30 s, per request 0.1
        started = loop.time()
        with pytest.raises(TransportError, match="timed out"):
            await client.fetch("GET", "/x", timeout=0.1)
        assert loop.time() - started < 5


async def test_connection_limits_are_settable_and_separate() -> None:
    async with Client({}) as client:
        assert client.session.connector is not None
        assert client.session.connector.limit == DEFAULT_HTTP_CONNECTIONS == 100
        assert client.ws_session is client.ws_session  # one, created on first use
        assert client.ws_session.connector is not None
        assert client.ws_session.connector.limit == 0  # no limit
        # The 30 s REST default is not the handshake's: aiohttp's, as before.
        assert client.ws_session.timeout == aiohttp.client.DEFAULT_TIMEOUT
        assert client.ws_session.headers["User-Agent"].startswith("datastores/")
    async with Client({}, http_connections=5, ws_connections=7) as client:
        assert client.session.connector is not None
        assert client.session.connector.limit == 5
        assert client.ws_session.connector is not None
        assert client.ws_session.connector.limit == 7
    assert client.ws_session.closed
    async with Client({}, http_connections=None) as client:
        assert client.session.connector is not None
        assert client.session.connector.limit == 0
    for bad in ({"http_connections": 0}, {"ws_connections": -1}, {"ws_connections": 1.5}):
        with pytest.raises(ConfigurationError, match="connections"):
            Client({}, **bad)
    connector = aiohttp.TCPConnector(limit=3)
    with pytest.raises(ConfigurationError, match="connector"):
        Client({}, connector=connector, http_connections=4)
    async with Client({}, connector=connector) as client:
        assert client.session.connector is connector
    unused = Client({})
    await unused.close()
    with pytest.raises(RuntimeError, match="closed"):
        unused.ws_session  # noqa: B018


async def test_open_websockets_do_not_starve_rest(echo: Echo) -> None:
    # aiohttp's pool holds 100 connections: with WebSockets in the same pool the 101st
    # ws_connect and every REST request (snapshot refetches included) waited.
    count = 110

    async def hold(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/ws", hold)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"ws://127.0.0.1:{runner.addresses[0][1]}/ws"
    loop = asyncio.get_running_loop()
    try:
        async with Client({}, base_url=echo.base) as client:
            apps = await asyncio.wait_for(
                asyncio.gather(*(client.ws_connect(url, heartbeat=None) for _ in range(count))),
                timeout=30,
            )
            assert len(apps) == count
            assert all(app.current_ws is not None for app in apps)
            started = loop.time()
            result = await client.fetch("GET", "/after-websockets", timeout=5)
            assert result.data["path"] == "/after-websockets"
            assert loop.time() - started < 2
    finally:
        await runner.cleanup()
