# ruff: noqa: E501  (the case tables read best one case per line)
"""Per-exchange WebSocket logins, heartbeats and rate limits, against dialect servers.

The servers verify each login with their own implementation of the exchange's
documented rule (datastores.testing._ws_dialects), never with the client's code.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from dataclasses import dataclass
from typing import Any

import pytest
from _wstools import eventually, ours, served
from yarl import URL

from datastores import WebSocketAuthError
from datastores._ws import ConnectionState
from datastores.testing import VirtualClock
from datastores.testing._verify import FakeKey
from datastores.testing._ws_dialects import LoginCheck
from datastores.testing.profiles.kucoin.dialect import KucoinDialect
from datastores.testing.profiles.okx.dialect import OkxDialect


@dataclass(frozen=True)
class Case:
    exchange: str
    host: str
    url: str
    credential: str
    passphrase: str = ""

    @property
    def apis(self) -> dict[str, list[str]]:
        entry = ["KEY-1", "SECRET-1"] + ([self.passphrase] if self.passphrase else [])
        return {self.credential: entry}

    @property
    def wrong_apis(self) -> dict[str, list[str]]:
        entry = ["KEY-1", "WRONG-SECRET"] + ([self.passphrase] if self.passphrase else [])
        return {self.credential: entry}

    @property
    def keys(self) -> list[FakeKey]:
        return [FakeKey("KEY-1", "SECRET-1", self.passphrase)]


LOGIN_CASES = [
    Case("bitflyer", "ws.lightstream.bitflyer.com", "wss://ws.lightstream.bitflyer.com/json-rpc", "bitflyer"),
    Case("okx", "ws.okx.com", "wss://ws.okx.com:8443/ws/v5/private", "okx", "PASS"),
    Case("okx", "wspap.okx.com", "wss://wspap.okx.com:8443/ws/v5/private", "okx_demo", "PASS"),
    Case("bitget", "ws.bitget.com", "wss://ws.bitget.com/v2/ws/private", "bitget", "PASS"),
    Case("bybit", "stream.bybit.com", "wss://stream.bybit.com/v5/private", "bybit"),
    Case("bybit", "stream.bybit.com", "wss://stream.bybit.com/v5/trade", "bybit"),
    Case("bybit", "stream-testnet.bybit.com", "wss://stream-testnet.bybit.com/v5/private", "bybit_testnet"),
    Case("phemex", "ws.phemex.com", "wss://ws.phemex.com", "phemex"),
    Case("coincheck", "stream.coincheck.com", "wss://stream.coincheck.com", "coincheck"),
    Case("okj", "connect.okcoin.jp", "wss://connect.okcoin.jp:443/ws/v3", "okj", "PASS"),
    Case("bittrade", "api-cloud.bittrade.co.jp", "wss://api-cloud.bittrade.co.jp/ws/v2", "bittrade"),
    Case("mexc", "contract.mexc.com", "wss://contract.mexc.com/edge", "mexc"),
    Case("bitmex", "ws.bitmex.com", "wss://ws.bitmex.com/realtime", "bitmex"),
    Case("bitmex", "ws.testnet.bitmex.com", "wss://ws.testnet.bitmex.com/realtime", "bitmex_testnet"),
]  # fmt: skip

SUBSCRIPTION = {"op": "subscribe", "args": ["something"]}


def _ids(case: Case) -> str:
    return f"{case.exchange}:{case.url.split('//')[1]}"


@pytest.mark.parametrize("case", LOGIN_CASES, ids=_ids)
async def test_login_is_accepted_by_the_documented_rule_before_subscribing(case: Case) -> None:
    async with served(case.exchange, host=case.host, apis=case.apis, keys=case.keys) as (
        server,
        client,
        _,
    ):
        app = await client.ws_connect(case.url, send_json=SUBSCRIPTION)
        conn = server.connections[0]
        assert conn.logged_in
        await eventually(lambda: conn.texts and "subscribe" in conn.texts[-1])
        last = json.loads(conn.texts[-1])
        if case.url.endswith("/v5/trade"):  # every request there gets the timestamp header
            assert set(last.pop("header")) == {"X-BAPI-TIMESTAMP"}
        assert last == SUBSCRIPTION
        # The login (when a message carries it) comes first, the subscription after.
        assert len(conn.texts) == (1 if case.exchange == "bitmex" else 2)
        assert app.statistics().auth_failures == 0


@pytest.mark.parametrize("case", LOGIN_CASES, ids=_ids)
async def test_refused_login_raises_a_clear_error_without_the_secret(case: Case) -> None:
    async with served(case.exchange, host=case.host, apis=case.wrong_apis, keys=case.keys) as (
        server,
        client,
        _,
    ):
        with pytest.raises(WebSocketAuthError) as raised:
            await client.ws_connect(case.url, send_json=SUBSCRIPTION)
        text = str(raised.value)
        assert case.exchange in text
        assert "WRONG-SECRET" not in text
        assert "SECRET-1" not in text
        # Nothing was subscribed on a refused connection.
        assert all(SUBSCRIPTION["op"] not in t for c in server.connections for t in c.texts)


@pytest.mark.parametrize("case", LOGIN_CASES, ids=_ids)
async def test_every_reconnect_logs_in_again_and_resubscribes(case: Case) -> None:
    async with served(case.exchange, host=case.host, apis=case.apis, keys=case.keys) as (
        server,
        client,
        _,
    ):
        server.drop_next(2)
        app = await client.ws_connect(case.url, send_json=SUBSCRIPTION)
        await eventually(lambda: app.statistics().reconnects == 2 and app.state.value == "open")
        await eventually(
            lambda: len(server.connections) == 3 and len(server.connections[2].texts) >= 1
        )
        assert all(conn.logged_in for conn in server.connections)
        await eventually(lambda: "subscribe" in server.connections[2].texts[-1])


async def test_auth_none_and_missing_credentials_send_no_login() -> None:
    case = LOGIN_CASES[1]  # OKX private
    async with served(case.exchange, host=case.host, apis=case.apis, keys=case.keys) as (
        server,
        client,
        _,
    ):
        await client.ws_connect(case.url, send_json=SUBSCRIPTION, auth=None)
        await eventually(lambda: len(server.connections[0].texts) == 1)
        assert not server.connections[0].logins
    async with served(case.exchange, host=case.host, keys=case.keys) as (server, client, _):
        await client.ws_connect(case.url, send_json=SUBSCRIPTION)
        await eventually(lambda: len(server.connections[0].texts) == 1)
        assert not server.connections[0].logins


@pytest.mark.parametrize(
    ("url", "subscription", "logs_in"),
    [
        ("wss://ws.okx.com:8443/ws/v5/public", {"op": "subscribe", "args": [{"channel": "books"}]}, False),
        ("wss://ws.okx.com:8443/ws/v5/public", {"op": "subscribe", "args": [{"channel": "books-l2-tbt"}]}, True),
        ("wss://ws.okx.com:8443/ws/v5/business", {"op": "subscribe", "args": []}, True),
    ],
)  # fmt: skip
async def test_okx_public_connections_log_in_only_for_channels_that_need_it(
    url: str, subscription: dict[str, Any], logs_in: bool
) -> None:
    case = LOGIN_CASES[1]
    async with served("okx", host="ws.okx.com", apis=case.apis, keys=case.keys) as (
        server,
        client,
        _,
    ):
        await client.ws_connect(url, send_json=subscription)
        assert bool(server.connections[0].logins) is logs_in


@pytest.mark.parametrize(
    ("exchange", "host", "url"),
    [
        ("bybit", "stream.bybit.com", "wss://stream.bybit.com/v5/public/linear"),
        ("bitget", "ws.bitget.com", "wss://ws.bitget.com/v2/ws/public"),
        ("bittrade", "api-cloud.bittrade.co.jp", "wss://api-cloud.bittrade.co.jp/ws"),
    ],
)
async def test_public_paths_need_no_login(exchange: str, host: str, url: str) -> None:
    apis = {"bybit": ["K", "S"], "bitget": ["K", "S", "P"], "bittrade": ["K", "S"]}
    async with served(exchange, host=host, apis=apis) as (server, client, _):
        await client.ws_connect(url, send_json=SUBSCRIPTION)
        await eventually(lambda: len(server.connections[0].texts) == 1)
        assert not server.connections[0].logins


class ChattyOkx(OkxDialect):
    """Sends a market message before the client's login is even read."""

    def greeting(self, path: str, query: Any) -> list[str]:
        return ['{"arg":{"channel":"tickers"},"data":[{"last":"1"}]}']


class MuteOkx(OkxDialect):
    """Verifies the login but never answers it."""

    def login(self, text: str, path: str, keys: Any, now: float) -> LoginCheck | None:
        check = super().login(text, path, keys, now)
        if check is not None:
            check.reply = None
        return check


async def test_frames_received_during_login_reach_the_handlers() -> None:
    case = LOGIN_CASES[1]
    seen: list[Any] = []
    async with served(ChattyOkx(name="okx"), host=case.host, apis=case.apis, keys=case.keys) as (
        _,
        client,
        _,
    ):
        await client.ws_connect(case.url, hdlr_json=lambda msg, ws: seen.append(msg))
        # Bug #24 in pybotters: the login routine swallowed these.
        assert seen[0] == {"arg": {"channel": "tickers"}, "data": [{"last": "1"}]}
        assert seen[1]["event"] == "login"


async def test_an_unanswered_login_times_out_with_a_clear_error() -> None:
    case = LOGIN_CASES[1]
    async with served(MuteOkx(name="okx"), host=case.host, apis=case.apis, keys=case.keys) as (
        _,
        client,
        clock,
    ):
        start = clock.monotonic()
        with pytest.raises(WebSocketAuthError, match="did not answer the WebSocket login"):
            await client.ws_connect(case.url)
        assert clock.monotonic() - start >= 10.0


async def test_cancelling_the_caller_during_the_login_leaves_nothing_behind() -> None:
    case = LOGIN_CASES[1]
    async with served(MuteOkx(name="okx"), host=case.host, apis=case.apis, keys=case.keys) as (
        server,
        client,
        _,
    ):
        task = asyncio.ensure_future(client.ws_connect(case.url, send_json=SUBSCRIPTION))
        await eventually(lambda: bool(server.connections and server.connections[0].logins))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert ours(asyncio.all_tasks()) == []
        await eventually(lambda: server.connections[0].closed)
        assert server.connections[0].texts[1:] == []  # nothing subscribed


async def test_an_error_in_the_middle_of_connect_closes_the_socket_and_tasks() -> None:
    from datastores import ConfigurationError

    async with served() as (server, client, _):
        with pytest.raises(ConfigurationError, match="not JSON serializable"):
            await client.ws_connect(
                "wss://stream.example.test/ws", send_str="first", send_json={"bad": {1, 2}}
            )
        assert ours(asyncio.all_tasks()) == []
        await eventually(lambda: server.connections[0].closed)
        assert server.connections[0].texts == ["first"]
        assert server.handshakes == 1  # a caller error is not retried


async def test_a_login_refused_on_reconnect_is_logged_and_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    case = LOGIN_CASES[4]  # Bybit private
    async with served(case.exchange, host=case.host, apis=case.apis, keys=case.keys) as (
        server,
        client,
        _,
    ):
        app = await client.ws_connect(case.url, send_json=SUBSCRIPTION)
        saved, server.keys = server.keys, {}
        await server.connections[0].ws.close()
        await eventually(lambda: app.statistics().auth_failures >= 2)
        assert app.state is ConnectionState.RECONNECTING
        assert "refused the WebSocket login" in caplog.text
        server.keys = saved
        await eventually(lambda: app.state is ConnectionState.OPEN)
        assert server.live[-1].logged_in


class SilentOnReconnectOkx(OkxDialect):
    """Answers the first login only; later logins are verified but never answered."""

    def login(self, text: str, path: str, keys: Any, now: float) -> LoginCheck | None:
        check = super().login(text, path, keys, now)
        if check is not None and len(self.answered) >= 1:
            check.reply = None
        elif check is not None:
            self.answered.append(text)
        return check

    def __init__(self, name: str) -> None:
        super().__init__(name=name)
        self.answered: list[str] = []


async def test_current_ws_is_none_until_the_new_connection_is_logged_in() -> None:
    # The docs promise None "while (re)connecting"; during a reconnect's login the app
    # handed out the half-ready connection, so a user's order went out before the login.
    case = LOGIN_CASES[1]
    dialect = SilentOnReconnectOkx("okx")
    clock = VirtualClock(auto=False)  # moved by hand: the login timeout cannot fire unseen

    async def advance_until(predicate: Any) -> None:
        while not predicate():
            clock.advance(0.5)
            await asyncio.sleep(0.002)

    async with served(dialect, host=case.host, apis=case.apis, keys=case.keys, clock=clock) as (
        server,
        client,
        _,
    ):
        app = await client.ws_connect(case.url, send_json=SUBSCRIPTION)
        assert app.current_ws is not None
        await server.connections[0].ws.close()
        await advance_until(lambda: len(server.connections) == 2)
        await eventually(lambda: bool(server.connections[1].logins))
        assert app.state is ConnectionState.RECONNECTING
        assert app.current_ws is None
        dialect.answered.clear()  # the next login is answered
        await advance_until(lambda: app.state is ConnectionState.OPEN)
        assert app.current_ws is not None
        assert app.current_ws.url == URL(case.url)


async def test_reconnect_requested_during_a_login_is_not_an_auth_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # reconnect() during a reconnection's login was counted in auth_failures and
    # logged as "the login was probably refused: check the API key...".
    case = LOGIN_CASES[1]
    dialect = SilentOnReconnectOkx("okx")
    frozen = VirtualClock(auto=False)
    async with served(dialect, host=case.host, apis=case.apis, keys=case.keys, clock=frozen) as (
        server,
        client,
        _,
    ):
        app = await client.ws_connect(case.url, send_json=SUBSCRIPTION)
        await server.connections[0].ws.close()
        while len(server.connections) < 2:  # the backoff runs on the frozen clock
            frozen.advance(0.5)
            await asyncio.sleep(0.002)
        await eventually(lambda: bool(server.connections[1].logins))  # login unanswered
        await app.reconnect()
        await eventually(lambda: len(server.connections) == 3)
        assert app.statistics().auth_failures == 0
        assert "refused" not in caplog.text


async def test_bittrade_refusal_ends_the_login_instead_of_waiting_forever() -> None:
    # pybotters kept waiting after a failed reply (bug #19).
    case = LOGIN_CASES[10]
    async with served(case.exchange, host=case.host, apis=case.wrong_apis, keys=case.keys) as (
        _,
        client,
        clock,
    ):
        start = clock.monotonic()
        with pytest.raises(WebSocketAuthError, match="code 2002"):
            await client.ws_connect(case.url)
        assert clock.monotonic() - start < 10.0


async def test_coincheck_nonces_grow_across_logins() -> None:
    case = LOGIN_CASES[8]
    async with served(case.exchange, host=case.host, apis=case.apis, keys=case.keys) as (
        server,
        client,
        _,
    ):
        server.drop_next(1)
        app = await client.ws_connect(case.url, send_json=SUBSCRIPTION)
        await eventually(lambda: app.statistics().reconnects == 1 and app.state.value == "open")
        # The server refuses a nonce that does not grow; both logins passed.
        assert [c.logged_in for c in server.connections] == [True, True]


# -- heartbeats ---------------------------------------------------------------------


@dataclass(frozen=True)
class Beat:
    exchange: str
    host: str
    url: str
    ping: str  # a substring of the ping the server must receive


HEARTBEATS = [
    Beat("okx", "ws.okx.com", "wss://ws.okx.com:8443/ws/v5/public", "ping"),
    Beat("okj", "connect.okcoin.jp", "wss://connect.okcoin.jp:443/ws/v3", "ping"),
    Beat("bitget", "ws.bitget.com", "wss://ws.bitget.com/v2/ws/public", "ping"),
    Beat("bybit", "stream.bybit.com", "wss://stream.bybit.com/v5/public/spot", '"op":"ping"'),
    Beat("bybit", "stream.bybit.com", "wss://stream.bybit.com/v5/private", '"op":"ping"'),
    Beat("phemex", "ws.phemex.com", "wss://ws.phemex.com", '"method":"server.ping"'),
    Beat("mexc", "contract.mexc.com", "wss://contract.mexc.com/edge", '{"method":"ping"}'),
    Beat("mexc", "wbs-api.mexc.com", "wss://wbs-api.mexc.com/ws", '{"method":"PING"}'),
    Beat("kucoin", "ws-api-spot.kucoin.com", "wss://ws-api-spot.kucoin.com/?token=t", '"type":"ping"'),
    Beat("hyperliquid", "api.hyperliquid.xyz", "wss://api.hyperliquid.xyz/ws", '{"method":"ping"}'),
    Beat("bitmex", "ws.bitmex.com", "wss://ws.bitmex.com/realtime", "ping"),
    Beat("bitbank", "stream.bitbank.cc", "wss://stream.bitbank.cc/socket.io/?EIO=3&transport=websocket", "2"),
]  # fmt: skip


def _beat_id(beat: Beat) -> str:
    return f"{beat.exchange}:{beat.url.split('//')[1][:40]}"


@pytest.mark.parametrize("beat", HEARTBEATS, ids=_beat_id)
async def test_application_pings_keep_the_connection_and_silence_replaces_it(beat: Beat) -> None:
    async with served(beat.exchange, host=beat.host) as (server, client, clock):
        app = await client.ws_connect(beat.url, heartbeat=None, liveness_timeout=None)
        start = clock.monotonic()
        await eventually(lambda: clock.monotonic() - start > 120)
        conn = server.connections[0]
        assert any(beat.ping in text for text in conn.texts), conn.texts[:3]
        assert app.statistics().heartbeat_timeouts == 0
        assert app.statistics().reconnects == 0
        server.stop_answering_pings()
        await eventually(lambda: app.statistics().heartbeat_timeouts >= 1)
        await eventually(lambda: conn.closed)


async def test_a_ping_lost_with_its_connection_leaves_no_unretrieved_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The heartbeat registers its reply waiter before sending the ping. When the
    # connection died while the ping waited for a token, the waiter got the error
    # but nobody awaited it: asyncio logged "Future exception was never retrieved".
    caplog.set_level(logging.ERROR, "asyncio")
    frozen = VirtualClock(auto=False)
    async with served("bitget", host="ws.bitget.com", clock=frozen) as (server, client, _):
        app = await client.ws_connect("wss://ws.bitget.com/v2/ws/public", heartbeat=None)
        conn = server.connections[0]
        for _ in range(300):  # each pong takes a token at once: the bucket goes into debt
            await server.ping(conn, b"x")
        await eventually(lambda: sum(f.kind == "pong" for f in conn.received) == 300)
        frozen.advance(25.0)  # the heartbeat is due, its ping waits for a token
        for _ in range(10):
            await asyncio.sleep(0.001)
        assert "ping" not in conn.texts
        await conn.ws.close()
        await eventually(lambda: app.state is ConnectionState.RECONNECTING)
        for _ in range(10):
            await asyncio.sleep(0.001)
        gc.collect()
        await asyncio.sleep(0.001)
    assert "never retrieved" not in caplog.text


async def test_heartbeat_replies_are_not_mistaken_for_the_phemex_login_reply() -> None:
    from datastores._ws.protocol import Frame
    from datastores.exchanges.phemex.wsproto import AUTH_ID, HEARTBEAT_ID, login_reply

    assert AUTH_ID != HEARTBEAT_ID
    pong = Frame(f'{{"error":null,"id":{HEARTBEAT_ID},"result":"pong"}}')
    assert login_reply(pong) is None


class LateKucoin(KucoinDialect):
    """Sends the welcome only when the test says so."""

    def greeting(self, path: str, query: Any) -> list[str]:
        return []


async def test_kucoin_subscriptions_wait_for_the_welcome() -> None:
    frozen = VirtualClock(auto=False)  # time stands still: the greeting timeout cannot fire
    async with served(LateKucoin(name="kucoin"), host="ws-api-spot.kucoin.com", clock=frozen) as (
        server,
        client,
        _,
    ):
        task = asyncio.ensure_future(
            client.ws_connect(
                "wss://ws-api-spot.kucoin.com/?token=t&connectId=c9",
                send_json={"id": 1, "type": "subscribe", "topic": "/market/level2:BTC-USDT"},
            )
        )
        await eventually(lambda: len(server.connections) == 1)
        for _ in range(20):
            await asyncio.sleep(0.001)
        assert server.connections[0].texts == []  # nothing before the welcome
        assert not task.done()
        await server.send(server.connections[0], {"id": "c9", "type": "welcome"})
        await task
        await eventually(lambda: len(server.connections[0].texts) == 1)


async def test_a_missing_greeting_does_not_block_the_subscriptions(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "datastores.ws")
    async with served(LateKucoin(name="kucoin"), host="ws-api-spot.kucoin.com") as (
        server,
        client,
        _,
    ):
        await client.ws_connect("wss://ws-api-spot.kucoin.com/?token=t", send_json={"id": 1})
        await eventually(lambda: server.connections[0].texts == ['{"id":1}'])
        assert "no greeting" in caplog.text


# -- rate limits ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exchange", "host", "url", "limit", "window", "count"),
    [
        ("plain", "stream.binance.com", "wss://stream.binance.com:9443/ws", 5, 1.0, 25),
        ("plain", "fstream.binance.com", "wss://fstream.binance.com/public/ws", 10, 1.0, 40),
        ("bitget", "ws.bitget.com", "wss://ws.bitget.com/v2/ws/public", 10, 1.0, 40),
        ("phemex", "ws.phemex.com", "wss://ws.phemex.com", 20, 1.0, 60),
        ("kucoin", "ws-api-spot.kucoin.com", "wss://ws-api-spot.kucoin.com/?t=1", 100, 10.0, 150),
    ],
)  # fmt: skip
async def test_outgoing_messages_respect_the_exchange_rate(
    exchange: str, host: str, url: str, limit: int, window: float, count: int
) -> None:
    async with served(exchange, host=host) as (server, client, clock):
        subscriptions = [{"id": n, "method": "SUBSCRIBE"} for n in range(count)]
        start = clock.monotonic()
        app = await client.ws_connect(url, send_json=subscriptions, heartbeat=1.0)
        elapsed = clock.monotonic() - start
        await eventually(lambda: len(server.connections[0].texts) >= count)
        # Pings and pongs count too (Binance says so); they went through the same bucket.
        assert server.max_in_window(window) <= limit
        # ...and the pace is not needlessly slow: at least 80 % of the allowed rate.
        assert elapsed <= count / (limit / window) / 0.8
        assert app.statistics().messages_out >= count


async def test_resubscribing_many_topics_after_each_reconnect_stays_within_the_limit() -> None:
    # Binance spot: 5 incoming messages per second per connection, pings included.
    async with served("plain", host="stream.binance.com") as (server, client, clock):
        topics = [{"id": n, "method": "SUBSCRIBE", "params": [f"s{n}@depth"]} for n in range(30)]
        server.drop_next(2, after_texts=30)  # drop each connection once resubscribed
        app = await client.ws_connect(
            "wss://stream.binance.com:9443/ws", send_json=topics, heartbeat=1.0
        )
        await eventually(lambda: app.statistics().reconnects == 2 and app.state.value == "open")
        await eventually(lambda: len(server.connections[2].texts) >= 30)
        assert [len(c.texts) >= 30 for c in server.connections] == [True] * 3
        assert sum(f.kind == "ping" for c in server.connections for f in c.received) >= 3
        assert server.max_in_window(1.0) <= 5  # per connection, pings and pongs counted
        start = clock.monotonic()
        await eventually(lambda: clock.monotonic() - start > 10)
        assert app.statistics().reconnects == 2


async def test_pongs_are_not_held_back_by_a_rate_limited_burst() -> None:
    # The docs: replies to the server's pings never wait for a token. They did wait
    # for the token of the frame the writer was pacing (GMO Coin: about 1.1 s each,
    # more with several connections sharing the per-IP bucket).
    frozen = VirtualClock(auto=False)  # time stands still: no token comes by itself
    async with served(host="api.coin.z.com", clock=frozen) as (server, client, _):
        app = await client.ws_connect("wss://api.coin.z.com/ws/public/v1", heartbeat=None)
        ws = app.current_ws
        assert ws is not None
        for symbol in "ABC":
            ws.send_json_nowait({"command": "subscribe", "channel": "ticker", "symbol": symbol})
        conn = server.connections[0]
        await eventually(lambda: len(conn.texts) == 1)  # the rest wait for tokens
        await server.ping(conn, b"beat")
        await eventually(lambda: any(f.kind == "pong" for f in conn.received))
        assert len(conn.texts) == 1  # ...and the subscriptions still wait
        for _ in range(10):
            frozen.advance(1.2)
            await asyncio.sleep(0.005)
        await eventually(lambda: len(conn.texts) == 3)
        assert server.max_in_window(1.0, kinds=("text",)) == 1
        # The pong took a token (the bucket went into debt): the next frame paid for it.
        first, second, _ = (f.at for f in conn.received if f.kind == "text")
        assert second - first >= 2 / (1 * 0.9) - 1e-6


async def test_gmo_coin_limit_is_shared_by_all_connections_to_the_host() -> None:
    async with served(host="api.coin.z.com") as (server, client, _):
        subscribe = [{"command": "subscribe", "channel": "ticker", "symbol": s} for s in "ABCD"]
        first, second = await asyncio.gather(
            client.ws_connect("wss://api.coin.z.com/ws/public/v1", send_json=subscribe),
            client.ws_connect("wss://api.coin.z.com/ws/public/v1", send_json=subscribe),
        )
        await eventually(lambda: sum(len(c.texts) for c in server.connections) == 8)
        # One per second per IP: across both connections, never two within a second.
        assert server.max_in_window(1.0, kinds=("text",), per_connection=False) == 1
        assert first.state is second.state is ConnectionState.OPEN
