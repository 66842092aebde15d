"""``datastores fmz``: the command line, ``--fake`` answering as the docs show."""

from __future__ import annotations

import asyncio
import json

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
    example = out.split("curl -s -d '", 1)[1].split("' ", 1)[0]
    assert json.loads(example)["method"] == "depth"
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
