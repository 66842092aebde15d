"""Secrets (API secret, passphrase, private key) never reach logs, reprs or errors.

Every exchange's signer runs through a real Client at DEBUG log level, against a
loopback server, together with the failure paths (network error, bad entries,
unusable private key); then every captured log record, repr and exception text is
scanned for the secret values.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from yarl import URL

from datastores._client import Client
from datastores._credentials import load_apis
from datastores._errors import DatastoresError, ExchangeAPIError, TransportError
from datastores._http import read_response
from datastores._registry import http_auth_by_host

SECRET = "SECRETVALUE0000aaaa"
PASSPHRASE = "PASSPHRASEVALUE1111"
PRIVATE_KEY = "0x" + "1f" * 32
SECRETS = (SECRET, PASSPHRASE, PRIVATE_KEY, PRIVATE_KEY[2:])

NAMES = [
    "bitflyer",
    "gmocoin",
    "bitbank",
    "coincheck",
    "okj",
    "bittrade",
    "bybit",
    "bybit_demo",
    "bybit_testnet",
    "binance",
    "binancespot_testnet",
    "binancefuture_testnet",
    "binance_demo",
    "okx",
    "okx_demo",
    "phemex",
    "phemex_testnet",
    "bitget",
    "bitget_demo",
    "mexc",
    "kucoin",
    "bitmex",
    "bitmex_testnet",
    "hyperliquid",
    "hyperliquid_testnet",
]
PASSPHRASE_NAMES = {"okj", "okx", "okx_demo", "bitget", "bitget_demo", "kucoin"}


def apis() -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for name in NAMES:
        if name.startswith("hyperliquid"):
            entries[name] = [PRIVATE_KEY]
        elif name in PASSPHRASE_NAMES:
            entries[name] = [f"KEY-{name}", SECRET, PASSPHRASE]
        else:
            entries[name] = [f"KEY-{name}", SECRET]
    return entries


def path_for(host: str) -> str:
    if "hyperliquid" in host:
        return "/exchange"
    if host == "api.coin.z.com":
        return "/private/v1/order"
    return "/api/v1/private/order"


def assert_clean(text: str, where: str) -> None:
    for value in SECRETS:
        assert value not in text, f"a secret leaked into {where}"


async def test_no_secret_in_logs_reprs_or_errors(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    received: list[dict[str, str]] = []

    async def handle(request: web.Request) -> web.Response:
        received.append(dict(request.headers))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    hosts = list(http_auth_by_host())
    texts: list[tuple[str, str]] = []
    try:
        async with Client(apis(), redirects=dict.fromkeys(hosts, base)) as client:
            texts.append(("Client repr", repr(client)))
            texts.extend((f"repr of {n}", repr(c)) for n, c in client.credentials.items())
            for host in hosts:
                result = await client.fetch(
                    "POST",
                    f"https://{host}{path_for(host)}?a=1",
                    data={"action": {"type": "dummy"}, "size": "1"},
                    headers={"x-simulated-trading": "1"} if host.endswith("okx.com") else None,
                )
                assert result.response.status == 200
    finally:
        await runner.cleanup()
    assert len(received) == len(hosts)

    errors: list[BaseException] = []
    async with Client(apis(), redirects=dict.fromkeys(hosts, "http://127.0.0.1:9")) as client:
        for host in ("www.okx.com", "api.hyperliquid.xyz", "api.kucoin.com"):
            try:
                await client.fetch(
                    "POST", f"https://{host}{path_for(host)}", data={"action": {"type": "dummy"}}
                )
            except DatastoresError as exc:
                errors.append(exc)
    bad_key = {"hyperliquid": ["0x" + "zz" * 32 + SECRET]}
    async with Client(bad_key) as client:
        try:
            await client.post(
                "https://api.hyperliquid.xyz/exchange", data={"action": {"type": "dummy"}}
            )
        except DatastoresError as exc:
            errors.append(exc)
    for broken in (
        {"okx": ["K", SECRET]},
        {"bybit": ["K", 7, SECRET]},
        {"hyperliquid": [PRIVATE_KEY, SECRET]},
    ):
        try:
            load_apis(broken)
        except DatastoresError as exc:
            errors.append(exc)
    assert len(errors) == 7

    for exc in errors:
        chain: BaseException | None = exc
        while chain is not None:
            texts.append((f"error {type(chain).__name__}", f"{chain!s} {chain!r}"))
            chain = chain.__cause__ or chain.__context__
    texts.append(("log records", caplog.text))
    texts.extend(("log record args", repr(record.args)) for record in caplog.records)
    captured = capsys.readouterr()
    texts.append(("stdout/stderr", captured.out + captured.err))
    assert any("signed with" in message for _, message in texts)  # logging did happen
    for where, text in texts:
        assert_clean(text, where)


async def test_fetch_result_repr_hides_the_signed_url_and_the_body() -> None:
    # Binance puts `signature=` in the query, BitTrade its `AccessKeyId` and `Signature`;
    # this server echoes the query into the body too.
    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"query": request.rel_url.raw_query_string})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    hosts = ("api.binance.com", "api-cloud.bittrade.co.jp")
    shown: list[str] = []
    try:
        async with Client(apis(), redirects=dict.fromkeys(hosts, base)) as client:
            for url in (
                "https://api.binance.com/api/v3/order?symbol=BTCUSDT",
                "https://api-cloud.bittrade.co.jp/v1/order/orders?symbol=btcjpy",
            ):
                result = await client.fetch("GET", url)
                query = result.data["query"]
                assert "ignature=" in query  # signed: the secret-bearing values exist
                shown.append(repr(result))
                for pair in query.split("&"):
                    name, _, value = pair.partition("=")
                    if name in ("signature", "Signature", "AccessKeyId"):
                        assert value not in repr(result), name
                # Still useful: method, status and path are shown.
                assert f"GET {base}{URL(url).path}" in repr(result)
                assert "200" in repr(result)
    finally:
        await runner.cleanup()
    assert all("KEY-" not in text for text in shown)


async def test_exchange_errors_redact_echoed_credentials_and_signatures() -> None:
    # A server that quotes the refused request (headers and query) in its error message.
    sent: list[str] = []

    async def echo_error(request: web.Request) -> web.Response:
        echoed = f"{request.method} {request.rel_url} " + " ".join(
            f"{name}: {value}" for name, value in request.headers.items()
        )
        sent.append(echoed)
        return web.json_response({"code": "50113", "msg": f"refused: {echoed}"}, status=400)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo_error)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    urls = {
        "okx": "https://www.okx.com/api/v5/account/balance?ccy=BTC",
        "bitget": "https://api.bitget.com/api/v2/spot/account/assets",
        "binance": "https://api.binance.com/api/v3/order?symbol=BTCUSDT",
        "bittrade": "https://api-cloud.bittrade.co.jp/v1/order/orders?symbol=btcjpy",
        "bybit": "https://api.bybit.com/v5/order/realtime?category=linear",
        "kucoin": "https://api.kucoin.com/api/v1/accounts",
    }
    errors: list[ExchangeAPIError] = []
    try:
        redirects = {URL(url).host or "": base for url in urls.values()}
        async with Client(apis(), redirects=redirects) as client:
            for exchange, url in urls.items():
                with pytest.raises(ExchangeAPIError) as info:
                    await read_response(await client.get(url), exchange=exchange)
                errors.append(info.value)
            # Built by an exchange module from the server's words, the same way.
            echoed = f"bad sign for key KEY-okx passphrase {PASSPHRASE} ({SECRET})"
            errors.append(
                ExchangeAPIError(exchange="okx", endpoint="GET /x", status=200, message=echoed)
            )
    finally:
        await runner.cleanup()

    # What the server saw and could echo: keys, passphrases, signatures.
    leaked = {PASSPHRASE, SECRET, *(f"KEY-{name}" for name in urls)}
    for line in sent:
        for _header, value in re.findall(
            r"(signature|Signature|AccessKeyId|OK-ACCESS-SIGN|ACCESS-SIGN|X-BAPI-SIGN"
            r"|KC-API-SIGN|KC-API-PASSPHRASE)[=:] ?([^&\s]+)",
            line,
        ):
            leaked.add(value)
    assert any(PASSPHRASE in line for line in sent)  # the echo did carry the secrets
    assert any("signature=" in line for line in sent)
    assert len(leaked) > 10
    for error in errors:
        shown = "".join(traceback.format_exception(error)) + repr(error) + repr(error.args)
        shown += f"{error.message} {error.code} {error.endpoint}"
        for value in leaked:
            assert value not in shown, f"{error.exchange}: {value[:6]}... leaked"
        assert "<redacted>" in error.message
    assert errors[0].code == "50113"
    assert errors[0].endpoint == "GET /api/v5/account/balance"


def test_redaction_keeps_ordinary_messages_readable() -> None:
    for text in (
        "Signature for this request is not valid.",
        "Invalid sign",
        "Signature: mismatched",
        "Timestamp for this request is outside of the recvWindow.",
    ):
        assert (
            ExchangeAPIError(
                exchange="binance", endpoint="GET /api/v3/order", status=400, message=text
            ).message
            == text
        )
    error = ExchangeAPIError(
        exchange="binance",
        endpoint="GET /api/v3/order",
        status=400,
        message="echo: symbol=BTCUSDT&signature=0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    )
    assert error.message == "echo: symbol=BTCUSDT&signature=<redacted>"


async def start(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.AppRunner:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


async def test_signed_requests_never_follow_a_redirect_to_another_origin() -> None:
    # The exchange's stand-in (origin A) redirects to origin B (another port, so another
    # origin): B must never see a key, a passphrase or a signature, for any signer.
    stolen: list[str] = []
    a_seen: list[str] = []

    async def thief(request: web.Request) -> web.Response:
        body = await request.read()
        stolen.append(f"{request.rel_url} {dict(request.headers)} {body!r}")
        return web.json_response({"ok": True})

    thief_runner = await start(thief)
    b_origin = f"http://127.0.0.1:{thief_runner.addresses[0][1]}"

    async def redirecting(request: web.Request) -> web.Response:
        a_seen.append(request.path)
        if request.path.startswith("/moved"):
            return web.json_response({"moved": True})
        if request.query.get("same") == "1":  # same origin, another path
            raise web.HTTPTemporaryRedirect(location="/moved" + request.path)
        # Location echoes the query (where Binance's signature travels) to the other origin.
        moved = web.HTTPFound if request.method == "GET" else web.HTTPTemporaryRedirect
        raise moved(location=f"{b_origin}{request.rel_url}")

    runner = await start(redirecting)
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    hosts = list(http_auth_by_host())
    try:
        async with Client(apis(), redirects=dict.fromkeys(hosts, base)) as client:
            for host in hosts:
                with pytest.raises(TransportError, match="another origin") as info:
                    await client.fetch(
                        "POST",
                        f"https://{host}{path_for(host)}?a=1",
                        data={"action": {"type": "dummy"}, "size": "1"},
                    )
                message = str(info.value)
                assert f"https://{host}{path_for(host)}" in message
                assert b_origin in message  # names where it was sent, not the query
                assert "a=1" not in message
                assert info.value.__cause__ is None
                assert info.value.__context__ is None
            # A GET redirected with 302 as well.
            with pytest.raises(TransportError, match="another origin"):
                await client.fetch("GET", "https://api.binance.com/api/v3/order?symbol=X")
            assert stolen == []
            # Same-origin redirects of signed requests still work.
            result = await client.fetch("GET", "https://api.bybit.com/v5/order/realtime?same=1")
            assert result.data == {"moved": True}
            # Unsigned requests follow redirects anywhere, as aiohttp does.
            result = await client.fetch("GET", "https://api.bybit.com/x", auth=None)
            assert result.data == {"ok": True}
            assert len(stolen) == 1
            assert "KEY-" not in stolen[0]
    finally:
        await runner.cleanup()
        await thief_runner.cleanup()
    assert len(a_seen) == len(hosts) + 4
