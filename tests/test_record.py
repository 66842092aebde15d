"""Record live traffic to JSON lines and replay it into a fresh collection."""

from __future__ import annotations

import asyncio
import gzip
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from datastores import DataStoreCollection, _json
from datastores._cli import main
from datastores._cli._targets import TARGETS
from datastores._client import Client
from datastores.apps.record import Recorder, read_recording, replay
from datastores.exchanges.binance.store import BinanceSpotDataStore
from datastores.exchanges.bybit.store import BybitDataStore
from datastores.exchanges.okx.store import OKXDataStore
from datastores.testing import FakeExchange, VirtualClock

SYMBOL = "BTCUSDT"


class _Collection(DataStoreCollection):
    def _init(self) -> None:
        self.seen: list[tuple[Any, Any]] = []
        self.reconnects: list[Any] = []

    def _onmessage(self, msg: Any, ws: Any) -> None:
        self.seen.append((msg, ws))

    def on_reconnect(self, ws: Any = None) -> None:
        self.reconnects.append(ws)


class _Socket:
    url = "wss://example.test/ws/btcusdt@depth"


@pytest.mark.parametrize("name", ["plain.jsonl", "packed.jsonl.gz"])
def test_wrap_records_messages_and_keeps_reconnect_notifications(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    collection = _Collection()
    clock = VirtualClock(start=1000.0, auto=False)
    with Recorder(path, clock=clock, meta={"store": "x:Y"}) as recorder:
        handler = recorder.wrap(collection.onmessage)
        handler({"e": "depthUpdate", "u": 1}, _Socket())
        clock.advance(0.5)
        handler("raw text", None)
        handler(b"\x00\x01", None)
        # The WebSocketApp calls on_reconnect on the handler's owner:
        owner: Any = handler.__self__
        owner.on_reconnect(_Socket())
    assert [m for m, _ in collection.seen] == [
        {"e": "depthUpdate", "u": 1},
        "raw text",
        b"\x00\x01",
    ]
    assert len(collection.reconnects) == 1
    if name.endswith(".gz"):
        with gzip.open(path) as packed:
            assert packed.read().startswith(b'{"t":')
    records = list(read_recording(path))
    assert records[0]["kind"] == "meta"
    assert records[0]["store"] == "x:Y"
    assert [r["kind"] for r in records[1:]] == ["ws", "ws", "ws", "reconnect"]
    assert records[1] == {
        "t": 1000.0,
        "kind": "ws",
        "url": _Socket.url,
        "data": {"e": "depthUpdate", "u": 1},
    }
    assert records[2]["t"] == 1000.5
    assert records[2]["text"] == "raw text"
    assert records[3]["bytes"] == "AAE="
    assert recorder.counts == {"ws": 3, "rest": 0, "reconnect": 1}


async def test_replay_feeds_messages_and_reconnects_at_recorded_speed(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    records = [
        {"t": 10.0, "kind": "meta", "format": "datastores-recording", "version": 1},
        {"t": 10.0, "kind": "ws", "url": "wss://a/ws/x", "data": {"n": 1}},
        {"t": 12.0, "kind": "reconnect", "url": "wss://a/ws/x"},
        {"t": 13.5, "kind": "ws", "url": "wss://a/ws/x", "text": "hello"},
        {"t": 14.0, "kind": "future-kind"},
    ]
    path.write_text("".join(_json.dumps(r) + "\n" for r in records))
    collection = _Collection()
    clock = VirtualClock()
    stats = await replay(path, collection, speed=2.0, clock=clock)
    assert (stats.messages, stats.reconnects, stats.skipped, stats.span) == (2, 1, 1, 4.0)
    assert clock.monotonic() == pytest.approx(2.0)  # 4 s recorded, replayed twice as fast
    assert [m for m, _ in collection.seen] == [{"n": 1}, "hello"]
    ws = collection.seen[0][1]
    assert str(ws.url) == "wss://a/ws/x"
    assert collection.seen[1][1] is ws
    assert collection.reconnects == [ws]


def test_read_recording_reports_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"t": 1, "kind": "meta"}\nnot json\n')
    with pytest.raises(ValueError, match="line 2"):
        list(read_recording(path))


async def _wait_synced(store: BinanceSpotDataStore, fake: FakeExchange) -> None:
    """Until the store has caught up with everything the fake published."""
    last = fake.book(SYMBOL).last_update_id
    status = await store.orderbook.wait_synced(SYMBOL, timeout=30, min_update_id=last)
    assert status.last_update_id == last


def _book(store: BinanceSpotDataStore) -> dict[str, list[tuple[str, str]]]:
    sides = store.orderbook.sorted({"s": SYMBOL})
    return {side: [(i["p"], i["q"]) for i in items] for side, items in sides.items()}


async def test_record_a_live_store_then_replay_gives_the_same_book(tmp_path: Path) -> None:
    path = tmp_path / "btcusdt.jsonl.gz"
    async with (
        FakeExchange("binance-spot", symbols=[SYMBOL], rate=0, levels=300) as fake,
        Client(redirects=fake.redirects) as client,
    ):
        live = BinanceSpotDataStore()
        with Recorder(path) as recorder:
            await client.ws_connect(
                "wss://stream.binance.com:9443/ws/btcusdt@depth",
                hdlr_json=recorder.wrap(live.onmessage),
            )
            await fake.wait_for_connections(1)
            await recorder.initialize(
                live, client.get("https://api.binance.com/api/v3/depth?symbol=BTCUSDT")
            )
            assert live.client is client  # initialize() still learned the client
            fake.tick(80)
            await _wait_synced(live, fake)
        assert recorder.counts["rest"] == 1
        assert recorder.counts["ws"] == 80
    replayed = BinanceSpotDataStore()
    stats = await replay(path, replayed)
    assert (stats.messages, stats.responses) == (80, 1)
    status = replayed.orderbook.status(SYMBOL)
    assert status.synced
    assert status.gaps == 0
    assert status.last_update_id == live.orderbook.status(SYMBOL).last_update_id
    assert _book(replayed) == _book(live)


def test_record_and_replay_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cli.jsonl.gz"
    code = main(["record", "binance", "btcusdt", str(path), "--fake", "--seconds", "0.5"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"to {path}" in out
    assert "1 REST responses" in out
    assert main(["replay", str(path)]) == 0  # the store class comes from the file
    out = capsys.readouterr().out
    assert "into BinanceSpotDataStore" in out
    assert "orderbook BTCUSDT: synced=yes" in out


async def test_resync_snapshots_are_recorded_so_a_replay_heals_like_the_live_store(
    tmp_path: Path,
) -> None:
    """A gap and a reconnect make the live store fetch snapshots by itself; the
    recorder sees them through the response observers, so the replay heals too."""
    path = tmp_path / "gap.jsonl"
    async with (
        FakeExchange("binance-spot", symbols=[SYMBOL], rate=0, levels=300) as fake,
        Client(redirects=fake.redirects) as client,
    ):
        live = BinanceSpotDataStore()
        with Recorder(path) as recorder:
            await client.ws_connect(
                "wss://stream.binance.com:9443/ws/btcusdt@depth",
                hdlr_json=recorder.wrap(live.onmessage),
            )
            await fake.wait_for_connections(1)
            await recorder.initialize(
                live, client.get("https://api.binance.com/api/v3/depth?symbol=BTCUSDT")
            )
            fake.tick(20)
            await _wait_synced(live, fake)
            fake.skip_sequence(SYMBOL)
            fake.tick(20)
            await _wait_synced(live, fake)
            assert live.orderbook.status(SYMBOL).gaps == 1
        # the snapshot from initialize() and the one fetched after the gap
        assert recorder.counts["rest"] == 2
    assert live._observers == []  # close() detached the recorder
    replayed = BinanceSpotDataStore()
    stats = await replay(path, replayed)
    assert stats.responses == 2
    status = replayed.orderbook.status(SYMBOL)
    assert status.synced
    assert status.gaps == 1
    assert status.last_update_id == live.orderbook.status(SYMBOL).last_update_id
    assert _book(replayed) == _book(live)


# ---------------------------------------- "no open datastores.Client is known"

NO_CLIENT = "no open datastores.Client is known"


def _diff(update_id: int) -> dict[str, Any]:
    price = f"{100 + update_id % 7}.00"
    return {
        "e": "depthUpdate",
        "E": 1,
        "s": SYMBOL,
        "U": update_id,
        "u": update_id,
        "b": [[price, "1.0"]],
        "a": [],
    }


def _write_diffs_then_snapshot(path: Path) -> None:
    """A Binance recording whose first diffs came before the REST snapshot, as a
    real one's do (the stream starts before the snapshot request returns)."""
    snapshot = {"lastUpdateId": 100, "bids": [["99.00", "2.0"]], "asks": [["200.00", "1.0"]]}
    records: list[dict[str, Any]] = [
        {
            "t": 1.0,
            "kind": "meta",
            "format": "datastores-recording",
            "version": 1,
            "store": "BinanceSpotDataStore",
        },
        *({"t": 1.1, "kind": "ws", "url": None, "data": _diff(i)} for i in (101, 102, 103)),
        {
            "t": 1.2,
            "kind": "rest",
            "method": "GET",
            "status": 200,
            "data": snapshot,
            "url": "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000",
        },
        *({"t": 1.3, "kind": "ws", "url": None, "data": _diff(i)} for i in (104, 105)),
    ]
    path.write_text("".join(_json.dumps(record) + "\n" for record in records))


async def test_a_replay_never_says_no_client_is_known(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its snapshots come from the file: the notice used to end every Binance replay."""
    monkeypatch.setattr("datastores._recovery.NO_CLIENT_GRACE", 0.0)
    path = tmp_path / "diffs-first.jsonl"
    _write_diffs_then_snapshot(path)
    store = BinanceSpotDataStore()
    with caplog.at_level(logging.WARNING, logger="datastores"):
        # at recorded speed on a virtual clock: the loop runs between records, so a
        # planned notice would be said before the snapshot record
        stats = await replay(path, store, speed=1.0, clock=VirtualClock(auto=True))
        for _ in range(5):
            await asyncio.sleep(0)
    assert (stats.messages, stats.responses) == (5, 1)
    assert store.orderbook.status(SYMBOL).synced
    assert store.orderbook.status(SYMBOL).last_update_id == 105
    assert not [r for r in caplog.records if NO_CLIENT in r.getMessage()]


async def test_the_same_diffs_live_without_a_client_still_warn(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The true case: the book needs a snapshot and no Client comes."""
    monkeypatch.setattr("datastores._recovery.NO_CLIENT_GRACE", 0.0)
    store = BinanceSpotDataStore()
    with caplog.at_level(logging.WARNING, logger="datastores"):
        for update_id in (101, 102, 103):
            store.onmessage(_diff(update_id))
        for _ in range(200):
            if any(NO_CLIENT in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.001)
    warnings = [r.getMessage() for r in caplog.records if NO_CLIENT in r.getMessage()]
    assert len(warnings) == 1
    assert "store.client = client" in warnings[0]
    assert "/api/v3/depth" in warnings[0]
    assert not store.orderbook.status(SYMBOL).synced


async def test_the_readme_start_is_not_told_to_give_a_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """ws_connect, diffs buffered, then initialize(client.get(...)): once the grace
    ends there is nothing to say (the notice is called here instead of waiting)."""
    async with (
        FakeExchange("binance-spot", symbols=[SYMBOL], rate=0, levels=50) as fake,
        Client(redirects=fake.redirects) as client,
    ):
        store = BinanceSpotDataStore()
        with caplog.at_level(logging.WARNING, logger="datastores"):
            await client.ws_connect(
                "wss://stream.binance.com:9443/ws/btcusdt@depth@100ms", hdlr_json=store.onmessage
            )
            await fake.wait_for_connections(1)
            fake.tick(3)
            for _ in range(2000):
                if SYMBOL in store._recovery.pending:
                    break
                await asyncio.sleep(0.005)
            assert store._recovery._notice is not None  # planned, not said
            await store.initialize(
                client.get("https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000")
            )
            await _wait_synced(store, fake)
            store._recovery._tell_no_client(SYMBOL)
    assert not [r for r in caplog.records if NO_CLIENT in r.getMessage()]


# ------------------------------------------- recordings that do not fit, failed records


def _record_binance(path: Path, *, store: str | None = "BinanceSpotDataStore") -> None:
    _write_diffs_then_snapshot(path)
    if store is None:  # a recording made with the Recorder API and no meta
        lines = path.read_text().splitlines()
        meta = _json.loads(lines[0])
        del meta["store"]
        path.write_text("\n".join([_json.dumps(meta), *lines[1:]]) + "\n")


async def test_replay_refuses_a_recording_made_with_another_store(tmp_path: Path) -> None:
    path = tmp_path / "binance.jsonl"
    _record_binance(path)
    with pytest.raises(ValueError, match=r"recorded with BinanceSpotDataStore, not OKXDataStore"):
        await replay(path, OKXDataStore())

    class MySpotStore(BinanceSpotDataStore):
        pass

    stats = await replay(path, MySpotStore())  # a subclass fits
    assert stats.messages == 5


async def test_replay_refuses_another_exchanges_traffic_without_a_store_named(
    tmp_path: Path,
) -> None:
    path = tmp_path / "binance.jsonl"
    _record_binance(path, store=None)
    with pytest.raises(ValueError, match=r"holds binance traffic \(api\.binance\.com\)"):
        await replay(path, BybitDataStore())
    assert (await replay(path, BinanceSpotDataStore())).responses == 1


async def test_replay_refuses_a_file_that_is_not_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "messages.jsonl"
    path.write_text('{"e": "depthUpdate"}\n{"e": "depthUpdate"}\n')
    with pytest.raises(ValueError, match="not a datastores recording"):
        await replay(path, BinanceSpotDataStore())


def test_the_replay_command_says_why_it_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "binance.jsonl"
    _record_binance(path)
    assert main(["replay", str(path), "OKXDataStore"]) == 1
    err = capsys.readouterr().err
    assert f"datastores replay: cannot replay {path}: {path} was recorded with" in err
    assert main(["replay", str(path)]) == 0  # the recording's own store


def test_a_record_that_fails_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The exchange cannot be reached: there is nothing to keep, not even the header."""
    real = TARGETS["binance"]
    # a port nothing listens on: the first connection fails at once
    monkeypatch.setitem(
        TARGETS, "binance", lambda symbol: replace(real(symbol), ws_url="ws://127.0.0.1:9/ws")
    )
    monkeypatch.setattr("datastores._ws.failures.FIRST_CONNECT_ATTEMPTS", 1)
    path = tmp_path / "failed.jsonl"
    assert main(["record", "binance", "btcusdt", str(path), "--seconds", "1"]) == 1
    assert "cannot reach" in capsys.readouterr().err
    assert not path.exists()


def _fail_while_recording(path: Path, *, records: int) -> None:
    with Recorder(path) as recorder:
        for _ in range(records):
            recorder.record_message({"e": "depthUpdate"}, _Socket())
        raise RuntimeError("the connection broke")


def test_a_recorder_that_recorded_something_keeps_its_file(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        _fail_while_recording(tmp_path / "partial.jsonl", records=1)
    assert [r["kind"] for r in read_recording(tmp_path / "partial.jsonl")] == ["meta", "ws"]
    with pytest.raises(RuntimeError):
        _fail_while_recording(tmp_path / "empty.jsonl", records=0)
    assert not (tmp_path / "empty.jsonl").exists()
