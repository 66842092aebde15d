"""Bybit and Bitget behind the bridge: every kind of bad input gets HTTP 200 and an error
naming the problem (the server keeps serving), and no key, secret or passphrase reaches
a reply or a log line, whatever is sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from _fmztools import ACCESS_KEY, PASSPHRASE, SECRET, SECRETS, Agent

from datastores.apps.fmz.server import FMZBridge
from datastores.testing import FakeExchange

#: the Secret Key as entered on FMZ, per route
SECRET_KEYS = {
    "/Bybit": SECRET,
    "/Bitget": f"{SECRET},{PASSPHRASE}",
    "/BitgetFutures": f"{SECRET},{PASSPHRASE}",
}
EXCHANGE = {"/Bybit": "Bybit", "/Bitget": "Bitget", "/BitgetFutures": "Bitget"}


@pytest.fixture
async def bridge() -> AsyncIterator[tuple[FMZBridge, aiohttp.ClientSession, FakeExchange]]:
    async with (
        FakeExchange(
            ["bybit", "bitget"],
            seed=5,
            rate=0,
            levels=50,
            api_key=ACCESS_KEY,
            api_secret=SECRET,
            api_passphrase=PASSPHRASE,
        ) as fake,
        FMZBridge(port=0, sync_timeout=5.0, client_kwargs={"redirects": fake.redirects}) as bridge,
        aiohttp.ClientSession() as session,
    ):
        yield bridge, session, fake


def body(route: str, **fields: Any) -> str:
    base: dict[str, Any] = {
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEYS[route],
        "method": "depth",
        "nonce": 1,
        "params": {"symbol": "BTC_USDT"},
    }
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


def bad_input(route: str) -> list[tuple[str, str | bytes, str]]:
    """(path, body, expected part of the error) for one route."""
    name = EXCHANGE[route]
    swap = "BTC_USDT.swap"
    supported = (
        "only spot and USDT/USDC-margined .swap" if name == "Bybit" else "only spot and USDT"
    )
    rows: list[tuple[str | bytes, str]] = [
        (body(route)[:-7], "invalid JSON"),
        (b"\xff\xfe{", "invalid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (body(route, access_key=...), "access_key is missing"),
        (body(route, secret_key=12), "secret_key is not a string"),
        (body(route, method=...), "method is missing"),
        (body(route, params="symbol=BTC_USDT"), "params must be a JSON object"),
        (body(route, nonce=1.5), "nonce must be an integer"),
        (body(route, method="GetEverything"), "not support: GetEverything"),
        (body(route, params={}), "missing param 'symbol'"),
        (body(route, params={"symbol": 5}), "param 'symbol' must be a string"),
        (body(route, params={"symbol": "BTCUSDT"}), "invalid symbol 'BTCUSDT'"),
        (body(route, params={"symbol": "BTC_USDT.quarter"}), supported),
        (body(route, params={"symbol": "BTC_USDT", "limit": "ten"}), "is not a number"),
        (body(route, params={"symbol": "BTC_USDT", "limit": True}), "must be a number"),
        (
            body(route, method="trade",
                 params={"symbol": swap, "type": "up", "amount": "1", "price": "1"}),
            "param 'type'",
        ),
        (
            body(route, method="trade",
                 params={"symbol": "BTC_USDT", "type": "closebuy", "amount": "1", "price": "1"}),
            "spot orders are buy or sell",
        ),
        (
            body(route, method="trade",
                 params={"symbol": swap, "type": "buy", "amount": "-1", "price": "1"}),
            "'amount' must be positive",
        ),
        (body(route, method="cancel", params={"id": "12345"}), "invalid order id"),
        (body(route, method="order", params={"id": "BTC/USDT,1"}), f"is not a {name} symbol"),
        (body(route, method="records", params={"symbol": "BTC_USDT", "period": "7"}), "period 7"),
        (body(route, method="fundings", params={"symbol": "BTC_USDT"}), "perpetual symbol"),
        (
            body(route, method="marginlevel", params={"symbol": "BTC_USDT", "marginLevel": "5"}),
            "set per perpetual",
        ),
        (body(route, method="__api_/v5/account/wallet-balance"), "Http-Method header"),
    ]  # fmt: skip
    if name == "Bitget":
        rows.append((body(route, secret_key=SECRET), "'<secret>,<passphrase>'"))
    return [(route, payload, expected) for payload, expected in rows]


BAD_INPUT = [row for route in SECRET_KEYS for row in bad_input(route)]


async def test_bad_input_gets_200_and_an_error(
    bridge: tuple[FMZBridge, aiohttp.ClientSession, FakeExchange],
) -> None:
    server, session, _ = bridge
    agents = {
        route: Agent(server.url, session, secret_key=secret)
        for route, secret in SECRET_KEYS.items()
    }
    for route, payload, expected in BAD_INPUT:
        agent = agents[route]
        reply = await agent.post(route, payload)
        assert set(reply) == {"error"}, (route, payload)
        assert expected in reply["error"], (route, payload, reply)
    # Every route still serves.
    for route, agent in agents.items():
        reply = await agent.call("depth", {"symbol": "BTC_USDT", "limit": "1"}, exchange=route[1:])
        assert set(reply) == {"data"}, reply
    assert all(
        secret not in reply for a in agents.values() for reply in a.replies for secret in SECRETS
    )


async def test_no_secret_in_any_reply_or_log(
    bridge: tuple[FMZBridge, aiohttp.ClientSession, FakeExchange],
    captured_logs: pytest.LogCaptureFixture,
) -> None:
    server, session, fake = bridge
    fake.set_balance("USDT", "1000", venue="bybit-spot")
    fake.set_balance("USDT", "1000", venue="bitget")
    agents, calls = [], []
    for route, secret in SECRET_KEYS.items():
        name = route[1:]
        agent = Agent(server.url, session, secret_key=secret)
        wrong = Agent(server.url, session, secret_key=secret.replace(SECRET, SECRET + "X"))
        agents += [agent, wrong]
        api = "/v5/account/wallet-balance" if name == "Bybit" else "/api/v2/spot/account/assets"
        withdraw = (
            "/v5/asset/withdraw/create" if name == "Bybit" else "/api/v2/spot/wallet/withdrawal"
        )
        calls += [
            agent.call("depth", {"symbol": "BTC_USDT"}, exchange=name),
            agent.call("trades", {"symbol": "BTC_USDT"}, exchange=name),
            agent.call("accounts", exchange=name),
            agent.call("orders", {"symbol": "BTC_USDT"}, exchange=name),
            agent.call("positions", exchange=name),
            agent.call("__api_" + api, headers={"Http-Method": "GET"}, exchange=name),
            agent.call("__api_" + withdraw, headers={"Http-Method": "POST"}, exchange=name),
            agent.call(
                "trade", {"symbol": "BTC_USDT", "type": "buy", "amount": "x", "price": "1"},
                exchange=name,
            ),
            agent.call(
                "trade", {"symbol": "BTC_USDT", "type": "buy", "amount": "1000", "price": "1"},
                exchange=name,
            ),
            wrong.call("accounts", exchange=name),
            wrong.call("orders", exchange=name),
        ]  # fmt: skip
    replies = await asyncio.gather(*calls)
    for route in SECRET_KEYS:
        for payload in (
            body(route)[:-5],
            body(route, secret_key=SECRET),
            body(route, method=SECRET),
        ):
            await agents[0].post(route, payload)
    assert any("data" in r and isinstance(r["data"], list) for r in replies)
    texts = [reply for agent in agents for reply in agent.replies]
    texts += [r.getMessage() for r in captured_logs.records]
    texts += [str(r.args) for r in captured_logs.records]
    texts += [r.exc_text or "" for r in captured_logs.records]
    texts += [captured_logs.text]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
        assert "c0ffee5e11" not in text  # no part of it either
