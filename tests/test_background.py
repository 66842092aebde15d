"""The background owner of a collection (datastores._background): one task per key,
cancel on close (no task left after Client.close()), the work a closing Client ended
is remembered, the one Backoff (Retry-After from a real 429 on 127.0.0.1), and the
token keepalive. Virtual time, no real sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from datastores._background import Background, Backoff, TokenKeepalive
from datastores._client import Client
from datastores._errors import ExchangeAPIError, RateLimitError
from datastores._http import parse_retry_after, read_response
from datastores.testing import VirtualClock


class RecordingClock(VirtualClock):
    def __init__(self, *, auto: bool) -> None:
        super().__init__(auto=auto)
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await super().sleep(seconds)


class Owner:
    """What a collection gives its Background: a client (maybe none)."""

    def __init__(self, client: Any = None) -> None:
        self.client = client
        self.background = Background("Owner", lambda: self.client)


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.001)


def rate_limit(retry_after: float | None) -> RateLimitError:
    return RateLimitError(
        exchange="x", endpoint="GET /", status=429, message="slow down", retry_after=retry_after
    )


# ------------------------------------------------------------------- Backoff


def test_backoff_doubles_up_to_the_cap_and_starts_over_after_a_success() -> None:
    backoff = Backoff(1.0, 5.0)
    assert [backoff.failed() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert backoff.failures == 5
    backoff.succeeded()
    assert backoff.failures == 0
    assert backoff.failed() == 1.0


def test_backoff_factor() -> None:
    backoff = Backoff(0.5, 100.0, factor=3.0)
    assert [backoff.failed() for _ in range(3)] == [0.5, 1.5, 4.5]


def test_backoff_waits_at_least_the_retry_after_even_above_the_cap() -> None:
    backoff = Backoff(1.0, 4.0)
    assert backoff.failed(rate_limit(30.0)) == 30.0
    # the doubling goes on underneath
    assert backoff.failed(rate_limit(None)) == 2.0
    assert backoff.failed(rate_limit(0.5)) == 4.0
    assert backoff.failed(ExchangeAPIError(exchange="x", endpoint="GET /", status=500)) == 4.0


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") is None
    assert parse_retry_after("inf") is None
    assert parse_retry_after("nan") is None
    # an HTTP date, measured from now
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0


@pytest.fixture
async def slow_down_server() -> AsyncIterator[tuple[str, list[int]]]:
    """A server on 127.0.0.1 answering 429 with Retry-After: 3 twice, then 200."""
    answers = [3, 3]

    async def handle(request: web.Request) -> web.Response:
        if answers:
            answers.pop()
            return web.json_response(
                {"code": -1003, "msg": "Too many requests"},
                status=429,
                headers={"Retry-After": "3"},
            )
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", answers
    await runner.cleanup()


async def test_a_real_429_carries_retry_after_and_the_backoff_honours_it(
    slow_down_server: tuple[str, list[int]],
) -> None:
    base, _ = slow_down_server
    clock = RecordingClock(auto=True)
    async with Client(clock=clock) as client:
        owner = Owner(client)
        results: list[Any] = []
        retry_afters: list[float | None] = []

        async def fetch_with_retries() -> None:
            backoff = Backoff(1.0, 60.0)
            while True:
                try:
                    results.append(await read_response(await client.get(f"{base}/x")))
                    return
                except RateLimitError as exc:
                    retry_afters.append(exc.retry_after)
                    await owner.background.clock.sleep(backoff.failed(exc))

        task = owner.background.spawn(fetch_with_retries(), "fetch", key="fetch")
        assert task is not None
        await task
    assert results == [{"ok": True}]
    assert retry_afters == [3.0, 3.0]
    assert clock.slept == [3.0, 3.0]  # not the backoff's 1 s and 2 s


# --------------------------------------------------------------- Background


async def test_one_live_task_per_key() -> None:
    owner = Owner()
    gate = asyncio.Event()
    started: list[str] = []

    async def work(name: str) -> None:
        started.append(name)
        await gate.wait()

    first = owner.background.spawn(work("first"), "work", key=("snapshot", "BTC"))
    again = owner.background.spawn(work("second"), "work", key=("snapshot", "BTC"))
    other = owner.background.spawn(work("other"), "work", key=("snapshot", "ETH"))
    assert first is not None
    assert again is first
    assert other is not None
    assert other is not first
    assert owner.background.running() == {("snapshot", "BTC"), ("snapshot", "ETH")}
    await asyncio.sleep(0)
    assert sorted(started) == ["first", "other"]  # the second coroutine was discarded
    gate.set()
    await asyncio.gather(first, other)
    assert owner.background.running() == frozenset()
    assert owner.background.task(("snapshot", "BTC")) is None


async def test_replace_cancels_the_running_task_of_the_key() -> None:
    owner = Owner()
    first = owner.background.spawn(asyncio.sleep(3600), "sleep", key="k")
    second = owner.background.spawn(asyncio.sleep(3600), "sleep", key="k", replace=True)
    assert first is not None
    assert second is not None
    assert second is not first
    await asyncio.sleep(0)
    assert first.cancelled()
    assert owner.background.task("k") is second
    await owner.background.aclose()
    assert second.done()


async def test_cancel_one_key_or_matching_keys() -> None:
    owner = Owner()
    for key in [("snapshot", "a"), ("snapshot", "b"), ("keepalive", "token")]:
        owner.background.spawn(asyncio.sleep(3600), "sleep", key=key)
    assert owner.background.cancel(("snapshot", "a"))
    assert not owner.background.cancel(("snapshot", "a"))
    assert owner.background.cancel_matching(lambda key: key[0] == "snapshot") == 1
    await asyncio.sleep(0)
    assert owner.background.running() == {("keepalive", "token")}
    owner.background.cancel_all()
    await asyncio.sleep(0)
    assert owner.background.running() == frozenset()


def test_spawn_without_a_running_loop_discards_the_coroutine() -> None:
    owner = Owner()
    # A discarded coroutine is closed: no "never awaited" warning (warnings are errors).
    assert owner.background.spawn(asyncio.sleep(1), "sleep", key="k") is None


async def test_no_task_is_left_after_client_close_and_the_keys_are_abandoned() -> None:
    client = Client(clock=VirtualClock(auto=False))
    owner = Owner(client)
    tasks = [
        owner.background.spawn(asyncio.sleep(3600), "sleep", key=("snapshot", "BTC")),
        owner.background.spawn(asyncio.sleep(3600), "unkeyed"),
    ]
    await client.close()
    assert all(t is not None and t.done() for t in tasks)
    assert owner.background.running() == frozenset()
    assert owner.background.take_abandoned() == {("snapshot", "BTC")}
    assert owner.background.take_abandoned() == set()
    # Nothing starts on a closed client.
    assert owner.background.spawn(asyncio.sleep(1), "late", key="late") is None


async def test_when_closed_runs_on_a_closed_client_unregistered_and_aclose_ends_it() -> None:
    client = Client(clock=VirtualClock(auto=False))
    await client.close()
    owner = Owner(client)
    done = owner.background.spawn(asyncio.sleep(0), "short", key="short", when_closed=True)
    assert done is not None
    await done
    assert owner.background.running() == frozenset()
    stuck = owner.background.spawn(asyncio.sleep(3600), "stuck", key="stuck", when_closed=True)
    assert stuck is not None
    assert owner.background.running() == {"stuck"}
    await owner.background.aclose()
    assert stuck.cancelled()
    # Without it, nothing starts on a closed client.
    assert owner.background.spawn(asyncio.sleep(1), "late", key="late") is None


async def test_aclose_unregisters_and_the_same_open_client_can_be_used_again() -> None:
    async with Client(clock=VirtualClock(auto=False)) as client:
        owner = Owner(client)
        owner.background.spawn(asyncio.sleep(3600), "sleep", key="a")
        await owner.background.aclose()
        assert owner.background.running() == frozenset()
        task = owner.background.spawn(asyncio.sleep(3600), "sleep", key="b")
        assert task is not None
    assert task.done()  # registered again, so closed with the client


async def test_work_that_fails_on_a_closed_client_ends_quietly_and_is_abandoned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client(clock=VirtualClock(auto=False))
    owner = Owner(client)
    proceed = asyncio.Event()

    async def fetch() -> None:
        await proceed.wait()
        raise RuntimeError("datastores.Client is closed")

    class Waker:
        async def aclose(self) -> None:
            proceed.set()
            for _ in range(5):
                await asyncio.sleep(0)

    task = owner.background.spawn(fetch(), "fetch", key=("snapshot", "BTC"))
    client.add_closer(Waker())  # closed first: the fetch wakes up on a closed client
    await client.close()
    assert task is not None
    assert task.done()
    assert not task.cancelled()
    assert owner.background.take_abandoned() == {("snapshot", "BTC")}
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_an_unexpected_error_is_logged_not_left_unretrieved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner = Owner()

    async def broken() -> None:
        raise KeyError("bug")

    task = owner.background.spawn(broken(), "broken", key="k")
    assert task is not None
    await task
    assert any("background task broken failed" in r.getMessage() for r in caplog.records)
    assert owner.background.take_abandoned() == set()


async def test_the_clock_is_the_clients() -> None:
    clock = VirtualClock(auto=False)
    async with Client(clock=clock) as client:
        assert Owner(client).background.clock is clock
    assert Owner().background.clock is not clock


# ------------------------------------------------------------ TokenKeepalive


class Token:
    """A scripted token service: refresh answers from ``refresh_errors`` first."""

    def __init__(self) -> None:
        self.refreshes = 0
        self.created = 0
        self.refresh_errors: list[BaseException] = []
        self.create_errors: list[BaseException] = []
        self.installed: list[str] = []

    async def refresh(self) -> None:
        self.refreshes += 1
        if self.refresh_errors:
            raise self.refresh_errors.pop(0)

    async def create(self) -> str:
        if self.create_errors:
            raise self.create_errors.pop(0)
        self.created += 1
        return f"token-{self.created}"

    def install(self, token: str) -> None:
        self.installed.append(token)


def expired(exc: BaseException) -> bool:
    return isinstance(exc, ExchangeAPIError) and exc.code == "expired"


def api_error(code: str, status: int = 400) -> ExchangeAPIError:
    return ExchangeAPIError(exchange="x", endpoint="PUT /token", status=status, code=code)


def keepalive_for(owner: Owner, token: Token) -> TokenKeepalive[str]:
    return TokenKeepalive(
        owner.background,
        "token",
        interval=100.0,
        refresh=token.refresh,
        create=token.create,
        install=token.install,
        expired=expired,
        backoff=(5.0, 300.0),
    )


async def test_keepalive_refreshes_every_interval_and_backs_off_on_errors() -> None:
    clock = RecordingClock(auto=False)
    async with Client(clock=clock) as client:
        owner = Owner(client)
        token = Token()
        keepalive = keepalive_for(owner, token)
        assert keepalive.start()
        await wait_until(lambda: clock.slept == [100.0])
        clock.advance(100)
        await wait_until(lambda: len(clock.slept) == 2)
        assert token.refreshes == 1
        assert clock.slept[-1] == 100.0
        token.refresh_errors = [api_error("busy", 503), api_error("busy", 503)]
        clock.advance(100)
        await wait_until(lambda: len(clock.slept) == 3)
        clock.advance(5)
        await wait_until(lambda: len(clock.slept) == 4)
        assert clock.slept[-2:] == [5.0, 10.0]
        clock.advance(10)
        await wait_until(lambda: len(clock.slept) == 5)
        assert clock.slept[-1] == 100.0  # back to the interval after a success
        assert token.refreshes == 4
        assert token.installed == []
        task = owner.background.task(keepalive.refresh_key)
    assert task is not None
    assert task.done()


async def test_keepalive_creates_and_hands_over_a_new_token_when_expired() -> None:
    clock = RecordingClock(auto=False)
    async with Client(clock=clock) as client:
        owner = Owner(client)
        token = Token()
        keepalive = keepalive_for(owner, token)
        keepalive.start()
        token.refresh_errors = [api_error("expired")]
        token.create_errors = [api_error("busy", 503)]
        await wait_until(lambda: clock.slept == [100.0])
        clock.advance(100)
        await wait_until(lambda: len(clock.slept) == 2)
        assert clock.slept[-1] == 5.0  # creating failed once: backing off
        clock.advance(5)
        await wait_until(lambda: token.installed == ["token-1"])
        await wait_until(lambda: len(clock.slept) == 3)
        assert clock.slept[-1] == 100.0


async def test_renew_runs_once_at_a_time() -> None:
    async with Client(clock=VirtualClock(auto=False)) as client:
        owner = Owner(client)
        token = Token()
        keepalive = keepalive_for(owner, token)
        assert keepalive.renew()
        assert keepalive.renew()  # the running renewal
        await wait_until(lambda: token.installed == ["token-1"])
        await asyncio.sleep(0.01)
        assert token.created == 1
        keepalive.start()
        keepalive.stop()
        await asyncio.sleep(0)
        assert owner.background.running() == frozenset()


async def test_hold_after_close_spawns_nothing_until_the_client_changes() -> None:
    async with Client(clock=VirtualClock(auto=False)) as client:
        owner = Owner(client)
        owner.background.hold_after_close = True
        owner.background.spawn(asyncio.sleep(3600), "sleep", key="a")
        await owner.background.aclose()
        assert owner.background.spawn(asyncio.sleep(3600), "sleep", key="b") is None
        assert owner.background.running() == frozenset()
        async with Client(clock=VirtualClock(auto=False)) as other:
            owner.client = other
            task = owner.background.spawn(asyncio.sleep(3600), "sleep", key="c")
            assert task is not None
        assert task.done()
    # no Client when closed: held until one is given
    owner = Owner()
    owner.background.hold_after_close = True
    await owner.background.aclose()
    assert owner.background.spawn(asyncio.sleep(3600), "sleep") is None
