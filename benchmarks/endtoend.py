"""Loopback WebSocket end to end: a server sends Binance depth diffs, a datastores client
applies them; latency from send to ``wait()`` waking, and the highest sustained rate.

Usage: ``python -m benchmarks.endtoend [--rate N] [--seconds S] [--gc MODE]``
(``--rate 0``: as fast as the server can send, to find the client's maximum rate).

The server runs in its own process (its own core): a plain socket writing
pre-encoded WebSocket frames (batched when the rate is unlimited), several times
faster than the client, so the client is what is measured. The client's core does only
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
import base64
import gc
import hashlib
import multiprocessing
import socket
import statistics
import time
from pathlib import Path
from typing import Any

from .stream import SYMBOL, generate

CACHE = Path(__file__).resolve().parent / ".cache"


def _frame(payload: bytes) -> bytes:
    """One unmasked server-to-client text frame (RFC 6455, section 5.2)."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return bytes((0x81, 126)) + n.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + n.to_bytes(8, "big") + payload


def _handshake(conn: socket.socket) -> None:
    """Read the client's upgrade request and accept it (RFC 6455, section 4.2.2)."""
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("the client left during the handshake")
        request += chunk
    headers = dict(
        line.split(": ", 1) for line in request.decode("latin-1").split("\r\n")[1:] if ": " in line
    )
    key = {k.lower(): v for k, v in headers.items()}["sec-websocket-key"].strip()
    accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
    conn.sendall(
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        ).encode()
    )


_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _serve(port: int, stream: str, rate: int, seconds: float, ready: Any) -> None:
    """Server process: send the stream's diffs to the first client at ``rate`` msgs/s.

    A plain socket, no event loop: at a fixed rate each message is stamped and
    encoded when it is due, then written; at ``rate`` 0 every frame is encoded
    beforehand and written in batches of about 256 KiB, so that the sender is far
    faster than any client and what is measured is the client.
    """
    import orjson

    messages = [orjson.loads(line) for line in Path(stream).read_bytes().splitlines()[1:]]
    clock, dumps = time.perf_counter_ns, orjson.dumps
    total = min(len(messages), int(rate * seconds)) if rate else len(messages)
    frames: list[bytes] = []
    if not rate:  # E is the time the frames were encoded: latency means nothing
        now = clock()
        frames = [_frame(dumps({**msg, "E": now})) for msg in messages]
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(1)
        ready.set()
        conn, _ = listener.accept()
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _handshake(conn)
            if not rate:
                for i in range(0, len(frames), 2048):
                    conn.sendall(b"".join(frames[i : i + 2048]))
            else:
                start = time.perf_counter()
                for n in range(total):
                    delay = start + n / rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    msg = messages[n]
                    msg["E"] = clock()
                    conn.sendall(_frame(dumps(msg)))
            conn.sendall(_frame(b'{"e":"end"}'))
            conn.recv(4096)  # the client's close frame
            conn.sendall(b"\x88\x02\x03\xe8")  # close, 1000


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


def run(rate: int, seconds: float, levels: int = 5000, gc_mode: str = "default") -> dict[str, Any]:
    """One end-to-end run: the server process at ``rate`` msgs/s (0: unlimited) for
    ``seconds``, the client in this process; the latency percentiles (ms), the
    received rate and the client's CPU per message."""
    import orjson

    CACHE.mkdir(exist_ok=True)
    stream = CACHE / f"binance-depth-{levels}-200000.jsonl"
    if not stream.exists():
        generate(stream, levels=levels, messages=200_000)
    snapshot = orjson.loads(stream.read_bytes().split(b"\n", 1)[0])
    port = _free_port()
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    server = context.Process(
        target=_serve, args=(port, str(stream), rate, seconds, ready), daemon=True
    )
    server.start()
    try:
        ready.wait(30)
        result = asyncio.run(_client(port, snapshot, gc_mode))
    finally:
        server.terminate()
        server.join(5)
    lat: list[int] = sorted(result.pop("latencies"))
    n = len(lat)

    def pct(p: float) -> float:
        return lat[min(n - 1, int(p * n))] / 1e6

    return {
        **result,
        "wakeups": n,
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "p999_ms": pct(0.999),
        "max_ms": lat[-1] / 1e6,
        "msgs_per_s": result["messages"] / result["wall"],
        "cpu_share": result["cpu"] / result["wall"],
        "cpu_us_per_msg": result["cpu"] / result["messages"] * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.endtoend")
    parser.add_argument("--rate", type=int, default=5000, help="msgs/s; 0: as fast as possible")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--levels", type=int, default=5000)
    parser.add_argument("--gc", choices=("default", "freeze", "off"), default="default")
    args = parser.parse_args()
    r = run(args.rate, args.seconds, args.levels, args.gc)
    rate = "as fast as possible" if not args.rate else f"{args.rate:,} msgs/s"
    print(f"{r['messages']:,} messages sent at {rate}, gc {args.gc}; {r['wakeups']:,} wake-ups")
    print(
        f"  send -> wait() wakes, ms: p50 {r['p50_ms']:.3f}  p99 {r['p99_ms']:.3f}  "
        f"p99.9 {r['p999_ms']:.3f}  max {r['max_ms']:.3f}"
        + (
            "  (unlimited rate: E is the encoding time, latency means nothing)"
            if not args.rate
            else ""
        )
    )
    print(
        f"  received {r['msgs_per_s']:,.0f} msgs/s over {r['wall']:.2f} s; client CPU "
        f"{r['cpu_share']:.0%} of one core, {r['cpu_us_per_msg']:.2f} µs per message"
    )
    gcs = r["gc"]
    if gcs:
        print(
            f"  gc: {len(gcs)} collections, {sum(gcs) * 1e3:.1f} ms in total, "
            f"longest {max(gcs) * 1e3:.2f} ms, median {statistics.median(gcs) * 1e6:.0f} µs"
        )
    else:
        print("  gc: no collections")


if __name__ == "__main__":
    main()
