"""The pytest plugin of the test kit: the ``fake_exchange`` fixture.

Installed with the package (entry point ``pytest11``: ``datastores``), so any
project that has ``datastores`` and ``pytest-asyncio`` installed can write::

    @pytest.mark.asyncio  # not needed in pytest-asyncio's auto mode
    async def test_my_bot(fake_exchange):
        fake = await fake_exchange("binance-spot", rate=0)
        ...

Every fake the fixture started is closed when the test ends, in the test's own
event loop. Nothing here is imported until a test asks for the fixture, so
pytest starts as fast with the plugin as without it. See docs/testing.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .fake import FakeExchange

__all__ = ["FakeExchangeFactory", "fake_exchange"]

#: ``await fake_exchange(exchange, **options)``: the type of the fixture's value
FakeExchangeFactory = Callable[..., Awaitable["FakeExchange"]]


async def _fake_exchanges() -> AsyncIterator[FakeExchangeFactory]:
    """``await fake_exchange(exchange, **options)`` starts a
    :class:`~datastores.testing.FakeExchange` (same arguments) and returns it;
    every fake started in the test is closed when it ends."""
    from .fake import FakeExchange

    started: list[FakeExchange] = []

    async def start(exchange: str | list[str], **options: Any) -> FakeExchange:
        """Start ``FakeExchange(exchange, **options)``; it is closed after the test."""
        fake = FakeExchange(exchange, **options)
        await fake.start()
        started.append(fake)
        return fake

    try:
        yield start
    finally:
        # Last started, first closed (a test may point one fake at another).
        for fake in reversed(started):
            await fake.aclose()


def _needs_pytest_asyncio() -> FakeExchangeFactory:
    raise pytest.UsageError(
        "the fake_exchange fixture of datastores needs pytest-asyncio: pip install pytest-asyncio"
    )


def _fixture() -> Any:
    """The ``fake_exchange`` fixture, or one that says what it needs."""
    try:
        import pytest_asyncio
    except ImportError:
        return pytest.fixture(name="fake_exchange")(_needs_pytest_asyncio)
    return pytest_asyncio.fixture(name="fake_exchange")(_fake_exchanges)


fake_exchange = _fixture()
