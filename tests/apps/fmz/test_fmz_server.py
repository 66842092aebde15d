"""The bridge's HTTP contract: always 200 + JSON, errors for every kind of bad input,
never a secret in a reply or a log line."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import pytest
from _fmztools import ACCESS_KEY, PASSPHRASE, SECRET, SECRETS, Agent

from datastores.apps.fmz.server import FMZBridge
from datastores.testing import FakeExchange
from datastores.testing.profiles.okx.profile import OKXProfile

GOOD_SECRET = f"{SECRET},{PASSPHRASE}"


def body(**fields: Any) -> str:
    base: dict[str, Any] = {
        "access_key": ACCESS_KEY,
        "secret_key": GOOD_SECRET,
        "method": "depth",
        "nonce": 1,
        "params": {"symbol": "BTC_USDT"},
    }
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


BAD_INPUT = [
    (
        "/OKX",
        f'{{"access_key": "{ACCESS_KEY}", "secret_key": "{GOOD_SECRET}", "method": ',
        "invalid JSON",
    ),
    ("/OKX", b"\xff\xfe{", "invalid JSON"),
    ("/OKX", "[1, 2]", "must be a JSON object"),
    ("/OKX", "", "invalid JSON"),
    ("/OKX", body(access_key=...), "access_key is missing"),
    ("/OKX", body(secret_key=12), "secret_key is not a string"),
    ("/OKX", body(method=...), "method is missing"),
    ("/OKX", body(method=["depth"]), "method is missing or not a string"),
    ("/OKX", body(params="symbol=BTC_USDT"), "params must be a JSON object"),
    ("/OKX", body(nonce=1.5), "nonce must be an integer"),
    ("/OKX", body(method="GetEverything"), "not support: GetEverything"),
    (
        "/NOPE",
        body(),
        "unknown exchange '/NOPE': this bridge serves /OKX, /Binance, /BinanceFutures, /Bybit, "
        "/Bitget, /BitgetFutures",
    ),
    ("/OKX/extra", body(), "unknown exchange"),
    ("/OKX", body(params={}), "missing param 'symbol'"),
    ("/OKX", body(params={"symbol": 5}), "param 'symbol' must be a string"),
    ("/OKX", body(params={"symbol": "BTCUSDT"}), "invalid symbol 'BTCUSDT'"),
    ("/OKX", body(params={"symbol": "BTC_USDT.quarter"}), "not supported on OKX"),
    ("/OKX", body(params={"symbol": "BTC_USDT", "limit": "ten"}), "param 'limit' is not a number"),
    ("/OKX", body(params={"symbol": "BTC_USDT", "limit": "1.5"}), "whole number"),
    ("/OKX", body(params={"symbol": "BTC_USDT", "limit": True}), "must be a number"),
    ("/OKX", body(secret_key=SECRET), "'<secret>,<passphrase>'"),
    (
        "/OKX",
        body(
            method="trade", params={"symbol": "BTC_USDT", "type": "up", "amount": "1", "price": "1"}
        ),
        "param 'type'",
    ),
    (
        "/OKX",
        body(
            method="trade",
            params={"symbol": "BTC_USDT", "type": "buy", "amount": "-1", "price": "1"},
        ),
        "'amount' must be positive",
    ),
    (
        "/OKX",
        body(
            method="trade",
            params={"symbol": "BTC_USDT", "type": "closebuy", "amount": "1", "price": "1"},
        ),
        "spot orders are buy or sell",
    ),
    (
        "/OKX",
        body(
            method="trade",
            params={"symbol": "BTC_USDT", "type": "buy", "amount": "1", "price": "NaN"},
        ),
        "must be finite",
    ),
    ("/OKX", body(method="cancel", params={"id": "12345"}), "invalid order id"),
    (
        "/OKX",
        body(method="order", params={"id": "BTC/USDT,1"}),
        "not an OKX spot or swap instrument",
    ),
    ("/OKX", body(method="__api_/api/v5/account/balance"), "Http-Method header"),
]


@pytest.mark.parametrize(("path", "payload", "expected"), BAD_INPUT)
async def test_bad_input_gets_200_and_an_error(
    okx_agent: Agent, path: str, payload: str | bytes, expected: str
) -> None:
    reply = await okx_agent.post(path, payload)
    assert set(reply) == {"error"}
    assert expected in reply["error"]
    # The server is still fine.
    assert "data" in await okx_agent.call("depth", {"symbol": "BTC_USDT", "limit": "1"})


async def test_other_verbs_and_oversized_bodies(okx_fake: FakeExchange) -> None:
    async with (
        FMZBridge(port=0, max_body=2048, client_kwargs={"redirects": okx_fake.redirects}) as bridge,
        aiohttp.ClientSession() as session,
    ):
        for verb in ("GET", "PUT", "DELETE"):
            async with session.request(verb, bridge.url + "/OKX") as response:
                assert response.status == 200
                assert "the FMZ protocol uses POST" in (await response.json())["error"]
        big = body(params={"symbol": "BTC_USDT", "pad": "x" * 5000})
        async with session.post(bridge.url + "/OKX", data=big) as response:
            assert response.status == 200
            reply = await response.json()
        assert "too large" in reply["error"]

        async def chunks() -> Any:
            for _ in range(10):
                yield b" " * 1000  # no Content-Length: counted while read

        async with session.post(bridge.url + "/OKX", data=chunks()) as response:
            assert "too large" in (await response.json())["error"]
        agent = Agent(bridge.url, session, secret_key=GOOD_SECRET)
        assert "data" in await agent.call("depth", {"symbol": "BTC_USDT", "limit": "1"})


def test_remote_hosts_need_an_explicit_opt_in() -> None:
    with pytest.raises(ValueError, match="allow_remote"):
        FMZBridge(host="0.0.0.0")
    FMZBridge(host="0.0.0.0", allow_remote=True)
    FMZBridge(host="::1")


async def test_slow_requests_time_out(okx_fake: FakeExchange) -> None:
    # A book that cannot sync (no WS snapshot, REST snapshots failing) makes depth wait
    # for its sync longer than a request may take.
    profile = okx_fake.venues["okx"].profile
    assert isinstance(profile, OKXProfile)
    profile.ws_snapshots = False
    okx_fake.fail_rest(503, times=1000, path="/api/v5/market/books")
    async with (
        FMZBridge(
            port=0,
            request_timeout=0.3,
            sync_timeout=5.0,
            client_kwargs={"redirects": okx_fake.redirects},
        ) as bridge,
        aiohttp.ClientSession() as session,
    ):
        agent = Agent(bridge.url, session, secret_key=GOOD_SECRET)
        assert await agent.error("depth", {"symbol": "ETH_USDT"}) == "timed out after 0.3 s"
        assert bridge.errors == 1


async def test_no_secret_in_any_reply_or_log(
    okx_fake: FakeExchange, captured_logs: pytest.LogCaptureFixture
) -> None:
    okx_fake.set_balance("USDT", "1000", venue="okx")
    async with (
        FMZBridge(
            port=0, sync_timeout=1.0, client_kwargs={"redirects": okx_fake.redirects}
        ) as bridge,
        aiohttp.ClientSession() as session,
    ):
        agent = Agent(bridge.url, session, secret_key=GOOD_SECRET)
        wrong = Agent(bridge.url, session, secret_key=f"{SECRET}X,{PASSPHRASE}")
        calls = [
            agent.call("depth", {"symbol": "BTC_USDT"}),
            agent.call("accounts"),
            agent.call("orders", {"symbol": "BTC_USDT"}),
            agent.call("positions"),
            agent.call("__api_/api/v5/account/balance", headers={"Http-Method": "GET"}),
            agent.call("__api_/api/v5/asset/withdrawal", headers={"Http-Method": "POST"}),
            agent.call("trade", {"symbol": "BTC_USDT", "type": "buy", "amount": "x", "price": "1"}),
            wrong.call("accounts"),
            wrong.call("orders"),
        ]
        await asyncio.gather(*calls)
        for payload in (body()[:-5], body(secret_key=SECRET), body(method=SECRET)):
            await agent.post("/OKX", payload)
    texts = agent.replies + wrong.replies + [r.getMessage() for r in captured_logs.records]
    texts += [str(r.args) for r in captured_logs.records]
    texts += [r.exc_text or "" for r in captured_logs.records]
    texts += [captured_logs.text]
    assert any("accounts" in t or "currency" in t for t in agent.replies)
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
        assert "c0ffee5e11" not in text  # no part of it either
    assert any(r.levelno >= logging.DEBUG for r in captured_logs.records)


async def test_a_slow_request_does_not_hold_up_the_others(okx_fake: FakeExchange) -> None:
    profile = okx_fake.venues["okx"].profile
    assert isinstance(profile, OKXProfile)
    profile.ws_snapshots = False  # books sync from REST, which fails
    okx_fake.fail_rest(503, times=1000, path="/api/v5/market/books")
    async with (
        FMZBridge(
            port=0, sync_timeout=30.0, client_kwargs={"redirects": okx_fake.redirects}
        ) as bridge,
        aiohttp.ClientSession() as session,
    ):
        agent = Agent(bridge.url, session, secret_key=GOOD_SECRET)
        slow = asyncio.ensure_future(agent.call("depth", {"symbol": "ETH_USDT"}))
        fast = asyncio.ensure_future(agent.call("ticker", {"symbol": "BTC_USDT"}))
        done, _ = await asyncio.wait({slow, fast}, return_when=asyncio.FIRST_COMPLETED)
        assert done == {fast}
        assert "data" in fast.result()
        assert not slow.done()
        slow.cancel()


async def test_sessions_per_key_pair_are_bounded(okx_fake: FakeExchange) -> None:
    depth = {"symbol": "BTC_USDT", "limit": "1"}
    for idle_timeout, third_gets_in in ((3600.0, False), (0.0, True)):
        async with (
            FMZBridge(
                port=0,
                max_sessions=2,
                idle_timeout=idle_timeout,
                client_kwargs={"redirects": okx_fake.redirects},
            ) as bridge,
            aiohttp.ClientSession() as session,
        ):
            agents = [
                Agent(bridge.url, session, access_key=f"key-{i}", secret_key=f"s-{i},p-{i}")
                for i in range(3)
            ]
            # Public data needs no valid keys; each key pair is a session of its own.
            await agents[0].data("depth", depth)
            await agents[1].data("depth", depth)
            await agents[1].data("depth", depth)
            assert len(bridge.pool) == 2
            reply = await agents[2].call("depth", depth)
            if third_gets_in:
                assert "data" in reply
                assert len(bridge.pool) == 2  # the session idle longest (key-0) was closed
                await agents[1].data("depth", depth)
            else:
                assert reply["error"].startswith("too many key pairs (2) in use")
                await agents[0].data("depth", depth)
