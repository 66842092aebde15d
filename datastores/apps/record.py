"""Record WebSocket traffic and REST bootstraps to JSON lines; replay them into a collection.

A recording is one JSON object per line (gzip-compressed when the file name
ends in ``.gz``)::

    {"t": 1700000000.12, "kind": "meta", "format": "datastores-recording", "version": 1, ...}
    {"t": 1700000000.20, "kind": "rest", "method": "GET", "url": "...", "status": 200,
     "data": {...}}   (one line in the file)
    {"t": 1700000000.31, "kind": "ws", "url": "wss://...", "data": {...}}
    {"t": 1700000004.02, "kind": "reconnect", "url": "wss://..."}

``t`` is the receive time (seconds since the epoch, from the recorder's clock).
``ws`` records hold the decoded message (``data``), or ``text`` / ``bytes``
(base64) for handlers of raw frames. Unknown kinds are skipped on replay, so
the format can grow.

The recorder is an observer of the collections' change feed
(:meth:`~datastores.DataStoreCollection.add_observer`): it writes the source of
each batch, the decoded message or the consumed response, so every snapshot a
collection fetches by itself is in the file too.

Recording::

    recorder = Recorder("btcusdt.jsonl.gz")
    await client.ws_connect(url, hdlr_json=recorder.wrap(store.onmessage))
    await recorder.initialize(store, client.get(snapshot_url))  # attaches to the store
    ...
    recorder.close()

Replaying::

    store = BinanceSpotDataStore()
    stats = await replay("btcusdt.jsonl.gz", store)            # as fast as possible
    stats = await replay("btcusdt.jsonl.gz", store, speed=1.0)  # at recorded speed
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import io
import logging
import os
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from yarl import URL

from .. import _json
from .._changefeed import ChangeBatch, RestSource, WsSource
from .._clock import SYSTEM_CLOCK, Clock
from .._collection import DataStoreCollection
from .._recovery import replaying
from .._registry import http_auth_by_host, ws_protocol_by_host

if TYPE_CHECKING:
    from types import TracebackType

    from aiohttp import ClientResponse

__all__ = [
    "RecordedResponse",
    "Recorder",
    "ReplayStats",
    "check_recording",
    "read_recording",
    "replay",
]

logger = logging.getLogger("datastores.record")

FORMAT = "datastores-recording"
VERSION = 1

Handler = Callable[[Any, Any], object]


def _open(path: str | os.PathLike[str], mode: str) -> IO[str]:
    if str(path).endswith(".gz"):
        binary: Any = gzip.GzipFile(path, mode + "b")
        return io.TextIOWrapper(binary, encoding="utf-8", newline="\n")
    return open(path, mode, encoding="utf-8", newline="\n")


def _url_of(ws: Any) -> str | None:
    url = getattr(ws, "url", None)
    return str(url) if url is not None else None


class _Url:
    """The connection of a message, as far as a record needs it (its ``url``)."""

    __slots__ = ("url",)

    def __init__(self, url: str | None) -> None:
        self.url = url


class _RecordingHandler:
    """What :meth:`Recorder.wrap` returns the bound ``handle`` method of.

    Being a bound method whose owner has ``on_reconnect`` keeps the WebSocketApp
    reconnect notification working through the wrapper.
    """

    __slots__ = ("_handler", "_observed", "_recorder")

    def __init__(self, recorder: Recorder, handler: Handler) -> None:
        self._recorder = recorder
        self._handler = handler
        owner = getattr(handler, "__self__", None)
        # A collection's own onmessage: its change feed carries every message (with
        # the responses, in the order they were applied), so the feed records it.
        self._observed = False
        if isinstance(owner, DataStoreCollection) and handler.__name__ == "onmessage":
            recorder.attach(owner, messages=True)
            self._observed = True

    def handle(self, msg: Any, ws: Any = None) -> object:
        if not self._observed:
            self._recorder.record_message(msg, ws)
        return self._handler(msg, ws)

    def on_reconnect(self, ws: Any = None) -> None:
        self._recorder.record_reconnect(ws)
        owner = getattr(self._handler, "__self__", None)
        callback = getattr(owner, "on_reconnect", None)
        if callable(callback):
            callback(ws)


class _RecordingRequest:
    """An awaitable around a request that records the response it gives.

    Keeps the request's ``client`` attribute, so ``DataStoreCollection.initialize``
    still learns which client to use for later snapshots.
    """

    def __init__(self, recorder: Recorder, request: Awaitable[ClientResponse] | ClientResponse):
        self._recorder = recorder
        self._request = request
        self.client = getattr(request, "client", None)

    def __await__(self) -> Any:
        return self._run().__await__()

    async def _run(self) -> ClientResponse:
        request = self._request
        response = await request if isinstance(request, Awaitable) else request
        # aiohttp keeps the body after read(): the collection reads the same bytes.
        body = await response.read()
        self._recorder.record_response(response, body)
        return response


class Recorder:
    """Writes received WebSocket messages and bootstrap REST responses to a file.

    Args:
        path: the output file; ``.gz`` compresses it.
        clock: time source of the ``t`` field.
        meta: extra fields for the first (``meta``) line, e.g. the store class name.

    Use it as a context manager, or call :meth:`close`. Writing costs one JSON
    encoding per message, on the handler's path. A context left by an exception
    before anything was recorded removes the file (it would hold only its header).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Clock = SYSTEM_CLOCK,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._file: IO[str] | None = _open(path, "w")
        #: records written, by kind
        self.counts: dict[str, int] = {"ws": 0, "rest": 0, "reconnect": 0}
        #: observed collections -> whether their messages are recorded from the feed
        self._attached: dict[DataStoreCollection, bool] = {}
        self._write({"kind": "meta", "format": FORMAT, "version": VERSION, **(meta or {})})

    def __repr__(self) -> str:
        return f"<Recorder {str(self.path)!r} {self.counts}>"

    def _write(self, record: dict[str, Any]) -> None:
        if self._file is None:
            raise RuntimeError(f"recorder for {str(self.path)!r} is closed")
        self._file.write(_json.dumps({"t": self._clock.time(), **record}) + "\n")

    # ------------------------------------------------------------- recording

    def wrap(self, handler: Handler) -> Handler:
        """A handler that records each message, then calls ``handler(msg, ws)``.

        Pass it as ``hdlr_json``/``hdlr_str``/``hdlr_bytes``. Reconnect
        notifications still reach ``handler``'s collection (and are recorded).
        """
        return _RecordingHandler(self, handler).handle

    def record_message(self, msg: Any, ws: Any = None) -> None:
        """Record one received message (decoded JSON, text or bytes)."""
        if self._file is None:
            return
        record: dict[str, Any] = {"kind": "ws", "url": _url_of(ws)}
        if isinstance(msg, str):
            record["text"] = msg
        elif isinstance(msg, (bytes, bytearray, memoryview)):
            record["bytes"] = base64.b64encode(bytes(msg)).decode()
        else:
            record["data"] = msg
        self._write(record)
        self.counts["ws"] += 1

    def record_reconnect(self, ws: Any = None) -> None:
        """Record that the WebSocketApp reconnected (replay calls ``on_reconnect``)."""
        if self._file is None:
            return
        for collection in self._attached:
            # A snapshot applied before the reconnect must be written before it.
            if collection._sink is not None:
                collection._sink.flush()
        self._write({"kind": "reconnect", "url": _url_of(ws)})
        self.counts["reconnect"] += 1

    def record_response(self, response: ClientResponse, body: bytes) -> None:
        """Record one HTTP response (JSON body as ``data``, else ``text``)."""
        if self._file is None:
            return
        record: dict[str, Any] = {
            "kind": "rest",
            "method": response.method,
            "url": str(response.url),
            "status": response.status,
        }
        try:
            record["data"] = _json.loads(body) if body else None
        except ValueError:
            record["text"] = body.decode("utf-8", "replace")
        self._write(record)
        self.counts["rest"] += 1

    def record_rest(self, method: str, url: str, status: int, data: Any) -> None:
        """Record one decoded HTTP response a collection consumed."""
        if self._file is None:
            return
        self._write({"kind": "rest", "method": method, "url": url, "status": status, "data": data})
        self.counts["rest"] += 1

    def capture(
        self, request: Awaitable[ClientResponse] | ClientResponse
    ) -> Awaitable[ClientResponse]:
        """Wrap a request (``client.get(...)``) so its response is recorded when awaited."""
        return _RecordingRequest(self, request)

    def attach(self, collection: DataStoreCollection, *, messages: bool = False) -> None:
        """Observe ``collection``'s change feed from now on and record every HTTP
        response it consumes: the ones given to ``initialize()`` and the snapshots
        it fetches by itself (after a gap or a reconnect), so a replay resyncs
        where the live store did. With ``messages``, every message its
        ``onmessage`` handles is recorded too (what :meth:`wrap` does).
        Idempotent (``messages`` only ever turns on); :meth:`close` detaches."""
        self._attached[collection] = messages or self._attached.get(collection, False)
        collection.add_observer(self._on_batch)

    def _on_batch(self, batch: ChangeBatch) -> None:
        """Write the source of one change-feed batch."""
        source = batch.source
        if isinstance(source, RestSource):
            if not batch.continued:
                self.record_rest(source.method, source.url, source.status, source.data)
        elif isinstance(source, WsSource) and self._attached.get(batch.collection):
            self.record_message(source.message, _Url(source.url))

    async def initialize(
        self,
        collection: DataStoreCollection,
        *requests: Awaitable[ClientResponse] | ClientResponse,
    ) -> None:
        """:meth:`attach` ``collection``, then ``collection.initialize(*requests)``."""
        self.attach(collection)
        await collection.initialize(*requests)

    # ------------------------------------------------------------- lifecycle

    def flush(self) -> None:
        """Push buffered records to the file."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        """Detach from collections, flush and close the file (idempotent)."""
        for collection in self._attached:
            collection.remove_observer(self._on_batch)  # delivers a pending batch first
        self._attached.clear()
        if self._file is not None:
            file, self._file = self._file, None
            file.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        if exc_type is not None and not any(self.counts.values()):
            # It failed before recording anything: a file with only its header
            # would pass for an (empty) recording.
            self.path.unlink(missing_ok=True)


# ------------------------------------------------------------------- replay


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    """What a collection's ``_onresponse`` sees of a recorded HTTP response."""

    method: str
    url: URL
    status: int

    @property
    def ok(self) -> bool:
        """2xx status."""
        return 200 <= self.status < 300


class _ReplaySocket:
    """Stands in for the connection a message came from (``url``; sends are dropped)."""

    __slots__ = ("sent", "url")

    def __init__(self, url: str | None) -> None:
        self.url = URL(url) if url else None
        self.sent = 0

    @property
    def closed(self) -> bool:
        return True

    async def send_str(self, data: str, *args: Any, **kwargs: Any) -> None:
        self.sent += 1

    async def send_bytes(self, data: bytes, *args: Any, **kwargs: Any) -> None:
        self.sent += 1

    async def send_json(self, data: Any, *args: Any, **kwargs: Any) -> None:
        self.sent += 1


@dataclass(frozen=True, slots=True)
class ReplayStats:
    """What a replay fed: counts by kind, and the recording's time span (seconds)."""

    messages: int
    responses: int
    reconnects: int
    skipped: int
    span: float


def read_recording(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The records of a recording file, in order (blank lines skipped).

    Raises:
        ValueError: a line is not a JSON object (with its line number), or the
            file is not a datastores recording.
    """
    with _open(path, "r") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                record = _json.loads(line)
            except ValueError:
                raise ValueError(f"{path}: line {number} is not JSON") from None
            if not isinstance(record, dict):
                raise ValueError(f"{path}: line {number} is not a JSON object")
            if number == 1 and record.get("format") not in (None, FORMAT):
                raise ValueError(f"{path}: not a datastores recording")
            yield record


async def replay(
    path: str | os.PathLike[str],
    collection: DataStoreCollection,
    *,
    speed: float | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> ReplayStats:
    """Feed a recording through ``collection``: REST responses to its response
    handler, messages to ``onmessage``, reconnects to ``on_reconnect``.

    Args:
        speed: ``None`` replays as fast as possible (yielding to the event loop
            every 1000 records); ``1.0`` at recorded speed, ``2.0`` twice as fast.
        clock: the clock used to wait between records when ``speed`` is set.

    Snapshots a collection fetches by itself during the recording are in the file
    (the recorder observes the collection's responses). Messages the collection
    sends are dropped.

    Raises:
        ValueError: the recording does not fit ``collection`` (see
            :func:`check_recording`), or holds nothing to replay.
    """
    if speed is not None and speed <= 0:
        raise ValueError("speed must be positive (or None for as fast as possible)")
    check_recording(path, collection)
    with replaying():  # the snapshots come from the file: no "give a Client" notice
        stats = await _replay(path, collection, speed, clock)
    if stats.skipped and not (stats.messages or stats.responses or stats.reconnects):
        raise ValueError(
            f"{path}: none of its {stats.skipped} lines is a recorded message, response or "
            "reconnect: not a datastores recording (see `datastores record`)"
        )
    return stats


#: records read by :func:`check_recording` (the head of the file says whose traffic it is)
_CHECKED_RECORDS = 1000


def _class_name(spec: str) -> str:
    """``"module:Class"``, ``"module.Class"`` or ``"Class"`` -> ``"Class"``."""
    return spec.rsplit(":", 1)[-1].rsplit(".", 1)[-1]


def _exchange_of(url: object) -> tuple[str, str] | None:
    """(host, exchange) of a recorded URL whose host an exchange registered."""
    if not isinstance(url, str):
        return None
    host = URL(url).host
    if not host:
        return None
    entry = http_auth_by_host().get(host) or ws_protocol_by_host().get(host)
    return (host, entry.exchange) if entry is not None else None


def check_recording(path: str | os.PathLike[str], collection: DataStoreCollection) -> None:
    """Refuse a recording that does not fit ``collection``.

    Raises:
        ValueError: the recording names the collection class it was made with and
            ``collection`` is not one (nor a subclass), or its first records talk
            to another exchange's hosts than ``collection``'s (both named).
    """
    given = type(collection)
    exchange = getattr(given, "_EXCHANGE", None)
    for count, record in enumerate(read_recording(path)):
        if count >= _CHECKED_RECORDS:
            return
        if record.get("kind") == "meta":
            store = record.get("store")
            if isinstance(store, str) and _class_name(store) not in {
                c.__name__ for c in given.__mro__
            }:
                raise ValueError(
                    f"{path} was recorded with {_class_name(store)}, not {given.__name__}: "
                    f"replay it into {_class_name(store)} (`datastores replay` without a store "
                    "uses the recording's)"
                )
            continue
        if not exchange:
            continue
        found = _exchange_of(record.get("url"))
        if found is not None and found[1] != exchange:
            raise ValueError(
                f"{path} holds {found[1]} traffic ({found[0]}); {given.__name__} reads "
                f"{exchange}'s: replay it into a {found[1]} collection"
            )


async def _replay(
    path: str | os.PathLike[str],
    collection: DataStoreCollection,
    speed: float | None,
    clock: Clock,
) -> ReplayStats:
    sockets: dict[str | None, _ReplaySocket] = {}
    messages = responses = reconnects = skipped = 0
    first: float | None = None
    last = 0.0
    started = clock.monotonic()
    for count, record in enumerate(read_recording(path)):
        t = float(record.get("t", 0.0))
        if first is None:
            first = t
        last = t
        if speed is not None:
            delay = (t - first) / speed - (clock.monotonic() - started)
            if delay > 0:
                await clock.sleep(delay)
        elif count % 1000 == 999:
            await asyncio.sleep(0)
        kind = record.get("kind")
        if kind == "ws":
            url = record.get("url")
            ws = sockets.get(url)
            if ws is None:
                ws = sockets[url] = _ReplaySocket(url)
            if "data" in record:
                msg: Any = record["data"]
            elif "text" in record:
                msg = record["text"]
            elif "bytes" in record:
                msg = base64.b64decode(record["bytes"])
            else:
                skipped += 1
                continue
            collection.onmessage(msg, ws)
            messages += 1
        elif kind == "rest":
            status = int(record.get("status", 0))
            if not 200 <= status < 300 or "data" not in record:
                skipped += 1
                continue
            response = RecordedResponse(
                str(record.get("method", "GET")), URL(str(record["url"])), status
            )
            # as initialize() would: one batch of the change feed, then waiters woken
            await collection._apply_response(response, record["data"])
            collection.onmessage_done()
            responses += 1
        elif kind == "reconnect":
            url = record.get("url")
            collection.on_reconnect(sockets.get(url) or _ReplaySocket(url))
            reconnects += 1
        elif kind != "meta":
            skipped += 1
    return ReplayStats(messages, responses, reconnects, skipped, last - (first or last))
