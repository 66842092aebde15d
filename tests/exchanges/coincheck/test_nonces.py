"""Coincheck nonces grow strictly per API key within a process: two requests in one
millisecond, a clock that stands still or goes back, many threads signing at once,
two Clients sharing a key, REST and the WebSocket login sharing the sequence."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from datastores import Client, Credentials
from datastores._signing import SigningInput
from datastores._ws.protocol import LoginInput
from datastores.exchanges.coincheck import signing
from datastores.exchanges.coincheck.signing import NonceSequence, sign
from datastores.exchanges.coincheck.wsproto import login_message
from datastores.testing import VirtualClock
from datastores.testing._signed_server import SignedServer
from datastores.testing._verify import FakeKey

NOW = 1_700_000_000.123
MS = 1_700_000_000_123
ORDERS = "https://coincheck.com/api/exchange/orders"


@pytest.fixture
def nonces(monkeypatch: pytest.MonkeyPatch) -> NonceSequence:
    """A fresh process's sequence (other tests sign with these keys too)."""
    fresh = NonceSequence()
    monkeypatch.setattr(signing, "NONCES", fresh)
    return fresh


def signed_nonce(key: str, now: float) -> int:
    credentials = Credentials("coincheck", key, "SECRET")
    request = SigningInput("GET", URL(ORDERS), b"", {}, credentials, now)
    return int(sign(request).headers["ACCESS-NONCE"])


def test_the_same_millisecond_and_a_clock_going_back_still_grow(nonces: NonceSequence) -> None:
    assert signed_nonce("A", NOW) == MS  # the time in milliseconds while it grows
    assert signed_nonce("A", NOW) == MS + 1  # the clock stands still
    assert signed_nonce("A", NOW + 0.0005) == MS + 2  # still the same millisecond
    assert signed_nonce("A", NOW - 10) == MS + 3  # the clock went back ten seconds
    assert signed_nonce("A", NOW + 1) == MS + 1000  # the time again once it is ahead
    assert signed_nonce("B", NOW) == MS  # each key has its own sequence


@given(st.lists(st.tuples(st.sampled_from("ab"), st.floats(0, 10_000)), max_size=60))
def test_nonces_grow_per_key_and_never_lag_the_clock(calls: list[tuple[str, float]]) -> None:
    sequence = NonceSequence()
    last: dict[str, int] = {}
    for key, now in calls:
        nonce = sequence.next(key, now)
        milliseconds = int(now * 1000)
        assert nonce > last.get(key, -1)
        assert nonce >= milliseconds
        if milliseconds > last.get(key, -1):
            assert nonce == milliseconds  # no further ahead than needed
        last[key] = nonce


def test_threads_signing_at_once_never_share_a_nonce(nonces: NonceSequence) -> None:
    threads, each = 8, 400
    start = threading.Barrier(threads)
    seen: list[list[int]] = [[] for _ in range(threads)]

    def work(index: int) -> None:
        start.wait()
        for _ in range(each):
            seen[index].append(signed_nonce("K", NOW))  # a clock standing still

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for own in seen:
        assert own == sorted(own)
    assert sorted(n for own in seen for n in own) == list(range(MS, MS + threads * each))


async def test_two_clients_sharing_a_key_in_one_millisecond_are_both_accepted(
    nonces: NonceSequence,
) -> None:
    clock = VirtualClock(auto=False)  # time stands still: every request in one millisecond
    apis = {"coincheck": ["KEY-1", "SECRET-1"]}
    async with SignedServer("coincheck", {"KEY-1": FakeKey("KEY-1", "SECRET-1")}) as server:
        first = Client(apis, redirects=server.redirects, clock=clock)
        second = Client(apis, redirects=server.redirects, clock=clock)
        async with first, second:
            for step in range(6):
                if step == 3:
                    clock.advance(-5.0)  # the clock is set back five seconds
                client = first if step % 2 == 0 else second
                got = await client.fetch("POST", ORDERS, data={"pair": "btc_jpy"})
                assert got.response.status == 200, got.text
    assert server.rejected == []  # the fake refuses a nonce that does not grow
    sent = [int(request.headers["ACCESS-NONCE"]) for request in server.received]
    assert sent == list(range(MS - 123, MS - 123 + 6))


def test_the_websocket_login_continues_the_rest_sequence(nonces: NonceSequence) -> None:
    assert signed_nonce("KEY-1", NOW) == MS
    credentials = Credentials("coincheck", "KEY-1", "SECRET")
    login = login_message(LoginInput(credentials, URL("wss://stream.coincheck.com"), NOW, "n"))
    assert isinstance(login, dict)
    assert login["access_nonce"] == str(MS + 1)
    assert signed_nonce("KEY-1", NOW) == MS + 2
