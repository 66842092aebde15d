"""Fixtures of the FMZ bridge tests: a fake exchange with the distinctive test keys
and a bridge in front of it on 127.0.0.1, with an agent to call it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from _fmztools import ACCESS_KEY, PASSPHRASE, SECRET, Agent

from datastores.apps.fmz.server import FMZBridge
from datastores.testing import FakeExchange


@pytest.fixture
def captured_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
async def okx_fake() -> AsyncIterator[FakeExchange]:
    async with FakeExchange(
        "okx",
        seed=3,
        rate=0,
        levels=450,
        api_key=ACCESS_KEY,
        api_secret=SECRET,
        api_passphrase=PASSPHRASE,
    ) as fake:
        yield fake


@pytest.fixture
async def okx_agent(okx_fake: FakeExchange) -> AsyncIterator[Agent]:
    async with (
        FMZBridge(
            port=0, sync_timeout=5.0, client_kwargs={"redirects": okx_fake.redirects}
        ) as bridge,
        aiohttp.ClientSession() as session,
    ):
        yield Agent(bridge.url, session, secret_key=f"{SECRET},{PASSPHRASE}")
