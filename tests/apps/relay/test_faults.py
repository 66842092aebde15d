"""Relay and mirror through a real nats-server, under faults: after each, the
mirror equals the origin, and it never said synced while they differed (checked
on every mirror change)."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from datastores.apps.relay import Mirror, Relay
from datastores.apps.relay._server import LocalNatsServer

from ._harness import Origin, Plain, Watcher, converged, until

FAST = {"heartbeat_interval": 0.1, "snapshot_interval": 1.0}


def relay_on(url: Any, **options: Any) -> Any:
    def make(collection: Any) -> Relay:
        return Relay(collection, servers=url, name="plain", **{**FAST, **options})

    return make


def mirror_on(url: Any, **options: Any) -> Mirror:
    return Mirror(Plain, servers=url, name="plain", stale_after=1.0, **options)


async def test_mirror_started_late_follows_every_change(nats_server: LocalNatsServer) -> None:
    rng = random.Random(1)
    async with Origin(relay_on(nats_server.url)) as origin:
        origin.feed(rng, 300)  # before any mirror: it starts from a snapshot
        mirror = mirror_on(nats_server.url)
        watcher = Watcher(mirror)
        watcher.follow(origin)
        async with mirror:
            await origin.run(rng, 1.0)
            await converged(origin, mirror)
    assert watcher.violations == []
    assert watcher.synced_checks > 20
    status = origin.relay.status()
    assert status.dropped == 0
    assert status.errors == 0
    assert mirror.status().gaps == 0
    assert mirror.status().snapshots == 1


async def test_publisher_restart(nats_server: LocalNatsServer) -> None:
    rng = random.Random(2)
    mirror = mirror_on(nats_server.url)
    watcher = Watcher(mirror)
    async with mirror:
        async with Origin(relay_on(nats_server.url)) as first:
            watcher.follow(first)
            await first.run(rng, 0.5)
            await converged(first, mirror)
        # The feed process restarts: a new, empty collection and a new relay epoch.
        second = Origin(relay_on(nats_server.url))
        watcher.follow(second)
        async with second:
            await second.run(rng, 0.5)
            await converged(second, mirror)
    assert watcher.violations == []
    assert mirror.status().resyncs >= 1


async def test_mirror_restart(nats_server: LocalNatsServer) -> None:
    rng = random.Random(3)
    async with Origin(relay_on(nats_server.url)) as origin:
        for round_ in range(2):
            mirror = mirror_on(nats_server.url)
            watcher = Watcher(mirror)
            watcher.follow(origin)
            async with mirror:
                await origin.run(rng, 0.4)
                await converged(origin, mirror)
            assert watcher.violations == [], round_
            assert not mirror.status().synced  # closed: it no longer claims anything


async def test_nats_server_restart(nats_server: LocalNatsServer) -> None:
    rng = random.Random(4)
    mirror = mirror_on(nats_server.url)
    watcher = Watcher(mirror)
    async with Origin(relay_on(nats_server.url)) as origin, mirror:
        watcher.follow(origin)
        await origin.run(rng, 0.3)
        await converged(origin, mirror)
        nats_server.stop(keep=True)
        await origin.run(rng, 0.5)  # the relay queues, then drops, while NATS is down
        await until(lambda: not mirror.status().synced)
        nats_server.start()
        await origin.run(rng, 0.5)
        await converged(origin, mirror, timeout=20)
    assert watcher.violations == []
    assert "unsynced" in watcher.states
    assert origin.relay.status().state == "closed"


async def test_publisher_queue_overflow_forces_a_snapshot(nats_server: LocalNatsServer) -> None:
    rng = random.Random(5)
    mirror = mirror_on(nats_server.url)
    watcher = Watcher(mirror)
    async with Origin(relay_on(nats_server.url, queue_size=20)) as origin, mirror:
        watcher.follow(origin)
        assert await mirror.wait_synced(10)
        before = origin.relay.status()
        origin.feed(rng, 500)  # in one go: the sender cannot run meanwhile
        after = origin.relay.status()
        assert after.queued == 20
        assert after.dropped == after.sequence - before.sequence - (20 - before.queued)
        await origin.run(rng, 0.3)
        await converged(origin, mirror)
    assert watcher.violations == []
    assert mirror.status().gaps >= 1
    assert origin.relay.status().snapshots >= 2


async def test_slow_mirror_stays_bounded_and_recovers(nats_server: LocalNatsServer) -> None:
    rng = random.Random(6)
    # A short stream: a mirror that falls too far behind loses its place.
    mirror = mirror_on(nats_server.url, max_pending=50)
    watcher = Watcher(mirror)
    slow = True
    lags: list[int] = []

    def dawdle(m: Mirror) -> None:
        if slow:
            lags.append(m.status().lag)
            time.sleep(0.002)  # blocks the process: the mirror applies far slower than the feed

    mirror.add_listener(dawdle)
    async with Origin(relay_on(nats_server.url, max_msgs=200)) as origin, mirror:
        watcher.follow(origin)
        assert await mirror.wait_synced(10)
        for _ in range(20):
            origin.feed(rng, 100)
            await asyncio.sleep(0.01)
        slow = False
        await converged(origin, mirror, timeout=20)
    assert watcher.violations == []
    assert watcher.max_pending <= 50
    assert max(lags) > 50  # status said how far behind it was
    assert mirror.status().gaps >= 1


async def test_mirror_without_a_live_relay_catches_up_but_never_says_synced(
    nats_server: LocalNatsServer,
) -> None:
    rng = random.Random(8)
    async with Origin(relay_on(nats_server.url)) as first:
        await first.run(rng, 0.3)
        first.collection.onmessage({"op": "snapshot", "s": "BTCUSDT", "a": [["101", "1"]], "b": []})
        await first.relay.flush()
    # The relay is gone: its last snapshot and the stream after it are all there is.
    mirror = mirror_on(nats_server.url)
    watcher = Watcher(mirror)
    watcher.follow(first)
    async with mirror:
        await until(lambda: mirror.status().sequence == first.relay.status().sequence)
        await asyncio.sleep(1.5)  # heartbeats replayed from the stream are not a live relay
        status = mirror.status()
        assert status.state == "catching up"
        assert not status.synced
        assert not mirror.book.is_synced("BTCUSDT")
        assert mirror.book.levels("BTCUSDT") == first.collection.book.levels("BTCUSDT")
        second = Origin(relay_on(nats_server.url))
        watcher.follow(second)
        async with second:
            await second.run(rng, 0.3)
            await converged(second, mirror)
    assert watcher.violations == []
    assert "synced" in watcher.states
