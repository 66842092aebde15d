"""What Bitget's v2 and v1 collections share: message routing, book handling, resync.

Both API versions frame pushes the same way::

    {"action": "snapshot"|"update", "arg": {"instType", "channel", "instId"|"coin"},
     "data": [...], "ts": ...}
    {"event": "subscribe"|"unsubscribe"|"login"|"error", "arg": ..., "code": ..., "msg": ...}

Routing is one lookup of ``arg.channel`` in the channel table (``_CHANNELS``).
A message that is not shaped like that is dropped (``statistics().dropped``),
one naming a channel the collection does not store is unhandled
(``statistics().unhandled``); both are logged (warning once, then debug) and
counted in ``dropped_messages``. ``{"event": "error"}`` replies are logged and
counted in ``error_events`` (``statistics().unhandled["error event"]``).

Book recovery is by resubscription, as Bitget prescribes on a checksum
mismatch, through the kit's :class:`~datastores._recovery.ResubscribeRecovery`:
the collection notes, per book, the connection (``ws`` passed to
``onmessage``) and the subscription ``arg`` that fed it (:class:`BookFeeds`),
and sends ``unsubscribe`` then ``subscribe`` for that arg on that connection,
at most one exchange in flight per book. Deltas are dropped until the new
snapshot arrives. If none comes (the subscribe was lost, refused or never
answered), the resubscription is repeated after ``RESUBSCRIBE_TIMEOUT``
seconds, doubling up to ``RESUBSCRIBE_TIMEOUT_MAX``, on the connection that
last fed the book, each retry counted in ``status().resyncs``; a snapshot
failing its checksum meanwhile leaves the retry timer in charge. It stops when
the snapshot arrives, the connection closes or reconnects, the user
unsubscribes (Bitget acknowledges unsubscribes: the acks of ours are told from
the user's), or the client/collection closes. With a closed Client the
requests are still sent once. ``books1/5/15`` need no resubscription: their
next push is a full snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from ..._collection import DataStoreCollection
from ..._errors import ExchangeAPIError
from ..._recovery import BookFeed, BookFeeds, ResubscribeRecovery
from ..._store import DataStore, Item
from ._books import _CheckedBook, checksum_value, seq_value

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = [
    "BitgetCollectionBase",
    "candle_items",
    "objects",
    "route_by_status",
    "text",
]

logger = logging.getLogger("datastores.exchanges.bitget")

#: channels whose every push is a full top-N snapshot -> their depth (same in v1 and v2)
TOP_N_DEPTHS: Mapping[str, int] = {"books1": 1, "books5": 5, "books15": 15}
SNAPSHOT_CHANNELS = frozenset(TOP_N_DEPTHS)
#: key of ``{"event": "error"}`` replies in ``statistics().unhandled``
ERROR_EVENT = "error event"
#: most ``candle*`` channels whose handler is cached in the channel table
_MAX_CACHED_CHANNELS = 256


def objects(store: DataStore[Any], data: list[Any]) -> list[Item]:
    """The JSON objects in ``data``; anything else is refused (counted in ``store.dropped``)."""
    result = []
    for entry in data:
        if isinstance(entry, dict):
            result.append(entry)
        else:
            store._refuse(entry, "entry is not a JSON object")
    return result


def candle_items(
    store: DataStore[Any], rows: list[Any], head: Item, fields: tuple[str, ...]
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
    store: DataStore[Any], items: Iterable[Item], keep: Collection[str], remove: Collection[str]
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


def _resubscribe_messages(feed: BookFeed) -> Sequence[dict[str, Any]]:
    """``unsubscribe`` then ``subscribe`` for the book's subscription ``arg``."""
    return [{"op": "unsubscribe", "args": [feed.args]}, {"op": "subscribe", "args": [feed.args]}]


def _is_unsubscribe(message: Any) -> bool:
    return bool(message.get("op") == "unsubscribe")


class BitgetCollectionBase(DataStoreCollection):
    """Routing, book integrity and resubscription shared by Bitget collections.

    Subclasses set ``_BOOK_DEPTHS`` (book channel -> depth cap), ``_BOOK_STORE``
    (the attribute of their book store), extend ``_CHANNELS`` (channel ->
    ``_on_<channel>(msg, ws)``; the handler sees a message whose ``arg`` is an
    object and ``data`` a list), set ``_RESPONSES`` (REST path -> handler
    ``(resp, data)``) and ``_CANDLE_HANDLER``, and implement ``_book_key()``.
    """

    _EXCHANGE = "bitget"
    #: book channel -> depth cap per side (None: the full book)
    _BOOK_DEPTHS: ClassVar[Mapping[str, int | None]] = {}
    #: the attribute of the book store (``book`` in v2, ``orderbook`` in v1)
    _BOOK_STORE: ClassVar[str] = "book"
    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "books": "_on_books",
        "books1": "_on_books",
        "books5": "_on_books",
        "books15": "_on_books",
    }
    #: REST URL path -> name of its handler method ``(resp, data) -> None``
    _RESPONSES: ClassVar[Mapping[str, str]] = {}
    #: name of the handler of ``candle*`` channels (looked up by prefix), if any
    _CANDLE_HANDLER: ClassVar[str | None] = None

    _book_store: _CheckedBook

    def _init(self) -> None:
        book: _CheckedBook = getattr(self, self._BOOK_STORE)
        self._book_store = book
        #: which connection and subscription ``arg`` feed each book
        self._feeds = BookFeeds()
        self._resubscribe = ResubscribeRecovery(
            self._background,
            book,
            self._feeds,
            messages=_resubscribe_messages,
            on_retry=book._count_retry,  # each retry is another resync in status()
            logger=logger,
            restart=False,
            is_unsubscribe=_is_unsubscribe,
            when_client_closed=True,
        )
        self._responses: dict[str, Callable[[ClientResponse, Any], None]] = {
            path: getattr(self, name) for path, name in self._RESPONSES.items()
        }
        book.resync_hook = self._resync

    def _book_key(self, inst_type: str, inst_id: str) -> str:
        raise NotImplementedError

    def _book_key_text(self, inst_type: str, inst_id: str) -> str:
        """The key :meth:`_book_key` returns, with nothing recorded for it (for a
        book that may be refused)."""
        raise NotImplementedError

    # --------------------------------------------------------------- counters

    @property
    def dropped_messages(self) -> int:
        """Messages dropped because they were malformed or for a channel not stored
        here (the sum of ``statistics().dropped`` and ``.unhandled`` but error events)."""
        stats = self.statistics()
        unhandled = sum(stats.unhandled.values()) - stats.unhandled.get(ERROR_EVENT, 0)
        return sum(stats.dropped.values()) + unhandled

    @property
    def error_events(self) -> int:
        """``{"event": "error"}`` replies received (each is logged with its code and msg)."""
        return self.unhandled.get(ERROR_EVENT, 0)

    def _arg_text(self, msg: Mapping[str, Any], arg: Mapping[str, Any], name: str) -> str | None:
        """``arg[name]`` if it is a string; otherwise the message is dropped and ``None``."""
        value = arg.get(name)
        if not isinstance(value, str):
            self._drop(msg, f"arg without {name}")
            return None
        return value

    def _drop(self, msg: Any, reason: str) -> None:
        """Count ``msg`` as dropped for ``reason`` (a fixed text: it keys the counter)."""
        self._count_dropped(reason, f"{msg!r:.200}")

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
                self._count_unhandled(ERROR_EVENT)
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
        if not isinstance(channel, str):
            self._drop(msg, "channel is not a string")
            return
        handler = self._channel_handlers.get(channel)
        if handler is None:
            name = self._CANDLE_HANDLER
            if name is None or not channel.startswith("candle"):
                self._count_unhandled(channel)
                return
            handler = getattr(self, name)
            if len(self._channel_handlers) < _MAX_CACHED_CHANNELS:
                # Cache the candle interval's handler: one lookup next time.
                self._channel_handlers[channel] = handler
        handler(msg, ws)

    def _onerror(self, msg: Any, exc: Exception) -> None:
        # A handler raised: if it was a book message, that book is no longer trustworthy.
        try:
            arg = msg["arg"]
            if arg["channel"] not in self._BOOK_DEPTHS:
                return
            key = self._book_key_text(arg["instType"], arg["instId"])
        except (KeyError, TypeError):
            return
        self._book_store._fail(key, "error", f"handler error ({type(exc).__name__}: {exc})")

    # ------------------------------------------------------------------ books

    def _on_books(self, msg: Any, ws: Any) -> None:
        """``books``/``books1``/``books5``/``books15``. Sample (v2)::

        {"action": "update", "arg": {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"},
         "data": [{"asks": [["27000.5", "0"]], "bids": [["26999.9", "0.1200"]],
                   "checksum": -1216452307, "seq": 1236, "ts": "1695716059516"}],
         "ts": 1695716059516}
        """
        arg = msg["arg"]
        inst_type = arg.get("instType")
        inst_id = arg.get("instId")
        if not isinstance(inst_type, str) or not isinstance(inst_id, str):
            self._drop(msg, "book message without instType/instId")
            return
        channel: str = arg["channel"]
        book = self._book_store
        if book._refuse_new(self._book_key_text(inst_type, inst_id)):
            return  # a new book beyond max_symbols: counted, nothing made for it
        key = self._book_key(inst_type, inst_id)
        if ws is not None:
            feed = self._feeds.get(key)
            if feed is None or feed.ws is not ws or feed.channel != channel:
                args = {"instType": inst_type, "channel": channel, "instId": inst_id}
                self._feeds.note(key, ws, channel, args)
        action = msg.get("action")
        if channel in SNAPSHOT_CHANNELS or action == "snapshot":
            snapshot = True
        elif action == "update":
            snapshot = False
        else:
            book._fail(key, "error", f"unknown book action {action!r}")
            return
        depth = self._BOOK_DEPTHS[channel]
        for entry in msg["data"]:
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
        if snapshot and not book._unsynced(key):
            # The snapshot answers the resubscription: stop its retry timer, so that the
            # next failure resubscribes at once instead of waiting for it.
            self._resubscribe.on_snapshot(key)

    def _resync(self, key: str) -> None:
        """The book's resync hook: resubscribe its channel on the connection that fed it.

        Only schedules work. Top-N channels are never resubscribed: their next
        push is a full snapshot.
        """
        feed = self._feeds.get(key)
        if feed is not None and feed.channel in SNAPSHOT_CHANNELS:
            return
        self._resubscribe.request(key)

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
        for key in self._feeds:
            feed = self._feeds.get(key)
            if feed is None or feed.args != wanted or (ws is not None and feed.ws is not ws):
                continue
            if not self._resubscribe.on_unsubscribe_ack(key):
                logger.info("%s: %s unsubscribed; no longer resubscribed", type(self).__name__, key)
            return

    def on_reconnect(self, ws: Any = None) -> None:
        """Mark unsynced the books fed by ``ws`` (or by a closed connection; all if ``None``).

        Called by a WebSocketApp after it reconnected and before it resubscribes:
        its resubscription brings the new snapshots, so no extra resubscribe is sent.
        """
        recovery = self._resubscribe
        book = self._book_store
        lost: list[str] = []
        connections: dict[int, Any] = {}
        for key in self._feeds:
            feed = self._feeds.get(key)
            if feed is None:
                continue
            if ws is None or feed.ws is ws or getattr(feed.ws, "closed", False):
                lost.append(key)
                connections[id(feed.ws)] = feed.ws
        recovery.suspended = True
        try:
            # Stops their retries and forgets the acks of our unsubscribes sent there.
            for connection in connections.values():
                recovery.on_reconnect(connection)
            for key in lost:
                book._invalidate(key, "reconnect")
            if ws is None:
                for key in book.symbols:
                    if self._feeds.get(key) is None:
                        book._invalidate(key, "reconnect")
        finally:
            recovery.suspended = False

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
