"""What Bitget's v2 and v1 collections share: message routing, book handling, resync.

Both API versions frame pushes the same way::

    {"action": "snapshot"|"update", "arg": {"instType", "channel", "instId"|"coin"},
     "data": [...], "ts": ...}
    {"event": "subscribe"|"unsubscribe"|"login"|"error", "arg": ..., "code": ..., "msg": ...}

Routing is one dict lookup on ``arg.channel``. A message that is not shaped
like that, or names a channel the collection does not store, is dropped,
logged (warning once, then debug) and counted in ``dropped_messages``.

Book recovery is by resubscription, as Bitget prescribes on a checksum
mismatch: the collection remembers, per book, the connection (``ws`` passed to
``onmessage``) and the subscription ``arg`` that fed it, and sends
``unsubscribe`` then ``subscribe`` for that arg on that connection, at most one
exchange in flight per book. Deltas are dropped until the new snapshot
arrives. If none comes (the subscribe was lost, refused or never answered),
the resubscription is repeated after ``RESUBSCRIBE_TIMEOUT`` seconds, doubling
up to ``RESUBSCRIBE_TIMEOUT_MAX``, on the connection that last fed the book;
it stops when the snapshot arrives, the connection closes or reconnects, the
subscription is unsubscribed, or the client/collection closes. ``books1/5/15``
need no resubscription: their next push is a full snapshot.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ..._clock import SYSTEM_CLOCK, Clock
from ..._collection import DataStoreCollection
from ..._errors import ExchangeAPIError
from ..._store import DataStore, Item
from ._books import _CheckedBook, checksum_value, seq_value

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = ["BitgetCollectionBase", "candle_items", "objects", "route_by_status", "text"]

logger = logging.getLogger("datastores.exchanges.bitget")

#: handler(msg, arg, data, ws)
Handler = Callable[[Mapping[str, Any], Mapping[str, Any], list[Any], Any], None]

#: channels whose every push is a full top-N snapshot -> their depth (same in v1 and v2)
TOP_N_DEPTHS: Mapping[str, int] = {"books1": 1, "books5": 5, "books15": 15}
SNAPSHOT_CHANNELS = frozenset(TOP_N_DEPTHS)
#: seconds to wait for the snapshot after a resubscription before resubscribing again;
#: doubles per retry up to RESUBSCRIBE_TIMEOUT_MAX
RESUBSCRIBE_TIMEOUT = 10.0
RESUBSCRIBE_TIMEOUT_MAX = 300.0


def objects(store: DataStore, data: list[Any]) -> list[Item]:
    """The JSON objects in ``data``; anything else is refused (counted in ``store.dropped``)."""
    result = []
    for entry in data:
        if isinstance(entry, dict):
            result.append(entry)
        else:
            store._refuse(entry, "entry is not a JSON object")
    return result


def candle_items(
    store: DataStore, rows: list[Any], head: Item, fields: tuple[str, ...]
) -> list[Item]:
    """Candle arrays as items: ``head`` plus ``fields`` zipped with each row.

    A row that is not a non-empty array is refused (counted in ``store.dropped``).
    A row shorter than ``fields`` fills only the fields it has.
    """
    items = []
    for row in rows:
        if not isinstance(row, list) or not row:
            store._refuse(row, "candle is not a non-empty array")
            continue
        item: Item = dict(head)
        item.update(zip(fields, row, strict=False))
        items.append(item)
    return items


def route_by_status(
    store: DataStore, items: Iterable[Item], keep: Collection[str], remove: Collection[str]
) -> None:
    """Upsert the items whose ``status`` is in ``keep``, delete those in ``remove``.

    Any other status is refused (counted in ``store.dropped``). One ``_update``
    and one ``_delete`` call per batch.
    """
    upserts: list[Item] = []
    deletes: list[Item] = []
    for item in items:
        status = item.get("status")
        if status in keep:
            upserts.append(item)
        elif status in remove:
            deletes.append(item)
        else:
            store._refuse(item, f"unknown order status {status!r}")
    if upserts:
        store._update(upserts)
    if deletes:
        store._delete(deletes)


def text(value: Any) -> Any:
    """A REST scalar as the string the WebSocket would send (``None`` stays ``None``)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    return value


class BitgetCollectionBase(DataStoreCollection):
    """Routing, book integrity and resubscription shared by Bitget collections.

    Subclasses set ``_BOOK_DEPTHS`` (book channel -> depth cap), implement
    ``_setup()`` (create stores, return the channel handlers and REST
    endpoint handlers) and ``_book_key()``.
    """

    _EXCHANGE = "bitget"
    #: book channel -> depth cap per side (None: the full book)
    _BOOK_DEPTHS: ClassVar[Mapping[str, int | None]] = {}

    _book_store: _CheckedBook

    def _init(self) -> None:
        self._dropped_messages = 0
        self._error_events = 0
        # book key -> (connection, subscription arg) that last fed it
        self._links: dict[str, tuple[Any, dict[str, Any]]] = {}
        self._resync_tasks: dict[str, asyncio.Task[None]] = {}
        # book keys whose resubscription task has sent its requests and waits for the snapshot
        self._waiting: set[str] = set()
        # book key -> our unsubscribe requests not acknowledged yet (the acks of the
        # user's own unsubscribes are the others: they end the retries)
        self._own_unsubscribes: dict[str, int] = {}
        self._reconnecting = False
        self._closer_client: Any = None
        handlers, responses = self._setup()
        for channel in self._BOOK_DEPTHS:
            handlers[channel] = self._on_books
        self._handlers: dict[str, Handler] = handlers
        self._responses: dict[str, Callable[[ClientResponse, Any], None]] = responses
        self._book_store.resync_hook = self._resync

    def _setup(
        self,
    ) -> tuple[dict[str, Handler], dict[str, Callable[[ClientResponse, Any], None]]]:
        raise NotImplementedError

    def _book_key(self, inst_type: str, inst_id: str) -> str:
        raise NotImplementedError

    def _candle_handler(self) -> Handler | None:
        """The handler for ``candle*`` channels (looked up by prefix), if any."""
        return None

    # --------------------------------------------------------------- counters

    @property
    def dropped_messages(self) -> int:
        """Messages dropped because they were malformed or for a channel not stored here."""
        return self._dropped_messages

    @property
    def error_events(self) -> int:
        """``{"event": "error"}`` replies received (each is logged with its code and msg)."""
        return self._error_events

    def _arg_text(self, msg: Mapping[str, Any], arg: Mapping[str, Any], name: str) -> str | None:
        """``arg[name]`` if it is a string; otherwise the message is dropped and ``None``."""
        value = arg.get(name)
        if not isinstance(value, str):
            self._drop(msg, f"arg without {name}")
            return None
        return value

    def _drop(self, msg: Any, why: str) -> None:
        self._dropped_messages += 1
        level = logging.WARNING if self._dropped_messages == 1 else logging.DEBUG
        logger.log(
            level,
            "%s: dropped a message (%s): %.200r; %d dropped so far",
            type(self).__name__,
            why,
            msg,
            self._dropped_messages,
        )

    # ---------------------------------------------------------------- routing

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if not isinstance(msg, Mapping):
            if msg != "pong":  # the heartbeat reply, if a handler ever sees it
                self._drop(msg, "not a JSON object")
            return
        data = msg.get("data")
        if data is None:
            event = msg.get("event")
            if event == "error":
                self._error_events += 1
                logger.warning(
                    "%s: error event code=%r msg=%.300r arg=%.200r",
                    type(self).__name__,
                    msg.get("code"),
                    msg.get("msg"),
                    msg.get("arg"),
                )
            elif event == "unsubscribe":
                self._on_unsubscribed(msg.get("arg"), ws)
            elif event is None:
                self._drop(msg, "neither data nor event")
            return
        arg = msg.get("arg")
        if not isinstance(arg, Mapping) or not isinstance(data, list):
            self._drop(msg, "arg is not an object or data is not a list")
            return
        channel = arg.get("channel")
        handler = self._handlers.get(channel) if isinstance(channel, str) else None
        if handler is None:
            if isinstance(channel, str) and channel.startswith("candle"):
                handler = self._candle_handler()
                if handler is not None:
                    # Cache the candle interval's handler: one lookup next time.
                    self._handlers[channel] = handler
            if handler is None:
                self._drop(msg, f"unknown channel {channel!r}")
                return
        handler(msg, arg, data, ws)

    def _onerror(self, msg: Any, exc: Exception) -> None:
        # A handler raised: if it was a book message, that book is no longer trustworthy.
        try:
            arg = msg["arg"]
            if arg["channel"] not in self._BOOK_DEPTHS:
                return
            key = self._book_key(arg["instType"], arg["instId"])
        except (KeyError, TypeError):
            return
        self._book_store._fail(key, "error", f"handler error ({type(exc).__name__}: {exc})")

    # ------------------------------------------------------------------ books

    def _on_books(
        self, msg: Mapping[str, Any], arg: Mapping[str, Any], data: list[Any], ws: Any
    ) -> None:
        """``books``/``books1``/``books5``/``books15``. Sample (v2)::

        {"action": "update", "arg": {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"},
         "data": [{"asks": [["27000.5", "0"]], "bids": [["26999.9", "0.1200"]],
                   "checksum": -1216452307, "seq": 1236, "ts": "1695716059516"}],
         "ts": 1695716059516}
        """
        inst_type = arg.get("instType")
        inst_id = arg.get("instId")
        if not isinstance(inst_type, str) or not isinstance(inst_id, str):
            self._drop(msg, "book message without instType/instId")
            return
        channel: str = arg["channel"]
        book = self._book_store
        key = self._book_key(inst_type, inst_id)
        if ws is not None:
            link = self._links.get(key)
            if link is None or link[0] is not ws or link[1]["channel"] != channel:
                self._links[key] = (
                    ws,
                    {"instType": inst_type, "channel": channel, "instId": inst_id},
                )
        action = msg.get("action")
        if channel in SNAPSHOT_CHANNELS or action == "snapshot":
            snapshot = True
        elif action == "update":
            snapshot = False
        else:
            book._fail(key, "error", f"unknown book action {action!r}")
            return
        depth = self._BOOK_DEPTHS[channel]
        for entry in data:
            if not isinstance(entry, Mapping):
                book._fail(key, "error", "book entry is not an object")
                continue
            asks = entry.get("asks", ())
            bids = entry.get("bids", ())
            if not isinstance(asks, (list, tuple)) or not isinstance(bids, (list, tuple)):
                book._fail(key, "error", "asks/bids are not lists")
                continue
            try:
                seq = seq_value(entry.get("seq"))
                checksum = checksum_value(entry.get("checksum"))
            except ValueError as exc:
                book._fail(key, "error", str(exc))
                continue
            if snapshot:
                book._ws_snapshot(key, asks, bids, seq, checksum, depth)
            else:
                book._ws_update(key, asks, bids, seq, checksum)
            book.timestamp = entry.get("ts", book.timestamp)
        if snapshot and key in self._waiting and not book._unsynced(key):
            # The snapshot answers the resubscription: stop its retry timer, so that the
            # next failure resubscribes at once instead of waiting for it.
            self._waiting.discard(key)
            task = self._resync_tasks.pop(key, None)
            if task is not None:
                task.cancel()

    def _resync(self, key: str) -> None:
        """The book's resync hook: resubscribe its channel on the connection that fed it.

        Only schedules work. Skipped while a reconnect is being handled (the
        WebSocketApp resubscribes everything itself) and for top-N channels
        (their next push is a full snapshot).
        """
        if self._reconnecting:
            return
        link = self._links.get(key)
        if link is None:
            logger.warning(
                "%s: book %s needs a new snapshot but no connection fed it through "
                "onmessage(msg, ws); it stays unsynced until its channel is resubscribed",
                type(self).__name__,
                key,
            )
            return
        _ws, arg = link
        if arg["channel"] in SNAPSHOT_CHANNELS:
            return
        task = self._resync_tasks.get(key)
        if task is not None and not task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            logger.warning(
                "%s: book %s needs a resubscription but no event loop is running",
                type(self).__name__,
                key,
            )
            return
        self._register_closer()
        task = loop.create_task(self._resubscribe(key))
        self._resync_tasks[key] = task
        task.add_done_callback(functools.partial(self._resubscribed, key))

    def _clock(self) -> Clock:
        """The client's clock (virtual in tests), else the system clock."""
        clock: Clock | None = getattr(self._client, "clock", None)
        return clock if clock is not None else SYSTEM_CLOCK

    async def _resubscribe(self, key: str) -> None:
        """Resubscribe ``key``'s channel until its snapshot arrives.

        Each round sends ``unsubscribe`` then ``subscribe`` on the connection that
        last fed the book, then waits ``RESUBSCRIBE_TIMEOUT`` seconds (doubling up
        to ``RESUBSCRIBE_TIMEOUT_MAX``). Ends when the book is synced, its link is
        gone (unsubscribed), its connection closed, or the client closed. A send
        error propagates (logged by :meth:`_resubscribed`; the reconnect takes over).
        """
        clock = self._clock()
        timeout = RESUBSCRIBE_TIMEOUT
        name = type(self).__name__
        rounds = 0
        waited = 0.0
        while True:
            link = self._links.get(key)
            if link is None:
                return
            ws, arg = link
            if arg["channel"] in SNAPSHOT_CHANNELS or getattr(ws, "closed", False):
                return
            if rounds == 0:
                logger.info("%s: resubscribing %s to get a new snapshot", name, key)
            else:
                self._book_store._count_retry(key)
                # One warning per episode (this task lives as long as the episode).
                logger.log(
                    logging.WARNING if rounds == 1 else logging.INFO,
                    "%s: no snapshot for %s %.0f s after resubscribing; resubscribing again",
                    name,
                    key,
                    waited,
                )
            self._own_unsubscribes[key] = self._own_unsubscribes.get(key, 0) + 1
            try:
                await ws.send_json({"op": "unsubscribe", "args": [arg]})
            except BaseException:
                self._unsubscribe_acked(key)
                raise
            await ws.send_json({"op": "subscribe", "args": [arg]})
            rounds += 1
            if not self._book_store._unsynced(key):
                return  # the snapshot came while the requests were sent
            if getattr(self._client, "closed", False):
                return  # nothing may outlive a closed client
            self._waiting.add(key)
            try:
                await clock.sleep(timeout)
            finally:
                self._waiting.discard(key)
            if not self._book_store._unsynced(key):
                return
            waited = timeout
            timeout = min(timeout * 2, RESUBSCRIBE_TIMEOUT_MAX)

    def _unsubscribe_acked(self, key: str) -> bool:
        """Consume one of our pending unsubscribes of ``key``; ``False`` if none was pending."""
        pending = self._own_unsubscribes.get(key, 0)
        if pending <= 0:
            return False
        if pending == 1:
            del self._own_unsubscribes[key]
        else:
            self._own_unsubscribes[key] = pending - 1
        return True

    def _on_unsubscribed(self, arg: Any, ws: Any) -> None:
        """``event: unsubscribe``: ours (a resubscription) or the user's, which ends the
        book's retries (the book is no longer fed; it is not resubscribed against their will)."""
        if not isinstance(arg, Mapping) or arg.get("channel") not in self._BOOK_DEPTHS:
            return
        wanted = {
            "instType": arg.get("instType"),
            "channel": arg.get("channel"),
            "instId": arg.get("instId"),
        }
        for key, (link_ws, link_arg) in list(self._links.items()):
            if link_arg != wanted or (ws is not None and link_ws is not ws):
                continue
            if self._unsubscribe_acked(key):
                return
            del self._links[key]
            task = self._resync_tasks.pop(key, None)
            if task is not None:
                task.cancel()
            logger.info("%s: %s unsubscribed; no longer resubscribed", type(self).__name__, key)
            return

    def _resubscribed(self, key: str, task: asyncio.Task[None]) -> None:
        if self._resync_tasks.get(key) is task:
            del self._resync_tasks[key]
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            # The connection is likely broken; its reconnect resubscribes the book.
            logger.warning(
                "%s: resubscribing %s failed (%s: %s); the book stays unsynced",
                type(self).__name__,
                key,
                type(exc).__name__,
                exc,
            )

    def _register_closer(self) -> None:
        client = self._client
        if client is not None and client is not self._closer_client:
            add_closer = getattr(client, "add_closer", None)
            if add_closer is not None:
                try:
                    add_closer(self)
                except RuntimeError:  # the client is closed: nothing to outlive
                    return
                self._closer_client = client

    def on_reconnect(self, ws: Any = None) -> None:
        """Mark unsynced the books fed by ``ws`` (or by a closed connection; all if ``None``).

        Called by a WebSocketApp after it reconnected and before it resubscribes:
        its resubscription brings the new snapshots, so no extra resubscribe is sent.
        """
        self._reconnecting = True
        try:
            for key, (link_ws, _arg) in list(self._links.items()):
                if ws is None or link_ws is ws or getattr(link_ws, "closed", False):
                    task = self._resync_tasks.pop(key, None)
                    if task is not None:
                        task.cancel()
                    # Acks of our unsubscribes on the lost connection will never come.
                    self._own_unsubscribes.pop(key, None)
                    self._book_store._invalidate(key, "reconnect")
            if ws is None:
                for key in self._book_store.symbols:
                    if key not in self._links:
                        self._book_store._invalidate(key, "reconnect")
        finally:
            self._reconnecting = False

    async def aclose(self) -> None:
        """Cancel pending resubscriptions and their retry timers (the Client calls this
        when it closes). Idempotent."""
        tasks = list(self._resync_tasks.values())
        self._resync_tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------- REST

    async def _onresponse(self, resp: ClientResponse, data: Any) -> None:
        handler = self._responses.get(resp.url.path)
        if handler is None:
            await super()._onresponse(resp, data)
            return
        if not isinstance(data, Mapping) or data.get("code") != "00000":
            code = data.get("code") if isinstance(data, Mapping) else None
            message = data.get("msg") if isinstance(data, Mapping) else data
            raise ExchangeAPIError(
                exchange=self._EXCHANGE,
                endpoint=f"{resp.method} {resp.url.path}",
                status=resp.status,
                code=code,
                message=str(message or ""),
            )
        handler(resp, data.get("data"))
