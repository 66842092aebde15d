"""The relay: publishes a collection's change batches onto NATS JetStream.

::

    store = BinanceSpotDataStore()
    async with Relay(store, servers="nats://127.0.0.1:4222") as relay:
        await client.ws_connect(url, hdlr_json=store.onmessage)
        ...                     # every change batch goes out; relay.status() tells how

The relay observes the collection (:meth:`~datastores.DataStoreCollection.add_observer`).
The observer only encodes a batch and appends it to a bounded queue; one task
publishes the queue in order. When the queue is full (NATS slow or down) a
message is dropped and counted, its sequence number is used all the same (a
mirror sees the hole), and a fresh snapshot follows once the queue has drained.
So ``onmessage`` pays one JSON encoding per batch, never a wait.

Snapshots of the whole collection are stored in the relay's key-value bucket
every ``snapshot_interval`` seconds, after a drop or a reconnect, at start, and
on request (:meth:`Relay.request_snapshot`, or a mirror asking on the control
subject). See :mod:`datastores.apps.relay._subjects` for the names and
:mod:`datastores.apps.relay._wire` for the format.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ... import _json
from ..._changefeed import ChangeBatch
from ..._collection import DataStoreCollection
from ._connect import NatsConfig, StreamLimits, connect, ensure_stream, redact_url
from ._subjects import RelayNames
from ._wire import VERSION, batch_runs, class_path, encode_snapshot, take_snapshot

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["Relay", "RelayStatus", "default_relay_name"]

logger = logging.getLogger("datastores.relay")

SNAPSHOT_KEY = "snapshot"


def default_relay_name(collection: DataStoreCollection) -> str:
    """The exchange of ``collection`` (``"binance"``), else its class name in lower case."""
    exchange = getattr(collection, "_EXCHANGE", None)
    if isinstance(exchange, str) and exchange:
        return exchange.lower()
    parts = type(collection).__module__.split(".")
    if len(parts) > 2 and parts[0] == "datastores" and parts[1] == "exchanges":
        return parts[2]
    return type(collection).__name__.lower().lstrip("_") or "relay"


@dataclass(frozen=True, slots=True)
class RelayStatus:
    """A relay's counters, frozen at the time of :meth:`Relay.status`.

    Attributes:
        state: ``"starting"``, ``"running"``, ``"disconnected"`` (NATS is
            unreachable; the client reconnects, the queue holds what it can) or
            ``"closed"``.
        epoch: this relay run's id (mirrors notice a restart by it).
        sequence: the last relay sequence number given to a message.
        published: messages handed to NATS.
        queued: messages waiting in the outgoing queue.
        dropped: messages dropped because the queue was full (each forces a snapshot).
        snapshots: snapshots stored in the bucket.
        snapshot_sequence: the relay sequence of the last stored snapshot.
        errors: failed publishes or snapshot stores.
        last_error: the last of those, as text.
    """

    state: str
    epoch: str
    sequence: int
    published: int
    queued: int
    dropped: int
    snapshots: int
    snapshot_sequence: int
    errors: int
    last_error: str | None


class _Snapshot:
    """A snapshot taken, waiting in the queue to be stored."""

    __slots__ = ("body", "header", "replies")

    def __init__(self, header: dict[str, Any], body: bytes) -> None:
        self.header = header
        self.body = body
        self.replies: list[str] = []


class Relay:
    """Publishes every change batch of ``collection`` onto NATS JetStream.

    Args:
        collection: any :class:`~datastores.DataStoreCollection`, fed as usual.
        servers: NATS URL(s): ``"nats://host:4222"``, several comma-separated or
            as a list (a cluster); user and password may be in the URL.
        credentials: a NATS ``.creds`` file, or ``None``.
        connect_options: more ``nats.connect`` keyword arguments (``tls=ssl_context``,
            ``token=...``), passed through.
        name: the relay name in subjects (default: the exchange, ``"binance"``).
        prefix: the first subject token (default ``"datastores"``).
        queue_size: most messages waiting to be published; beyond, drops.
        snapshot_interval: seconds between periodic snapshots.
        heartbeat_interval: seconds between heartbeats (mirrors notice a silent
            relay, or lost messages at the end of the stream, by them).
        storage: where the stream and the bucket keep messages (``"file"`` or
            ``"memory"``).
        replicas: copies of the stream and the bucket (3 in a three-node cluster).
        max_age: seconds the stream retains a message; a mirror can start from a
            snapshot only while the messages after it are retained, so keep it well
            above ``snapshot_interval``.
        max_msgs: most messages the stream retains.
        max_bytes: most bytes the stream retains.
    """

    def __init__(
        self,
        collection: DataStoreCollection,
        *,
        servers: str | Sequence[str] = "nats://127.0.0.1:4222",
        credentials: str | os.PathLike[str] | None = None,
        connect_options: Mapping[str, Any] | None = None,
        name: str | None = None,
        prefix: str = "datastores",
        queue_size: int = 10_000,
        snapshot_interval: float = 30.0,
        heartbeat_interval: float = 1.0,
        storage: str = "file",
        replicas: int = 1,
        max_age: float = 300.0,
        max_msgs: int = 1_000_000,
        max_bytes: int = 1 << 30,
    ) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.collection = collection
        self.names = RelayNames(name or default_relay_name(collection), prefix)
        self.config = NatsConfig.of(servers, credentials, connect_options)
        self.limits = StreamLimits(storage, replicas, max_age, max_msgs, max_bytes)
        self.queue_size = queue_size
        self.snapshot_interval = snapshot_interval
        self.heartbeat_interval = heartbeat_interval
        self.epoch = uuid.uuid4().hex[:16]
        self._state = "starting"
        self._nc: Any = None
        self._js: Any = None
        self._kv: Any = None
        self._queue: deque[Any] = deque()
        self._wake = asyncio.Event()
        self._connected = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._sequence = 0
        #: subject -> its last sequence
        self._subject_seqs: dict[str, int] = {}
        #: (store name, symbol) -> subject
        self._subjects: dict[tuple[str, str], str] = {}
        self._pending_snapshot: _Snapshot | None = None
        self._need_snapshot = False
        self._need_ensure = False
        self._published = 0
        self._dropped = 0
        self._snapshots = 0
        self._snapshot_sequence = 0
        self._errors = 0
        self._last_error: str | None = None
        self._failing = False
        self._observing = False
        #: stores whose keys and class went out in a message of this run
        self._announced: set[str] = set()

    def __repr__(self) -> str:
        return f"<Relay {self.names.root} {self.config!r} state={self._state}>"

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Connect, prepare the stream and bucket, store a first snapshot, then
        publish every batch from now on.

        Raises:
            TransportError: NATS unreachable.
            MissingDependencyError: nats-py is not installed.
        """
        self._nc = await connect(
            self.config,
            name=f"datastores relay {self.names.root}",
            on_disconnect=self._on_disconnect,
            on_reconnect=self._on_reconnect,
        )
        self._js = self._nc.jetstream()
        self._kv = await ensure_stream(self._js, self.names, self.limits)
        self._connected.set()
        await self._nc.subscribe(self.names.control, cb=self._on_request)
        self.collection.add_observer(self._observe)
        self._observing = True
        self._state = "running"
        self._take_snapshot()
        loop_name = f"relay {self.names.root}"
        self._tasks = [
            asyncio.create_task(self._send_loop(), name=f"{loop_name} sender"),
            asyncio.create_task(self._timer_loop(), name=f"{loop_name} timers"),
        ]
        await self.flush()

    async def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything queued so far is handed to NATS and NATS has it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (self._queue or self._pending_snapshot is not None) and loop.time() < deadline:
            self._wake.set()
            await asyncio.sleep(0.005)
        if self._nc is not None and self._nc.is_connected:
            with contextlib.suppress(Exception):
                await self._nc.flush(timeout=max(0.1, deadline - loop.time()))

    async def aclose(self) -> None:
        """Stop observing, publish what is queued (briefly), disconnect."""
        if self._observing:
            self.collection.remove_observer(self._observe)
            self._observing = False
        if self._state == "closed":
            return
        if self._nc is not None and self._nc.is_connected:
            await self.flush(timeout=2.0)
        self._state = "closed"
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()

    async def __aenter__(self) -> Relay:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def status(self) -> RelayStatus:
        """The relay's counters now."""
        return RelayStatus(
            state=self._state,
            epoch=self.epoch,
            sequence=self._sequence,
            published=self._published,
            queued=len(self._queue),
            dropped=self._dropped,
            snapshots=self._snapshots,
            snapshot_sequence=self._snapshot_sequence,
            errors=self._errors,
            last_error=self._last_error,
        )

    def request_snapshot(self) -> None:
        """Store a fresh snapshot soon (taken now, stored after the queued messages)."""
        self._take_snapshot()

    # ---------------------------------------------------------------- observing

    def _observe(self, batch: ChangeBatch) -> None:
        """The change-feed observer: encode and queue; never waits, never raises."""
        if self._state == "closed":
            return
        runs = batch_runs(batch)
        if not runs:
            return
        queue = self._queue
        last = len(runs) - 1
        for index, (store, symbol, changes) in enumerate(runs):
            name = store.name
            subject = self._subjects.get((name, symbol))
            if subject is None:
                subject = self._subjects[name, symbol] = self.names.subject(name, symbol)
            self._sequence += 1
            subject_seq = self._subject_seqs.get(subject, 0) + 1
            self._subject_seqs[subject] = subject_seq
            if len(queue) >= self.queue_size:
                # The sequence is spent all the same: mirrors see the hole and resync.
                self._dropped += 1
                self._need_snapshot = True
                continue
            message = {
                "v": VERSION,
                "e": self.epoch,
                "r": self._sequence,
                "q": subject_seq,
                "b": batch.seq,
                "t": batch.time,
                "m": index < last,
                "st": name,
                "sy": symbol,
                "x": changes,
            }
            if name not in self._announced:
                # A store made on the fly: mirrors learn how to make it too.
                self._announced.add(name)
                message["k"] = list(store.keys)
                message["c"] = class_path(type(store))
            try:
                payload = _json.dumps_bytes(message)
            except (TypeError, ValueError) as exc:
                self._fail(f"cannot encode batch {batch.seq} ({exc})")
                self._need_snapshot = True
                continue
            queue.append((subject, payload))
        self._wake.set()

    def _take_snapshot(self, reply: str | None = None) -> None:
        pending = self._pending_snapshot
        if pending is None:
            sink = self.collection._sink
            if sink is not None:
                sink.flush()  # a pending batch goes out first: the snapshot follows it
            body = _json.dumps_bytes(take_snapshot(self.collection))
            self._announced.update(self.collection._stores)
            header = {
                "v": VERSION,
                "e": self.epoch,
                "r": self._sequence,
                "q": dict(self._subject_seqs),
                "t": time.time(),
            }
            pending = self._pending_snapshot = _Snapshot(header, body)
            self._queue.append(pending)  # past the cap: one at a time
            self._wake.set()
        if reply:
            pending.replies.append(reply)

    async def _on_request(self, msg: Any) -> None:
        self._take_snapshot(msg.reply or None)

    # ---------------------------------------------------------------- publishing

    def _fail(self, text: str) -> None:
        self._errors += 1
        self._last_error = redact_url(text)
        if not self._failing:
            # Once per burst: a failing NATS must not flood the log at the message rate.
            self._failing = True
            logger.warning(
                "relay %s: %s (logged once until a publish succeeds; %d errors so far)",
                self.names.root,
                self._last_error,
                self._errors,
            )

    async def _on_disconnect(self) -> None:
        if self._state != "closed":
            self._state = "disconnected"
        self._connected.clear()

    async def _on_reconnect(self) -> None:
        if self._state != "closed":
            self._state = "running"
        # Messages may have been lost meanwhile, and a memory stream with them.
        self._need_ensure = True
        self._need_snapshot = True
        self._connected.set()
        self._wake.set()

    async def _send_loop(self) -> None:
        queue = self._queue
        backoff = 0.0
        while True:
            if not self._connected.is_set():
                await self._connected.wait()
            if self._need_ensure:
                try:
                    self._kv = await ensure_stream(self._js, self.names, self.limits)
                    self._need_ensure = False
                except Exception as exc:
                    self._fail(f"cannot prepare the stream ({type(exc).__name__}: {exc})")
                    await asyncio.sleep(min(backoff := backoff * 2 or 0.1, 2.0))
                    continue
            if not queue:
                if self._need_snapshot:
                    self._need_snapshot = False
                    self._take_snapshot()
                    continue
                self._wake.clear()
                await self._wake.wait()
                continue
            item = queue[0]
            try:
                if item.__class__ is tuple:
                    await self._nc.publish(item[0], item[1])
                    self._published += 1
                elif item.__class__ is int:
                    await self._nc.publish(
                        self.names.heartbeat,
                        _json.dumps_bytes(
                            {"v": VERSION, "e": self.epoch, "r": item, "t": time.time()}
                        ),
                    )
                else:
                    await self._store_snapshot(item)
                backoff = 0.0
                self._failing = False
            except Exception as exc:
                if item.__class__ is _Snapshot:
                    # Keep it queued and try again (after making sure the stream exists).
                    self._fail(f"cannot store a snapshot ({type(exc).__name__}: {exc})")
                    self._need_ensure = True
                    await asyncio.sleep(min(backoff := backoff * 2 or 0.1, 2.0))
                    continue
                self._fail(f"cannot publish ({type(exc).__name__}: {exc})")
                self._need_snapshot = True
            queue.popleft()

    async def _store_snapshot(self, snapshot: _Snapshot) -> None:
        header = snapshot.header
        # The marker's stream position is where a mirror starting from this snapshot
        # reads on: every message before it in this relay's order is before it there.
        ack = await self._js.publish(
            self.names.snapshot_marker,
            _json.dumps_bytes({"v": VERSION, "e": self.epoch, "r": header["r"]}),
            timeout=5.0,
        )
        header["s"] = ack.seq
        await self._kv.put(SNAPSHOT_KEY, encode_snapshot(header, snapshot.body))
        if self._pending_snapshot is snapshot:
            self._pending_snapshot = None
        self._snapshots += 1
        self._snapshot_sequence = header["r"]
        answer = _json.dumps_bytes({"e": self.epoch, "r": header["r"], "s": ack.seq})
        for reply in snapshot.replies:
            await self._nc.publish(reply, answer)

    async def _timer_loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_snapshot = loop.time() + self.snapshot_interval
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            if not self._connected.is_set():
                continue
            if loop.time() >= next_snapshot:
                next_snapshot = loop.time() + self.snapshot_interval
                self._take_snapshot()
            if len(self._queue) < self.queue_size:
                self._queue.append(self._sequence)
                self._wake.set()
