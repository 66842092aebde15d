"""Loopback WebSocket end to end: a server sends Binance depth diffs, a datastores client
applies them; latency from send to ``wait()`` waking, and the highest sustained rate.

Usage: ``python -m benchmarks.endtoend [--rate N] [--seconds S] [--gc MODE]``
(``--rate 0``: as fast as the server can send, to find the client's maximum rate).

The server runs in its own process (its own core), so the client's core does only
what a bot's would: aiohttp's WebSocket reader, datastores' receive path
(``datastores/_ws``), ``BinanceSpotDataStore.onmessage`` and one task waiting on
``store.orderbook.wait()``. Each message carries its send time in ``E``
(``time.perf_counter_ns()``, a system-wide monotonic clock on Linux); the waiter
records ``now - E`` of the newest message each time it wakes. Messages come from the
seeded stream of :mod:`benchmarks.stream` after its snapshot, so the book stays
synced (checked at the end). ``--gc``: ``default`` (CPython's thresholds), ``freeze``
(``gc.freeze()`` after the snapshot: the book and the imported modules are left out
of every later collection) or ``off``; the number and total time of collections in
the measured window are printed, since generation-2 collections are what makes the
tail.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import socket
import statistics
import time
from pathlib import Path
from typing import Any

from .stream import SYMBOL, generate

CACHE = Path(__file__).resolve().parent / ".cache"


def _serve(port: int, stream: str, rate: int, seconds: float, ready: Any) -> None:
    """Server process: send the stream's diffs to the first client at ``rate`` msgs/s."""
    import orjson
    from aiohttp import web

    messages = [orjson.loads(line) for line in Path(stream).read_bytes().splitlines()[1:]]

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        clock, dumps = time.perf_counter_ns, orjson.dumps
        total = min(len(messages), int(rate * seconds)) if rate else len(messages)
        start = time.perf_counter()
        if not rate:  # as fast as possible: encoded beforehand, E is the time of the start
            now = clock()
            frames = [dumps({**msg, "E": now}).decode() for msg in messages]
            for frame in frames:
                await ws.send_str(frame)
        for n in range(total if rate else 0):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            msg = messages[n]
            msg["E"] = clock()
            await ws.send_str(dumps(msg).decode())
        await ws.send_str('{"e":"end"}')
        await ws.receive()  # the client closes
        return ws

    app = web.Application()
    app.router.add_get(f"/ws/{SYMBOL.lower()}@depth", handler)
    ready.set()
    web.run_app(app, host="127.0.0.1", port=port, print=None, handle_signals=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _collector() -> tuple[list[float], Any]:
    """gc callback that records each collection's duration (s) and generation."""
    records: list[float] = []
    started = [0.0]

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            records.append(time.perf_counter() - started[0])

    return records, callback


async def _client(port: int, snapshot: dict[str, Any], gc_mode: str) -> dict[str, Any]:
    import datastores
    from datastores.exchanges.binance.store import BinanceSpotDataStore

    store = BinanceSpotDataStore()
    book = store.orderbook
    book._on_snapshot(SYMBOL, snapshot["lastUpdateId"], snapshot["asks"], snapshot["bids"])
    latencies: list[int] = []
    last_sent = [0]
    done = asyncio.Event()
    onmessage = store.onmessage

    def hdlr(msg: Any, ws: Any) -> None:
        if msg.get("e") == "end":
            done.set()
            return
        last_sent[0] = msg["E"]
        onmessage(msg, ws)

    async def waiter() -> None:
        clock = time.perf_counter_ns
        while True:
            await book.wait()
            latencies.append(clock() - last_sent[0])

    records, callback = _collector()
    async with datastores.Client() as client:
        url = f"ws://127.0.0.1:{port}/ws/{SYMBOL.lower()}@depth"
        task = asyncio.create_task(waiter())
        gc.collect()
        if gc_mode == "freeze":
            gc.freeze()
        elif gc_mode == "off":
            gc.disable()
        gc.callbacks.append(callback)
        cpu = time.process_time()
        wall = time.perf_counter()
        app = await client.ws_connect(url, hdlr_json=hdlr, heartbeat=None)
        await done.wait()
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
        gc.callbacks.remove(callback)
        gc.enable()
        gc.unfreeze()
        task.cancel()
        await app.close()
    status = book.status(SYMBOL)
    assert status.synced, status
    assert status.gaps == status.errors == 0, status
    return {
        "messages": status.updates - 1,
        "wall": wall,
        "cpu": cpu,
        "latencies": latencies,
        "gc": records,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.endtoend")
    parser.add_argument("--rate", type=int, default=5000, help="msgs/s; 0: as fast as possible")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--levels", type=int, default=5000)
    parser.add_argument("--gc", choices=("default", "freeze", "off"), default="default")
    args = parser.parse_args()
    import orjson

    CACHE.mkdir(exist_ok=True)
    stream = CACHE / f"binance-depth-{args.levels}-200000.jsonl"
    if not stream.exists():
        generate(stream, levels=args.levels, messages=200_000)
    snapshot = orjson.loads(stream.read_bytes().split(b"\n", 1)[0])
    port = _free_port()
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    server = context.Process(
        target=_serve, args=(port, str(stream), args.rate, args.seconds, ready), daemon=True
    )
    server.start()
    try:
        ready.wait(30)
        time.sleep(0.5)
        result = asyncio.run(_client(port, snapshot, args.gc))
    finally:
        server.terminate()
        server.join(5)
    lat = sorted(result["latencies"])
    n = len(lat)

    def pct(p: float) -> float:
        return lat[min(n - 1, int(p * n))] / 1e6

    rate = "as fast as possible" if not args.rate else f"{args.rate:,} msgs/s"
    print(f"{result['messages']:,} messages sent at {rate}, gc {args.gc}; {n:,} wake-ups")
    print(
        f"  send -> wait() wakes, ms: p50 {pct(0.5):.3f}  p99 {pct(0.99):.3f}  "
        f"p99.9 {pct(0.999):.3f}  max {lat[-1] / 1e6:.3f}"
    )
    print(
        f"  received {result['messages'] / result['wall']:,.0f} msgs/s over "
        f"{result['wall']:.2f} s; client CPU {result['cpu'] / result['wall']:.0%} of one core, "
        f"{result['cpu'] / result['messages'] * 1e6:.2f} µs per message"
    )
    gcs = result["gc"]
    if gcs:
        print(
            f"  gc: {len(gcs)} collections, {sum(gcs) * 1e3:.1f} ms in total, "
            f"longest {max(gcs) * 1e3:.2f} ms, median {statistics.median(gcs) * 1e6:.0f} µs"
        )
    else:
        print("  gc: no collections")


if __name__ == "__main__":
    main()
