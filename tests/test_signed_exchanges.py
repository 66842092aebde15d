"""The Client against fake exchanges that verify signatures independently.

For every exchange: a real :class:`datastores.Client` sends signed GET and POST
requests through ``redirects`` to :class:`SignedServer` on 127.0.0.1, which must
accept them; then requests are tampered with (body, query, method, timestamp or a
replayed nonce) and the server must refuse them with the exchange's error shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from yarl import URL

from datastores._client import Client
from datastores._credentials import Credentials
from datastores._registry import http_auth_by_host
from datastores._request import Auth, PreparedRequest, build_url, prepare_request, redirect_url
from datastores.testing import VirtualClock
from datastores.testing._signed_server import SignedServer
from datastores.testing._verify import FakeKey

KEY, SECRET, PASSPHRASE = "FAKEKEY", "FAKESECRET", "FAKEPASS"
HL_PRIVATE_KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
HL_ADDRESS = "0x14791697260e4c9a71f18484c9f997b308e59325"


@dataclass(frozen=True)
class Case:
    scheme: str
    credential: str
    get_url: str | None
    post_url: str
    post_data: Any = field(default_factory=lambda: {"size": "1", "note": "TAMPERME"})
    tampers: tuple[str, ...] = ("body", "query", "method", "timestamp")
    error: Callable[[int, Any], bool] = lambda status, body: status >= 400
    passphrase: str = ""


def _okx_error(status: int, body: Any) -> bool:
    return status == 401 and body["code"] in {"50113", "50102"}


CASES = [
    Case(
        "bitflyer",
        "bitflyer",
        "https://api.bitflyer.com/v1/me/getbalance?symbol=AAA",
        "https://api.bitflyer.com/v1/me/sendchildorder",
        error=lambda s, b: s == 401 and b["status"] == -500,
    ),
    Case(
        "gmocoin",
        "gmocoin",
        "https://api.coin.z.com/private/v1/account/assets",
        "https://api.coin.z.com/private/v1/order",
        tampers=("body", "method", "timestamp"),
        error=lambda s, b: b["status"] == 5 and b["messages"][0]["message_code"].startswith("ERR-"),
    ),
    Case(
        "bitbank",
        "bitbank",
        "https://api.bitbank.cc/v1/user/assets?symbol=AAA",
        "https://api.bitbank.cc/v1/user/spot/order",
        error=lambda s, b: b["success"] == 0 and b["data"]["code"] == 20001,
    ),
    Case(
        "coincheck",
        "coincheck",
        "https://coincheck.com/api/exchange/orders/opens?symbol=AAA",
        "https://coincheck.com/api/exchange/orders",
        tampers=("body", "query", "replay"),
        error=lambda s, b: s == 401 and b["success"] is False,
    ),
    Case(
        "okj",
        "okj",
        "https://www.okcoin.jp/api/spot/v3/accounts?symbol=AAA",
        "https://www.okcoin.jp/api/spot/v3/orders",
        passphrase=PASSPHRASE,
        error=lambda s, b: s == 401 and b["code"] == 30013,
    ),
    Case(
        "bittrade",
        "bittrade",
        "https://api-cloud.bittrade.co.jp/v1/order/openOrders?symbol=AAA",
        "https://api-cloud.bittrade.co.jp/v1/order/orders/place",
        tampers=("query", "method", "timestamp"),
        error=lambda s, b: b["status"] == "error" and b["err-code"] == "api-signature-not-valid",
    ),
    Case(
        "bybit",
        "bybit",
        "https://api.bybit.com/v5/order/realtime?symbol=AAA",
        "https://api.bybit.com/v5/order/create",
        tampers=("body", "query", "timestamp"),
        error=lambda s, b: b["retCode"] in {10002, 10004},
    ),
    Case(
        "binance",
        "binance",
        "https://api.binance.com/api/v3/openOrders?symbol=AAA",
        "https://api.binance.com/api/v3/order",
        tampers=("body", "query", "timestamp"),
        error=lambda s, b: s == 400 and b["code"] in {-1021, -1022},
    ),
    Case(
        "binance-usdsm",
        "binance",
        "https://fapi.binance.com/fapi/v1/openOrders?symbol=AAA",
        "https://fapi.binance.com/fapi/v1/order",
        tampers=("body", "query", "timestamp"),
        error=lambda s, b: s == 400 and b["code"] in {-1021, -1022},
    ),
    Case(
        "okx",
        "okx",
        "https://www.okx.com/api/v5/account/balance?symbol=AAA",
        "https://www.okx.com/api/v5/trade/order",
        passphrase=PASSPHRASE,
        error=_okx_error,
    ),
    Case(
        "phemex",
        "phemex",
        "https://api.phemex.com/orders/activeList?symbol=AAA",
        "https://api.phemex.com/orders",
        tampers=("body", "query", "timestamp"),
        error=lambda s, b: s == 401 and b["code"] == 401,
    ),
    Case(
        "bitget",
        "bitget",
        "https://api.bitget.com/api/v2/spot/trade/unfilled-orders?symbol=AAA",
        "https://api.bitget.com/api/v2/spot/trade/place-order",
        passphrase=PASSPHRASE,
        error=lambda s, b: s == 400 and b["code"] in {"40008", "40009"},
    ),
    Case(
        "mexc",
        "mexc",
        "https://api.mexc.com/api/v3/openOrders?symbol=AAA",
        "https://api.mexc.com/api/v3/order",
        tampers=("query", "timestamp"),
        error=lambda s, b: s == 400 and b["code"] == 700002,
    ),
    Case(
        "mexc-futures",
        "mexc",
        "https://contract.mexc.com/api/v1/private/order/list/open_orders?symbol=AAA",
        "https://contract.mexc.com/api/v1/private/order/submit",
        tampers=("body", "query", "timestamp"),
        error=lambda s, b: b["success"] is False and b["code"] == 602,
    ),
    Case(
        "kucoin",
        "kucoin",
        "https://api.kucoin.com/api/v1/orders?symbol=AAA",
        "https://api.kucoin.com/api/v1/orders",
        passphrase=PASSPHRASE,
        error=lambda s, b: s == 401 and b["code"] in {"400002", "400005"},
    ),
    Case(
        "bitmex",
        "bitmex",
        "https://www.bitmex.com/api/v1/order?symbol=AAA",
        "https://www.bitmex.com/api/v1/order",
        error=lambda s, b: s == 401 and b["error"]["name"] == "HTTPError",
    ),
    Case(
        "hyperliquid",
        "hyperliquid",
        None,
        "https://api.hyperliquid.xyz/exchange",
        post_data={"action": {"type": "dummy", "note": "TAMPERME"}},
        tampers=("body", "timestamp"),
        error=lambda s, b: b["status"] == "err",
    ),
]


def _apis(case: Case) -> dict[str, list[str]]:
    if case.scheme == "hyperliquid":
        return {case.credential: [HL_PRIVATE_KEY]}
    entry = [KEY, SECRET] + ([case.passphrase] if case.passphrase else [])
    return {case.credential: entry}


def _keys(case: Case) -> dict[str, FakeKey]:
    if case.scheme == "hyperliquid":
        return {HL_ADDRESS: FakeKey(HL_ADDRESS, HL_PRIVATE_KEY)}
    return {KEY: FakeKey(KEY, SECRET, case.passphrase)}


@pytest.mark.parametrize("case", CASES, ids=[c.scheme for c in CASES])
async def test_client_requests_pass_the_exchange_checks(case: Case) -> None:
    clock = VirtualClock()
    async with SignedServer(case.scheme, _keys(case), clock=clock.time) as server:
        async with Client(_apis(case), redirects=server.redirects, clock=clock) as client:
            if case.get_url is not None:
                got = await client.fetch("GET", case.get_url)
                assert got.response.status == 200, got.text
                assert got.data["ok"] is True
                assert got.data["path"] == URL(case.get_url).path
            clock.advance(1.0)  # a later request: Coincheck nonces must grow
            posted = await client.fetch("POST", case.post_url, data=case.post_data)
            assert posted.response.status == 200, posted.text
            assert "TAMPERME" in posted.data["body"] + posted.data["query"]
        assert server.rejected == []


@pytest.mark.parametrize("case", [c for c in CASES if c.get_url], ids=lambda c: c.scheme)
async def test_params_with_reserved_characters_are_signed_as_sent(case: Case) -> None:
    # Spaces, '+', '/', ',', ':', '%', non-ASCII and booleans in params: the signature
    # must cover the query exactly as it goes on the wire (Phemex signed yarl's
    # decoding, where '+' reads as a space, instead of its documented rule).
    assert case.get_url is not None
    clock = VirtualClock()
    params = {"note": "a b+c/d,e:f%g é~*'()", "flag": True, "n": 1.5}
    async with SignedServer(case.scheme, _keys(case), clock=clock.time) as server:
        async with Client(_apis(case), redirects=server.redirects, clock=clock) as client:
            got = await client.fetch("GET", case.get_url + "&pre=%2C%20x", params=params)
            assert got.response.status == 200, (got.text, server.rejected)
            clock.advance(1.0)
            posted = await client.fetch(
                "POST", case.post_url, params={"q": "a b+c"}, data={"size": "1", "n": "x y+z&="}
            )
            assert posted.response.status == 200, (posted.text, server.rejected)
        assert server.rejected == []


def _prepared(case: Case, method: str, url: str, data: Any, now: float) -> PreparedRequest:
    name = case.credential
    entry = _apis(case)[name]
    if len(entry) == 1:
        credentials = Credentials(name, "", entry[0])
    else:
        credentials = Credentials(name, entry[0], entry[1], entry[2] if len(entry) > 2 else "")
    return prepare_request(
        method,
        build_url("", url),
        data=data,
        headers=None,
        auth=Auth,
        credentials={name: credentials},
        table=http_auth_by_host(),
        now=now,
    )


async def _send(
    session: aiohttp.ClientSession,
    server: SignedServer,
    prepared: PreparedRequest,
    *,
    method: str | None = None,
    url: URL | None = None,
    body: bytes | None = None,
) -> tuple[int, Any]:
    target = redirect_url(url or prepared.url, {server.host: URL(server.base_url)})
    async with session.request(
        method or prepared.method,
        target,
        headers=prepared.headers,
        data=prepared.body if body is None else body,
    ) as response:
        return response.status, await response.json(content_type=None)


def _tampers() -> list[tuple[Case, str]]:
    return [(case, kind) for case in CASES for kind in case.tampers]


@pytest.mark.parametrize(
    ("case", "kind"), _tampers(), ids=[f"{c.scheme}-{k}" for c, k in _tampers()]
)
async def test_tampered_requests_are_refused(case: Case, kind: str) -> None:
    clock = VirtualClock()
    server = SignedServer(case.scheme, _keys(case), clock=clock.time)
    async with server, aiohttp.ClientSession() as session:
        status, body = await _tamper(case, kind, server, session, clock.time())
    assert case.error(status, body), (status, body)
    assert server.rejected, "the server should have recorded a rejection"


async def _tamper(
    case: Case, kind: str, server: SignedServer, session: aiohttp.ClientSession, now: float
) -> tuple[int, Any]:
    """Send one request altered by ``kind``; returns the server's answer."""
    use_get = kind in ("query", "method") and case.get_url is not None
    method, url, data = (
        ("GET", case.get_url, None) if use_get else ("POST", case.post_url, case.post_data)
    )
    assert url is not None
    if kind == "timestamp":
        return await _send(session, server, _prepared(case, method, url, data, now - 3 * 86_400))
    # Untouched, the request passes: the refusal that follows is due to the change.
    prepared = _prepared(case, method, url, data, now)
    status, body = await _send(session, server, prepared)
    assert status == 200, body
    if kind == "replay":
        return await _send(session, server, prepared)
    prepared = _prepared(case, method, url, data, now + 1)
    if kind == "body":
        altered = (prepared.body or b"").replace(b"TAMPERME", b"TAMPERED")
        return await _send(session, server, prepared, body=altered)
    if kind == "query":
        raw = prepared.url.raw_query_string.replace("AAA", "BBB")
        if raw == prepared.url.raw_query_string:
            raw = raw.replace("TAMPERME", "TAMPERED")
        altered_url = prepared.url.with_query(None).with_query(raw)
        return await _send(session, server, prepared, url=altered_url)
    assert kind == "method"
    return await _send(session, server, prepared, method="DELETE")


async def test_okx_demo_keys_follow_the_simulated_trading_header() -> None:
    clock = VirtualClock()
    keys = {
        "LIVE": FakeKey("LIVE", "LIVESECRET", "P"),
        "DEMO": FakeKey("DEMO", "DEMOSECRET", "P", demo=True),
    }
    apis = {"okx": ["LIVE", "LIVESECRET", "P"], "okx_demo": ["DEMO", "DEMOSECRET", "P"]}
    url = "https://www.okx.com/api/v5/account/balance"
    async with SignedServer("okx", keys, clock=clock.time) as server:
        async with Client(apis, redirects=server.redirects, clock=clock) as client:
            live = await client.fetch("GET", url)
            demo = await client.fetch("GET", url, headers={"x-simulated-trading": "1"})
        async with Client({"okx": apis["okx"]}, redirects=server.redirects, clock=clock) as client:
            wrong = await client.fetch("GET", url, headers={"x-simulated-trading": "1"})
    assert (live.response.status, demo.response.status) == (200, 200)
    # Without okx_demo credentials the demo request goes unsigned and is refused.
    assert wrong.response.status == 401


async def test_bitget_demo_keys_follow_the_paptrading_header() -> None:
    clock = VirtualClock()
    keys = {"DEMO": FakeKey("DEMO", "DEMOSECRET", "P", demo=True)}
    apis = {"bitget_demo": ["DEMO", "DEMOSECRET", "P"]}
    server = SignedServer("bitget", keys, clock=clock.time)
    async with server, Client(apis, redirects=server.redirects, clock=clock) as client:
        result = await client.fetch(
            "POST",
            "https://api.bitget.com/api/v2/spot/trade/place-order",
            data={"symbol": "SBTCSUSDT"},
            headers={"paptrading": "1"},
        )
    assert result.response.status == 200


async def test_binance_user_stream_is_key_only_and_accepted() -> None:
    clock = VirtualClock()
    server = SignedServer("binance", {KEY: FakeKey(KEY, SECRET)}, clock=clock.time)
    apis = {"binance": [KEY, SECRET]}
    async with server, Client(apis, redirects=server.redirects, clock=clock) as client:
        result = await client.fetch("POST", "https://api.binance.com/api/v3/userDataStream")
    assert result.response.status == 200
    assert result.data["query"] == ""
    assert server.received[0].headers["X-MBX-APIKEY"] == KEY


async def test_hyperliquid_user_signed_action_recovers_the_account() -> None:
    clock = VirtualClock()
    action = {
        "type": "usdSend",
        "hyperliquidChain": "Testnet",
        "destination": "0x5e9ee1089755c3435139848e47e6635505d5a13a",
        "amount": "1",
        "time": int(clock.time() * 1000),
    }
    keys = {HL_ADDRESS: FakeKey(HL_ADDRESS, HL_PRIVATE_KEY)}
    async with (
        SignedServer(
            "hyperliquid", keys, clock=clock.time, host="api.hyperliquid-testnet.xyz"
        ) as server,
        Client(
            {"hyperliquid_testnet": [HL_PRIVATE_KEY]}, redirects=server.redirects, clock=clock
        ) as client,
    ):
        signed = await client.fetch(
            "POST", "https://api.hyperliquid-testnet.xyz/exchange", data={"action": action}
        )
        info = await client.fetch(
            "POST", "https://api.hyperliquid-testnet.xyz/info", data={"type": "allMids"}
        )
    assert signed.response.status == 200, signed.text
    assert signed.data["ok"] is True
    assert info.data["body"] == '{"type":"allMids"}'
