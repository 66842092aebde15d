"""``datastores fmz``: the command line, ``--fake`` answering as the docs show."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import aiohttp
import pytest

from datastores._cli import main
from datastores.apps.fmz.fake import FAKE_KEYS, fake_bridge


def test_fmz_fake_serves_and_prints_a_curl_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmz", "--fake", "--port", "0", "--seconds", "0.2"]) == 0
    out, err = capsys.readouterr()
    assert "datastores fmz: serving http://127.0.0.1:" in out
    assert "/OKX" in out
    assert "curl -s -d '" in out
    examples = [line.split("curl -s -d '", 1)[1] for line in out.splitlines() if "curl" in line]
    routes = [example.rpartition("/")[2] for example in examples]
    assert routes == ["OKX", "Binance", "BinanceFutures", "Bybit", "Bitget", "BitgetFutures"]
    assert all(json.loads(e.split("' ", 1)[0])["method"] == "depth" for e in examples)
    assert "Warning" not in err


def test_remote_hosts_are_refused_or_warned_about(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmz", "--host", "0.0.0.0", "--port", "0", "--seconds", "0.1"]) == 2
    assert "--allow-remote" in capsys.readouterr().err
    argv = ["fmz", "--host", "0.0.0.0", "--allow-remote", "--port", "0", "--seconds", "0.1"]
    assert main(argv) == 0
    assert "WARNING: listening on 0.0.0.0" in capsys.readouterr().err


async def test_the_fake_bridge_answers_the_documented_curl() -> None:
    key, secret = FAKE_KEYS["OKX"]
    async with fake_bridge(port=0) as running, aiohttp.ClientSession() as session:
        body = {
            "access_key": key,
            "secret_key": secret,
            "method": "depth",
            "nonce": 0,
            "params": {"symbol": "BTC_USDT", "limit": "5"},
        }
        async with session.post(running.bridge.url + "/OKX", data=json.dumps(body)) as response:
            reply = await response.json()
        assert len(reply["data"]["asks"]) == 5
        assert len(reply["data"]["bids"]) == 5
        body["method"] = "accounts"
        async with session.post(running.bridge.url + "/okx", data=json.dumps(body)) as response:
            accounts = (await response.json())["data"]
        assert {a["currency"] for a in accounts} == {"USDT", "BTC"}
        # Binance too, and orders are matched against the fake books.
        key, secret = FAKE_KEYS["Binance"]
        order = {
            "access_key": key,
            "secret_key": secret,
            "method": "trade",
            "nonce": 1,
            "params": {"symbol": "BTC_USDT.swap", "type": "buy", "price": "-1", "amount": "0.01"},
        }
        async with session.post(running.bridge.url + "/Binance", data=json.dumps(order)) as r:
            placed = (await r.json())["data"]
        assert placed["id"].startswith("BTCUSDT.P,")
        body = {**order, "method": "positions", "params": {}}
        for _ in range(300):
            async with session.post(running.bridge.url + "/Binance", data=json.dumps(body)) as r:
                positions = (await r.json())["data"]
            if positions:
                break
            await asyncio.sleep(0.01)
        assert [(p["symbol"], p["amount"], p["type"]) for p in positions] == [
            ("BTC_USDT.swap", "0.01", 0)
        ]


async def test_every_printed_curl_answers_from_the_running_command() -> None:
    """``datastores fmz --fake`` as a newcomer runs it: each printed curl gets the fake's
    depth, and the Bybit and Bitget accounts hold the fake's starting balances."""
    command = [sys.executable, "-m", "datastores", "fmz", "--fake", "--port", "0"]
    process = await asyncio.create_subprocess_exec(
        *command, "--seconds", "60", stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        calls: list[tuple[str, dict[str, object]]] = []
        while len(calls) < 6:
            line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
            assert line, "the command ended before printing its curl examples"
            if "curl -s -d '" in line:
                body, _, url = line.split("curl -s -d '", 1)[1].strip().rpartition("' ")
                calls.append((url, json.loads(body)))
        async with aiohttp.ClientSession() as session:

            async def post(url: str, body: dict[str, object]) -> dict[str, object]:
                async with session.post(url, data=json.dumps(body)) as response:
                    assert response.status == 200
                    reply: dict[str, object] = await response.json()
                    return reply

            for url, body in calls:
                reply = await post(url, body)
                assert set(reply) == {"data"}, (url, reply)
                depth: dict[str, list[object]] = reply["data"]  # type: ignore[assignment]
                assert (len(depth["asks"]), len(depth["bids"])) == (5, 5), url
            routes = dict(calls)
            for name, expected in (
                ("Bybit", {"USDT": "10000", "BTC": "1"}),
                ("Bitget", {"USDT": "10000", "BTC": "1"}),
                ("BitgetFutures", {"USDT": "10000"}),
            ):
                url = next(u for u in routes if u.endswith("/" + name))
                reply = await post(url, {**routes[url], "method": "accounts", "params": {}})
                rows: list[dict[str, str]] = reply["data"]  # type: ignore[assignment]
                assert {r["currency"]: r["free"] for r in rows} == expected, name
    finally:
        process.terminate()
        await process.wait()
