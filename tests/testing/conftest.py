"""Fixtures for the fake-exchange tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from datastores.testing import FakeExchange


@pytest.fixture
async def fake() -> AsyncIterator[FakeExchange]:
    """All three Binance venues, no background ticking (tests call ``tick``)."""
    async with FakeExchange("binance", seed=1, rate=0, levels=300) as exchange:
        yield exchange


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session
