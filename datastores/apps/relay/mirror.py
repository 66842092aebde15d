"""The mirror: rebuilds a relayed collection in another process, from NATS JetStream.

::

    mirror = Mirror(BinanceSpotDataStore, servers="nats://127.0.0.1:4222")
    async with mirror:
        await mirror.wait_synced()
        mirror.orderbook.sorted({"s": "BTCUSDT"}, limit=10)   # the same read API
        mirror.status()                                        # synced? how far behind?

A mirror starts from the relay's latest snapshot (it asks the relay for a fresh
one, and falls back to the one in the bucket when the relay does not answer),
then applies every message after it, in the stream's order. It is *synced*
only while it holds exactly the relay's state at some relay sequence: every
sequence number seen, in order, from a relay that is alive. A hole in the
relay sequence or in a subject's sequence, a new relay epoch (the relay
restarted), heartbeats that say messages are missing, or silence longer than
``stale_after`` mark it unsynced — its books too (``status(symbol).synced``
turns false) — and it starts again from a snapshot. While synced, each book's
``status(symbol).synced`` is the origin's verdict for that book.

Memory stays bounded: at most ``max_pending`` received messages wait to be
applied (JetStream flow control holds the rest on the server); a mirror too
slow for the stream's retention loses its place, says so in ``status()``, and
resyncs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ... import _json
from ..._changefeed import ChangeBatch, IntegrityEvent, LocalSource, apply_batch
from ..._collection import DataStoreCollection
from ..._orderbook import OrderBookStore
from ._connect import NatsConfig, connect, redact_url
from ._subjects import RelayNames
from ._wire import WireError, decode_changes, decode_snapshot, restore_snapshot

if TYPE_CHECKING:
    from types import TracebackType

    from ..._changefeed import Change

__all__ = ["Mirror", "MirrorStatus"]

logger = logging.getLogger("datastores.relay")

SNAPSHOT_KEY = "snapshot"

#: ``listener(mirror)``: called after each change the mirror applies or declares
Listener = Callable[["Mirror"], None]


@dataclass(frozen=True, slots=True)
class MirrorStatus:
    """A mirror's state, frozen at the time of :meth:`Mirror.status`.

    Attributes:
        state: ``"connecting"``, ``"resyncing"`` (loading a snapshot),
            ``"catching up"`` (restored from the bucket while the relay was
            silent: synced once a relay heartbeat confirms the sequence),
            ``"synced"``, ``"unsynced"`` (lost its place; resyncing) or ``"closed"``.
        synced: ``state == "synced"``: the collection holds exactly the relay's
            state at relay sequence ``sequence``.
        epoch: the relay run followed (``None`` before the first snapshot).
        sequence: the last relay sequence applied.
        lag: messages the relay has published that are not applied yet (in the
            stream or received); 0 when caught up.
        pending: messages received and waiting to be applied (at most ``max_pending``).
        batches: batches applied; snapshots: snapshots restored.
        gaps: lost messages detected; resyncs: restarts from a snapshot after the first.
        reason: why it is not synced (or was not, last), ``None`` if never.
        origin_time: when the origin received the last batch applied (seconds
            since the epoch, the origin's clock; ``None`` before the first):
            ``time.time() - origin_time`` is how far behind the mirror is.
    """

    state: str
    synced: bool
    epoch: str | None
    sequence: int
    lag: int
    pending: int
    batches: int
    snapshots: int
    gaps: int
    resyncs: int
    reason: str | None
    origin_time: float | None = None


class _NotReady(Exception):
    """Nothing to mirror yet (no bucket, or no snapshot in it)."""


class Mirror:
    """A collection rebuilt from a relay; reads like the collection itself.

    Args:
        collection: the origin's collection class (a fresh instance is made), or
            an empty instance of it. ``mirror.orderbook``, ``mirror["trade"]``,
            ``mirror.wait()`` read it; :attr:`collection` is the instance.
        servers: NATS URL(s), as for :class:`~datastores.apps.relay.Relay`.
        credentials: a NATS ``.creds`` file, or ``None``.
        connect_options: more ``nats.connect`` keyword arguments, passed through.
        name: the relay's name (default: the collection's exchange).
        prefix: the relay's first subject token (default ``"datastores"``).
        max_pending: most received messages waiting to be applied.
        stale_after: seconds without any message (the relay sends heartbeats)
            after which the mirror stops calling itself synced.
        request_timeout: seconds to wait for the relay to answer a snapshot request.
    """

    def __init__(
        self,
        collection: DataStoreCollection | type[DataStoreCollection],
        *,
        servers: str | Sequence[str] = "nats://127.0.0.1:4222",
        credentials: str | os.PathLike[str] | None = None,
        connect_options: Mapping[str, Any] | None = None,
        name: str | None = None,
        prefix: str = "datastores",
        max_pending: int = 10_000,
        stale_after: float = 5.0,
        request_timeout: float = 2.0,
    ) -> None:
        from .publisher import default_relay_name

        instance = collection() if isinstance(collection, type) else collection
        self.collection: DataStoreCollection = instance
        self.names = RelayNames(name or default_relay_name(instance), prefix)
        self.config = NatsConfig.of(servers, credentials, connect_options)
        self.max_pending = max_pending
        self.stale_after = stale_after
        self.request_timeout = request_timeout
        self._nc: Any = None
        self._js: Any = None
        self._kv: Any = None
        self._sub: Any = None
        self._last_msg: Any = None
        self._generation = 0
        self._task: asyncio.Task[None] | None = None
        self._trouble = asyncio.Event()
        self._synced_event = asyncio.Event()
        self._listeners: list[Listener] = []
        self._state = "connecting"
        self._epoch: str | None = None
        self._sequence = 0
        self._relay_sequence = 0
        self._subject_seqs: dict[str, int] = {}
        self._verdicts: dict[tuple[str, str], tuple[bool, str | None]] = {}
        self._catalog: dict[str, tuple[list[str], str]] = {}
        self._parts: list[Change] = []
        self._last_activity = 0.0
        self._batches = 0
        self._snapshots = 0
        self._gaps = 0
        self._resyncs = 0
        self._reason: str | None = None
        self._origin_time: float | None = None

    def __repr__(self) -> str:
        return f"<Mirror {self.names.root} {self.config!r} state={self._state}>"

    # ------------------------------------------------------------ reading

    def __getattr__(self, name: str) -> Any:
        # Only for names the mirror lacks: the collection's stores and methods.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.collection, name)

    def __getitem__(self, name: str) -> Any:
        return self.collection[name]

    async def wait(self) -> None:
        """Wait for the next change applied (the collection's ``wait()``)."""
        await self.collection.wait()

    def status(self) -> MirrorStatus:
        """The mirror's state now."""
        pending = 0
        sub = self._sub
        if sub is not None:
            with contextlib.suppress(Exception):
                pending = int(sub.pending_msgs)
        in_stream = 0
        if self._last_msg is not None:
            with contextlib.suppress(Exception):
                in_stream = int(self._last_msg.metadata.num_pending)
        lag = max(in_stream + pending, self._relay_sequence - self._sequence)
        return MirrorStatus(
            state=self._state,
            synced=self._state == "synced",
            epoch=self._epoch,
            sequence=self._sequence,
            lag=lag,
            pending=pending,
            batches=self._batches,
            snapshots=self._snapshots,
            gaps=self._gaps,
            resyncs=self._resyncs,
            reason=self._reason,
            origin_time=self._origin_time,
        )

    async def wait_synced(self, timeout: float | None = None) -> bool:
        """Wait until the mirror is synced; ``False`` if ``timeout`` passed first."""
        try:
            await asyncio.wait_for(self._synced_event.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(mirror)`` after every batch or snapshot applied and every
        change of synced state (synchronously: keep it short)."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener`` (no error if absent)."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _notify(self) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(self)
            except Exception:
                logger.exception("mirror %s: a listener failed", self.names.root)

    # ---------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Connect and start following the relay (in a background task).

        Raises:
            TransportError: NATS unreachable.
            MissingDependencyError: nats-py is not installed.
        """
        self._nc = await connect(
            self.config,
            name=f"datastores mirror {self.names.root}",
            on_disconnect=self._on_disconnect,
            on_reconnect=self._on_reconnect,
        )
        self._js = self._nc.jetstream()
        self._task = asyncio.create_task(self._run(), name=f"mirror {self.names.root}")

    async def aclose(self) -> None:
        """Stop following and disconnect (the collection keeps its last state, unsynced)."""
        if self._state == "closed":
            return
        self._desync("mirror closed", quiet=True)
        self._state = "closed"
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._unsubscribe()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()

    async def __aenter__(self) -> Mirror:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _on_disconnect(self) -> None:
        return None  # the silence shows; the consumer is recreated after the reconnect

    async def _on_reconnect(self) -> None:
        # An ordered consumer lives in memory on one server: after a reconnect (a
        # restarted server, another node of the cluster) start again from a snapshot.
        self._desync("reconnected to NATS")

    # ------------------------------------------------------------ syncing

    async def _run(self) -> None:
        backoff = 0.0
        loop = asyncio.get_running_loop()
        # Not "while True": asyncio.wait_for may swallow a cancellation (Python < 3.12).
        while self._state != "closed":
            try:
                self._trouble.clear()
                await self._resync()
                backoff = 0.0
                while not self._trouble.is_set() and self._state != "closed":
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._trouble.wait(), self.stale_after / 4)
                    silent = loop.time() - self._last_activity
                    if not self._trouble.is_set() and silent > self.stale_after:
                        self._desync(
                            f"nothing from the relay for {silent:.1f} s "
                            "(relay stopped, or NATS unreachable)"
                        )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                text = (
                    str(exc)
                    if isinstance(exc, (_NotReady, WireError))
                    else f"{type(exc).__name__}: {exc}"
                )
                self._desync(redact_url(text))
                backoff = min(max(backoff * 2, 0.1), 2.0)
                await asyncio.sleep(backoff)

    async def _request_snapshot(self) -> dict[str, Any] | None:
        """Ask the relay to store a fresh snapshot; its position, or ``None`` if no
        relay answered."""
        try:
            reply = await self._nc.request(self.names.control, b"", timeout=self.request_timeout)
            answer = _json.loads(reply.data)
        except Exception:
            return None
        return answer if isinstance(answer, dict) else None

    async def _resync(self) -> None:
        from nats.js.api import ConsumerConfig, DeliverPolicy
        from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NotFoundError

        if self._snapshots:
            self._resyncs += 1
        if self._state != "closed":
            self._state = "resyncing"
        answer = await self._request_snapshot()
        if self._kv is None:
            try:
                self._kv = await self._js.key_value(self.names.bucket)
            except (BucketNotFoundError, NotFoundError):
                raise _NotReady(
                    f"no relay has published {self.names.root} yet (bucket "
                    f"{self.names.bucket!r} not found)"
                ) from None
        try:
            entry = await self._kv.get(SNAPSHOT_KEY)
        except (KeyNotFoundError, NotFoundError):
            raise _NotReady(f"no snapshot in the bucket {self.names.bucket!r} yet") from None
        header, body = decode_snapshot(entry.value)
        if answer is not None and (
            header.get("e") != answer.get("e") or header.get("r", 0) < answer.get("r", 0)
        ):
            raise _NotReady("the relay's fresh snapshot is not in the bucket yet")
        await self._unsubscribe()
        self._generation += 1
        generation = self._generation

        async def on_message(msg: Any) -> None:
            if generation == self._generation:
                self._on_message(msg)

        config = ConsumerConfig(opt_start_seq=int(header["s"]) + 1)
        self._sub = await self._js.subscribe(
            self.names.all_subjects,
            stream=self.names.stream,
            cb=on_message,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            config=config,
            idle_heartbeat=max(0.5, self.stale_after / 4),
            pending_msgs_limit=self.max_pending,
            pending_bytes_limit=max(self.max_pending * 4096, 1 << 20),
        )
        # No await from here on: the snapshot is in place before any message is handled.
        self._restore(header, body, live=answer is not None)

    def _restore(self, header: dict[str, Any], body: dict[str, Any], *, live: bool) -> None:
        collection = self.collection
        sink = collection._sink
        outer = sink.begin(LocalSource()) if sink is not None else None
        try:
            self._verdicts, self._catalog = restore_snapshot(collection, body)
        finally:
            if sink is not None:
                sink.end(outer)
        self._epoch = str(header["e"])
        self._sequence = self._relay_sequence = int(header["r"])
        self._subject_seqs = {str(k): int(v) for k, v in dict(header.get("q", {})).items()}
        self._parts = []
        self._last_msg = None
        self._snapshots += 1
        self._last_activity = asyncio.get_running_loop().time()
        if live:
            self._become_synced()
        else:
            self._state = "catching up"
            self._reason = "restored from the bucket; waiting for the relay to confirm"
            self._notify()

    def _become_synced(self) -> None:
        self._state = "synced"
        for (store_name, symbol), (synced, error) in self._verdicts.items():
            book = self.collection._stores.get(store_name)
            if isinstance(book, OrderBookStore):
                state = book._state(symbol)
                state.phase = "synced" if synced else "unsynced"
                if not synced:
                    state.last_error = error
        self._synced_event.set()
        self.collection.onmessage_done()
        self._notify()

    def _desync(self, reason: str, *, gap: bool = False, quiet: bool = False) -> None:
        """Stop calling the mirror synced (and its books), and start a resync."""
        if gap:
            self._gaps += 1
        self._reason = reason
        self._trouble.set()
        if self._state not in ("synced", "catching up"):
            return
        self._state = "unsynced"
        self._synced_event.clear()
        if not quiet:
            logger.warning("mirror %s: unsynced: %s", self.names.root, reason)
        collection = self.collection
        sink = collection._sink
        outer = sink.begin(LocalSource()) if sink is not None else None
        for store in collection._stores.values():
            if isinstance(store, OrderBookStore):
                for symbol in store.symbols:
                    state = store._state(symbol)
                    if state.phase != "unsynced":
                        state.phase = "unsynced"
                        state.last_error = f"mirror: {reason}"
                        if sink is not None:
                            sink.event(store, symbol, "unsynced", None, state.last_error)
        if sink is not None:
            sink.end(outer)
        collection.onmessage_done()
        self._notify()

    async def _unsubscribe(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
            # nats-py cancels the consumer's heartbeat and flow-control tasks only when
            # the unsubscribe got through; on a lost connection they would linger.
            jsi = getattr(getattr(sub, "_sub", None), "_jsi", None)
            for name in ("_hbtask", "_fctask"):
                task = getattr(jsi, name, None)
                if task is not None:
                    task.cancel()

    # ----------------------------------------------------------- applying

    def _on_message(self, msg: Any) -> None:
        if self._state not in ("synced", "catching up"):
            return  # waiting for the next snapshot
        self._last_activity = asyncio.get_running_loop().time()
        self._last_msg = msg
        try:
            data = _json.loads(msg.data)
            epoch = data["e"]
            sequence = int(data["r"])
        except (ValueError, KeyError, TypeError):
            self._desync(f"unreadable message on {msg.subject}")
            return
        if epoch != self._epoch:
            self._desync("the relay restarted (new epoch)")
            return
        subject = msg.subject
        names = self.names
        if subject == names.heartbeat or subject == names.snapshot_marker:
            if sequence > self._relay_sequence:
                self._relay_sequence = sequence
            if sequence != self._sequence or self._parts:
                self._desync(
                    f"lost messages: the relay is at {sequence}, the mirror at {self._sequence}",
                    gap=True,
                )
            elif (
                self._state == "catching up"
                and subject == names.heartbeat
                and abs(time.time() - float(data.get("t", 0.0))) <= self.stale_after
            ):
                # A fresh heartbeat, not one replayed from the stream: the relay is alive
                # and at the mirror's sequence.
                self._become_synced()
            return
        if sequence != self._sequence + 1:
            self._desync(
                f"lost messages: relay sequence {self._sequence + 1} expected, got {sequence}",
                gap=True,
            )
            return
        subject_seq = self._subject_seqs.get(subject, 0) + 1
        if data.get("q") != subject_seq:
            self._desync(
                f"lost messages on {subject}: {subject_seq} expected, got {data.get('q')}",
                gap=True,
            )
            return
        try:
            if "k" in data:
                self._catalog[data["st"]] = (list(data["k"]), str(data["c"]))
            self._parts.extend(
                decode_changes(self.collection, data["st"], data["sy"], data["x"], self._catalog)
            )
        except (WireError, KeyError, TypeError, IndexError) as exc:
            self._desync(f"unusable message on {subject} ({exc})")
            return
        self._sequence = sequence
        if sequence > self._relay_sequence:
            self._relay_sequence = sequence
        self._subject_seqs[subject] = subject_seq
        if data.get("m"):
            return  # the rest of the batch follows: apply it whole
        changes, self._parts = self._parts, []
        self._apply(int(data.get("b", 0)), float(data.get("t", 0.0)), changes)

    def _apply(self, seq: int, origin_time: float, changes: list[Change]) -> None:
        collection = self.collection
        sink = collection._sink
        outer = sink.begin(LocalSource()) if sink is not None else None
        try:
            apply_batch(
                collection, ChangeBatch(collection, seq, origin_time, LocalSource(), tuple(changes))
            )
            synced = self._state == "synced"
            for change in changes:
                if change.__class__ is IntegrityEvent:
                    event: Any = change
                    self._verdicts[event.store.name, event.symbol] = (event.synced, event.detail)
                    if not synced:
                        # The origin's verdict waits until the mirror itself is synced.
                        event.store._state(event.symbol).phase = "unsynced"
        except Exception as exc:
            self._desync(f"cannot apply batch {seq} ({type(exc).__name__}: {exc})")
            return
        finally:
            if sink is not None:
                sink.end(outer)
        self._batches += 1
        self._origin_time = origin_time
        self._notify()
