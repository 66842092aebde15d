"""Keeping OKX order books in sync.

One :class:`BookSync` per ``OKXDataStore``. It decides which book channel feeds
``books`` for each instrument, applies book messages, and recovers a book that
lost sync:

* **WS snapshot available** (the channel sent ``action: snapshot`` after the
  last subscribe): resubscribe on the same connection (``unsubscribe`` then
  ``subscribe``); the new snapshot replaces the book. Retried with backoff while
  no snapshot comes.
* **No WS snapshot** (OKX is removing it, changelog 2026): buffer updates, fetch
  ``GET /api/v5/market/books?instId=..&sz=..&source=0`` and bridge it with
  ``prevSeqId <= snapshot seqId < seqId``; refetch while the snapshot is older
  than the stream. https://www.okx.com/docs-v5/log_en (How to manage a local
  order book correctly).
* ``books5``/``bbo-tbt`` push whole books: the next push repairs them.

Background work (one task per channel and instrument at most) is registered
with the ``datastores.Client`` (``client.add_closer``) so it ends with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from typing import Any

from ..._clock import SYSTEM_CLOCK, Clock
from ..._errors import AuthenticationError, ExchangeAPIError, RateLimitError
from ..._integrity import BookDelta
from ._books import (
    BOOK_DEPTHS,
    BOOK_RANKS,
    REST_SNAPSHOT_DEPTHS,
    SNAPSHOT_ONLY_CHANNELS,
    OKXBooks,
)

__all__ = ["BookSync", "okx_api_error"]

logger = logging.getLogger("datastores.exchanges.okx")

REST_URL = "https://www.okx.com"
BOOKS_PATH = "/api/v5/market/books"
#: first wait after a failed REST snapshot; doubles up to FETCH_BACKOFF_MAX
FETCH_BACKOFF_START = 0.5
FETCH_BACKOFF_MAX = 30.0
#: wait before refetching a snapshot that is older than the stream
SNAPSHOT_TOO_OLD_DELAY = 0.2
#: after this many too-old snapshots, drop the buffer and bridge from scratch
SNAPSHOT_TOO_OLD_MAX = 5
#: how long to wait for the snapshot after a resubscribe (doubles per retry)
RESUBSCRIBE_TIMEOUT = 10.0
RESUBSCRIBE_TIMEOUT_MAX = 300.0

# OKX codes: https://www.okx.com/docs-v5/en/#error-code-rest-api-general-class
_RATE_LIMIT_CODES = frozenset({"50011", "50061"})
_AUTH_CODES = frozenset(
    {"50100", "50101", "50102", "50103", "50104", "50105", "50111", "50112", "50113", "50114"}
)


def okx_api_error(
    endpoint: str, status: int | None, code: object, message: str
) -> ExchangeAPIError:
    """The :class:`ExchangeAPIError` subclass for an OKX error ``code``."""
    cls: type[ExchangeAPIError] = ExchangeAPIError
    if str(code) in _RATE_LIMIT_CODES or status == 429:
        cls = RateLimitError
    elif str(code) in _AUTH_CODES or status in (401, 403):
        cls = AuthenticationError
    return cls(exchange="okx", endpoint=endpoint, status=status, code=code, message=message)


def _opt_int(value: Any) -> int | None:
    """``None`` stays ``None``; ints and digit strings become int; anything else raises."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("boolean where an integer was expected")
    return int(value)


class _BookSub:
    """What we know about one (channel, instId) book subscription."""

    __slots__ = (
        "arg",
        "channel",
        "demo",
        "expect_snapshot",
        "fetch_task",
        "inst",
        "last_rest",
        "rest_mode",
        "resubscribe_task",
        "resubscribing",
        "waiting",
        "ws",
    )

    def __init__(self, channel: str, inst: str, arg: Mapping[str, Any]) -> None:
        self.channel = channel
        self.inst = inst
        self.arg = dict(arg)
        self.ws: Any = None
        self.demo = False
        # The next data message is the first of a (re)subscription: it tells
        # whether OKX still sends a WS snapshot for this channel.
        self.expect_snapshot = True
        self.rest_mode = False
        self.resubscribing = False
        # The resubscribe task has sent its requests and only waits for the snapshot.
        self.waiting = False
        self.fetch_task: asyncio.Task[None] | None = None
        self.resubscribe_task: asyncio.Task[None] | None = None
        # (url, decoded body) of the last REST snapshot fetched, for response observers
        self.last_rest: tuple[str, Any] | None = None


class BookSync:
    """Routes book messages to the right store and keeps each book recoverable.

    Args:
        owner: the ``OKXDataStore`` (read for its ``client``).
        books: the primary store exposed as ``OKXDataStore.books``.
    """

    def __init__(self, owner: Any, books: OKXBooks) -> None:
        self._owner = owner
        self.books = books
        books.resync_hook = self._primary_hook
        self._subs: dict[tuple[str, str], _BookSub] = {}
        self._primary: dict[str, str] = {}
        self._secondary: dict[str, OKXBooks] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._registered_with: Any = None
        self._reconnecting = False
        self._warned: set[str] = set()
        #: base URL of the REST snapshot request (regional hosts: my.okx.com, ...)
        self.rest_url = REST_URL

    # ------------------------------------------------------------ which store

    @property
    def secondary(self) -> Mapping[str, OKXBooks]:
        """Channel -> store of that channel's books for instruments it does not feed
        into ``books`` (a deeper channel does)."""
        return dict(self._secondary)

    def channel_of(self, inst: str) -> str | None:
        """The channel whose book ``books`` holds for ``inst``."""
        return self._primary.get(inst)

    def store_of(self, sub: _BookSub) -> OKXBooks:
        if self._primary.get(sub.inst) == sub.channel:
            return self.books
        return self._secondary_store(sub.channel)

    def _secondary_store(self, channel: str) -> OKXBooks:
        store = self._secondary.get(channel)
        if store is None:
            store = self._secondary[channel] = OKXBooks(channel)
            store.resync_hook = lambda inst: self._hook(channel, inst)
        return store

    def _primary_hook(self, inst: str) -> None:
        channel = self._primary.get(inst)
        if channel is not None:
            self._hook(channel, inst)

    def _hook(self, channel: str, inst: str) -> None:
        sub = self._subs.get((channel, inst))
        if sub is not None:
            self._resync(sub)

    @staticmethod
    def _cap(store: OKXBooks, inst: str, channel: str) -> None:
        store.set_depth(inst, BOOK_DEPTHS.get(channel))

    def _register(self, channel: str, inst: str, arg: Mapping[str, Any]) -> _BookSub:
        """First message of a (channel, instId): decide where its book lives."""
        sub = self._subs[(channel, inst)] = _BookSub(channel, inst, arg)
        current = self._primary.get(inst)
        if current is None:
            self._primary[inst] = channel
            self._cap(self.books, inst, channel)
        elif BOOK_RANKS.get(channel, 0) > BOOK_RANKS.get(current, 0):
            # A deeper flavour takes over `books`; the shallower book moves, in sync,
            # to its channel's own store and keeps being updated there.
            self._secondary_store(current)._take(self.books, inst)
            self._primary[inst] = channel
            self._cap(self.books, inst, channel)
            logger.info("okx %s: books now fed by %s (was %s)", inst, channel, current)
        else:
            self._cap(self._secondary_store(channel), inst, channel)
        return sub

    def _release(self, sub: _BookSub) -> None:
        """The subscription ended: drop its book; promote the next deepest one."""
        del self._subs[(sub.channel, sub.inst)]
        self._cancel(sub)
        inst = sub.inst
        if self._primary.get(inst) != sub.channel:
            self._secondary_store(sub.channel)._forget(inst)
            return
        del self._primary[inst]
        self.books._forget(inst)
        rest = [s for s in self._subs.values() if s.inst == inst]
        if rest:
            best = max(rest, key=lambda s: BOOK_RANKS.get(s.channel, 0))
            self._primary[inst] = best.channel
            self.books._take(self._secondary_store(best.channel), inst)

    def _current(self, sub: _BookSub) -> bool:
        return self._subs.get((sub.channel, sub.inst)) is sub

    # ---------------------------------------------------------------- messages

    def on_message(
        self, msg: Mapping[str, Any], arg: Mapping[str, Any], channel: str, ws: Any
    ) -> bool:
        """Apply one book message. Returns ``False`` if it was not shaped like one."""
        inst = arg.get("instId")
        data = msg.get("data")
        if not isinstance(inst, str) or not isinstance(data, list):
            return False
        sub = self._subs.get((channel, inst))
        if sub is None:
            sub = self._register(channel, inst, arg)
        if ws is not None and ws is not sub.ws:
            sub.ws = ws
            # Demo-trading connections (wspap.okx.com) see the demo market: the REST
            # snapshot must come from demo trading too (x-simulated-trading: 1).
            sub.demo = "wspap." in str(getattr(ws, "url", ""))
        store = self.store_of(sub)
        action = msg.get("action")
        # books5 / bbo-tbt carry no action: each push is the whole (capped) book.
        whole = action is None or channel in SNAPSHOT_ONLY_CHANNELS
        for item in data:
            if not isinstance(item, dict):
                store._fail(inst, "error", f"{channel}: data item is not an object")
                continue
            asks = item.get("asks")
            bids = item.get("bids")
            if type(asks) is not list or type(bids) is not list:
                store._fail(inst, "error", f"{channel}: data item without asks/bids lists")
                continue
            seq = item.get("seqId")
            prev = item.get("prevSeqId")
            checksum = item.get("checksum")
            # OKX sends JSON integers; anything else is converted or refused.
            if type(seq) is not int or type(prev) is not int or type(checksum) is not int:
                try:
                    seq, prev, checksum = _opt_int(seq), _opt_int(prev), _opt_int(checksum)
                except (TypeError, ValueError):
                    store._fail(inst, "error", f"{channel}: seqId/prevSeqId/checksum not integers")
                    continue
            if "ts" in item:
                store.ts[inst] = item["ts"]
            if checksum is not None:
                store.received_checksum[inst] = checksum
            if whole:
                if store._replace(inst, asks, bids, seq):
                    store._verify_checksum(inst, checksum)
            elif action == "snapshot":
                self._on_ws_snapshot(sub, store, seq, asks, bids, checksum)
            elif action == "update":
                self._on_update(sub, store, seq, prev, asks, bids, checksum)
            else:
                store._fail(inst, "error", f"{channel}: unknown action {action!r}")
        return True

    def _on_ws_snapshot(
        self,
        sub: _BookSub,
        store: OKXBooks,
        seq: int | None,
        asks: list[Any],
        bids: list[Any],
        checksum: int | None,
    ) -> None:
        sub.expect_snapshot = False
        sub.rest_mode = False
        sub.resubscribing = False
        if sub.fetch_task is not None:
            sub.fetch_task.cancel()
            sub.fetch_task = None
        if sub.resubscribe_task is not None and sub.waiting:
            # The snapshot answers the resubscription: stop its retry timer, or the next
            # failure within RESUBSCRIBE_TIMEOUT would wait for that timer to resubscribe.
            # (Never while it is between its unsubscribe and subscribe.)
            sub.resubscribe_task.cancel()
            sub.resubscribe_task = None
            sub.waiting = False
        # Updates buffered for a REST snapshot are superseded by this one.
        store._clear_buffer(sub.inst)
        if store._replace(sub.inst, asks, bids, seq):
            store._verify_checksum(sub.inst, checksum)

    def _on_update(
        self,
        sub: _BookSub,
        store: OKXBooks,
        seq: int | None,
        prev: int | None,
        asks: list[Any],
        bids: list[Any],
        checksum: int | None,
    ) -> None:
        inst = sub.inst
        if sub.expect_snapshot:
            # The subscription started with an update: OKX sent no WS snapshot.
            sub.expect_snapshot = False
            if not sub.rest_mode:
                sub.rest_mode = True
                logger.info(
                    "okx %s %s: no snapshot on subscribe; syncing from REST", sub.channel, inst
                )
        if seq is None:
            # Without seqId nothing can be checked: apply only to a book in sync.
            if store._phase(inst) != "unsynced" and store._apply(inst, asks, bids):
                store._verify_checksum(inst, checksum)
            return
        store._on_delta(inst, BookDelta(seq, seq, prev, asks, bids, checksum), buffer=sub.rest_mode)
        if sub.rest_mode and sub.fetch_task is None and store._phase(inst) == "unsynced":
            # The resync request may predate REST mode (or the client): start it now.
            self._start_fetch(sub)

    def install_snapshot(self, inst: str, seq: int, asks: list[Any], bids: list[Any]) -> None:
        """Apply a REST snapshot the user passed to ``initialize()`` (bridged like ours)."""
        channel = self._primary.get(inst)
        if channel not in REST_SNAPSHOT_DEPTHS:
            channel = "books"
        sub = self._subs.get((channel, inst)) or self._register(
            channel, inst, {"channel": channel, "instId": inst}
        )
        sub.rest_mode = True
        self.store_of(sub)._on_snapshot(inst, seq, asks, bids)

    # ---------------------------------------------------------------- events

    def _sub_for(self, arg: Mapping[str, Any]) -> _BookSub | None:
        channel, inst = arg.get("channel"), arg.get("instId")
        if not isinstance(channel, str) or not isinstance(inst, str):
            return None
        return self._subs.get((channel, inst))

    def on_subscribed(self, arg: Mapping[str, Any]) -> None:
        """``event: subscribe`` acknowledged: the next data message starts it anew."""
        sub = self._sub_for(arg)
        if sub is not None:
            sub.expect_snapshot = True
            sub.resubscribing = False

    def on_unsubscribed(self, arg: Mapping[str, Any]) -> None:
        """``event: unsubscribe``: forget the book unless we are resubscribing it."""
        sub = self._sub_for(arg)
        if sub is not None and not sub.resubscribing:
            self._release(sub)

    def on_reconnect(self, ws: Any) -> None:
        """A WebSocketApp reconnected: books fed by the lost connection are unsynced
        until the app's resubscription brings a snapshot (or REST does)."""
        self._reconnecting = True
        try:
            for sub in list(self._subs.values()):
                old = sub.ws
                if ws is None or old is None or old is ws or getattr(old, "closed", False):
                    if sub.resubscribe_task is not None:
                        sub.resubscribe_task.cancel()
                        sub.resubscribe_task = None
                    sub.resubscribing = False
                    sub.expect_snapshot = True
                    self.store_of(sub)._invalidate(sub.inst, "websocket reconnected")
        finally:
            self._reconnecting = False

    def on_handler_error(self, arg: Mapping[str, Any], exc: Exception) -> None:
        """A handler raised on a book message: that book can no longer be trusted."""
        sub = self._sub_for(arg)
        if sub is not None:
            self.store_of(sub)._fail(sub.inst, "error", f"handler error: {type(exc).__name__}")

    # ---------------------------------------------------------------- recovery

    def _resync(self, sub: _BookSub) -> None:
        """Resync hook: called synchronously when ``sub``'s book needs recovery."""
        if sub.channel in SNAPSHOT_ONLY_CHANNELS:
            return  # the next push is a whole book
        if sub.rest_mode:
            self._start_fetch(sub)
            return
        if self._reconnecting:
            return  # the WebSocketApp re-subscribes; a snapshot follows
        ws = sub.ws
        if ws is None:
            if sub.channel in REST_SNAPSHOT_DEPTHS:
                # No connection to resubscribe on (e.g. a replay): bridge from REST.
                sub.rest_mode = True
                self._start_fetch(sub)
            else:
                self._warn_once(
                    f"nows:{sub.channel}",
                    "okx %s %s: out of sync and no WebSocket to resubscribe on",
                    sub.channel,
                    sub.inst,
                )
            return
        if getattr(ws, "closed", False):
            return  # the reconnect (on_reconnect) takes over
        if sub.resubscribe_task is None:
            sub.resubscribe_task = self._spawn(self._resubscribe_loop(sub))

    def _start_fetch(self, sub: _BookSub) -> None:
        if sub.fetch_task is not None:
            return
        if sub.channel not in REST_SNAPSHOT_DEPTHS:
            self._warn_once(
                f"norest:{sub.channel}",
                "okx %s %s: no WS snapshot and no REST snapshot for this channel; "
                "the book stays unsynced",
                sub.channel,
                sub.inst,
            )
            return
        client = self._owner.client
        if client is None:
            self._warn_once(
                "noclient",
                "okx %s %s: needs a REST snapshot but no client is known; pass a "
                "datastores.Client request to initialize() or set store.client",
                sub.channel,
                sub.inst,
            )
            return
        sub.fetch_task = self._spawn(self._fetch_loop(sub, client), client)

    def _warn_once(self, key: str, text: str, *args: Any) -> None:
        level = logging.DEBUG if key in self._warned else logging.WARNING
        self._warned.add(key)
        logger.log(level, text, *args)

    def _spawn(
        self, coro: Coroutine[Any, Any, None], client: Any = None
    ) -> asyncio.Task[None] | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            coro.close()
            logger.debug("okx: no running event loop; book recovery not started")
            return None
        if client is None:
            client = self._owner.client
        if client is not None and self._registered_with is not client:
            try:
                client.add_closer(self)
            except RuntimeError:  # the client is closed: no new background work
                coro.close()
                return None
            self._registered_with = client
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _clock(self) -> Clock:
        client = self._owner.client
        clock: Clock | None = getattr(client, "clock", None)
        return clock if clock is not None else SYSTEM_CLOCK

    async def _resubscribe_loop(self, sub: _BookSub) -> None:
        clock = self._clock()
        timeout = RESUBSCRIBE_TIMEOUT
        try:
            while self._current(sub) and not sub.rest_mode:
                ws = sub.ws
                if ws is None or getattr(ws, "closed", False):
                    return
                sub.resubscribing = True
                logger.info("okx %s %s: resubscribing for a new snapshot", sub.channel, sub.inst)
                try:
                    await ws.send_json({"op": "unsubscribe", "args": [dict(sub.arg)]})
                    await ws.send_json({"op": "subscribe", "args": [dict(sub.arg)]})
                except Exception as exc:  # the connection broke: on_reconnect takes over
                    sub.resubscribing = False
                    logger.warning(
                        "okx %s %s: resubscribe failed (%s: %s)",
                        sub.channel,
                        sub.inst,
                        type(exc).__name__,
                        exc,
                    )
                    return
                if self.store_of(sub)._phase(sub.inst) != "unsynced":
                    return  # a snapshot already came while the requests were sent
                sub.waiting = True
                try:
                    await clock.sleep(timeout)
                finally:
                    sub.waiting = False
                if not self._current(sub) or sub.rest_mode:
                    return
                store = self.store_of(sub)
                if store._phase(sub.inst) != "unsynced":
                    return
                timeout = min(timeout * 2, RESUBSCRIBE_TIMEOUT_MAX)
                store._rerequest_resync(sub.inst, "resync: no snapshot after resubscribing")
        finally:
            if sub.resubscribe_task is asyncio.current_task():
                sub.resubscribe_task = None

    async def _fetch_loop(self, sub: _BookSub, client: Any) -> None:
        clock: Clock = client.clock
        delay = FETCH_BACKOFF_START
        too_old = 0
        inst = sub.inst
        try:
            while not client.closed and self._current(sub) and sub.rest_mode:
                if self.store_of(sub)._phase(inst) != "unsynced":
                    return
                try:
                    seq, asks, bids = await self._fetch_snapshot(client, sub)
                except Exception as exc:
                    logger.warning(
                        "okx %s %s: REST snapshot failed (%s); retrying in %.1fs",
                        sub.channel,
                        inst,
                        exc,
                        delay,
                    )
                    await clock.sleep(delay)
                    delay = min(delay * 2, FETCH_BACKOFF_MAX)
                    continue
                if not self._current(sub) or not sub.rest_mode:
                    return
                store = self.store_of(sub)
                if store._phase(inst) != "unsynced":
                    return  # a WS snapshot arrived meanwhile
                first = store._first_buffered(inst)
                if first is not None and first.prev_id is not None and seq < first.prev_id:
                    # Docs step 4: the snapshot is older than the stream; fetch again.
                    too_old += 1
                    if too_old <= SNAPSHOT_TOO_OLD_MAX:
                        await clock.sleep(SNAPSHOT_TOO_OLD_DELAY)
                        continue
                    # The buffer may predate a sequence reset: bridge from the live stream.
                    store._clear_buffer(inst)
                    too_old = 0
                if sub.last_rest is not None:
                    # Response observers (a Recorder) see the snapshot that is applied.
                    self._owner._observe_response("GET", sub.last_rest[0], 200, sub.last_rest[1])
                store._on_snapshot(inst, seq, asks, bids)
                if store._phase(inst) != "unsynced":
                    return
                await clock.sleep(delay)
                delay = min(delay * 2, FETCH_BACKOFF_MAX)
        finally:
            if sub.fetch_task is asyncio.current_task():
                sub.fetch_task = None

    async def _fetch_snapshot(self, client: Any, sub: _BookSub) -> tuple[int, list[Any], list[Any]]:
        params = {"instId": sub.inst, "sz": str(REST_SNAPSHOT_DEPTHS[sub.channel]), "source": "0"}
        headers = {"x-simulated-trading": "1"} if sub.demo else None
        result = await client.fetch(
            "GET", self.rest_url + BOOKS_PATH, params=params, headers=headers, auth=None
        )
        status = result.response.status
        data = result.data
        endpoint = f"GET {BOOKS_PATH}"
        if status >= 400 or not isinstance(data, Mapping):
            text = result.text[:200] if isinstance(result.text, str) else ""
            code = data.get("code") if isinstance(data, Mapping) else None
            raise okx_api_error(endpoint, status, code, text or "response is not a JSON object")
        code = data.get("code")
        if str(code) != "0":
            raise okx_api_error(endpoint, status, code, str(data.get("msg", "")))
        rows = data.get("data")
        row = rows[0] if isinstance(rows, list) and rows else None
        if not isinstance(row, Mapping):
            raise okx_api_error(endpoint, status, None, "no order book in the response")
        asks, bids = row.get("asks"), row.get("bids")
        try:
            seq = _opt_int(row.get("seqId"))
        except (TypeError, ValueError):
            seq = None
        if seq is None or not isinstance(asks, list) or not isinstance(bids, list):
            raise okx_api_error(endpoint, status, None, "order book without seqId/asks/bids")
        sub.last_rest = (str(result.response.url), data)
        return seq, asks, bids

    # ---------------------------------------------------------------- lifetime

    def _cancel(self, sub: _BookSub) -> None:
        for task in (sub.fetch_task, sub.resubscribe_task):
            if task is not None:
                task.cancel()
        sub.fetch_task = sub.resubscribe_task = None

    async def aclose(self) -> None:
        """Cancel every recovery task and wait for them to end. Idempotent."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._registered_with is not None:
            remove = getattr(self._registered_with, "remove_closer", None)
            if remove is not None and not getattr(self._registered_with, "closed", False):
                remove(self)
            self._registered_with = None
