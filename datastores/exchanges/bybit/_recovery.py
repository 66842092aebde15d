"""Order-book recovery for :class:`~datastores.exchanges.bybit.store.BybitDataStore`.

* N-level topics: a gap resubscribes the topic on the connection that last
  delivered it (``unsubscribe`` then ``subscribe``, one in flight per topic);
  the exchange answers a subscription with a fresh snapshot. If none comes
  (request lost or refused), the topic is resubscribed again after
  ``RESUBSCRIBE_TIMEOUT`` seconds, doubling up to ``RESUBSCRIBE_TIMEOUT_MAX``,
  on the connection that last delivered it, until the snapshot arrives or the
  topic no longer feeds the book (on the Client's clock, else the system's).
* ``orderbook.full``: a REST snapshot (``GET /v5/market/full_orderbook``) is
  fetched through the collection's Client, at most one request per symbol in
  flight, with exponential backoff (on the Client's clock) after errors and
  after snapshots older than the stream; a gap also resubscribes, which
  restarts the documented procedure from its first step.
  https://bybit-exchange.github.io/docs/v5/websocket/public/full-ob
* After a reconnect the WebSocketApp re-sends subscriptions itself, so books
  fed by that connection are only marked unsynced (full books refetch).

Background tasks are owned by the collection and registered with the Client
(``client.add_closer``), so they end when the Client closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from ..._clock import SYSTEM_CLOCK, Clock
from ..._errors import AuthenticationError, ExchangeAPIError, RateLimitError

if TYPE_CHECKING:
    from yarl import URL

    from ._book import OrderBook

__all__ = ["DEFAULT_REST_URL", "FULL_ORDERBOOK_PATH", "BookRecovery", "bybit_result"]

logger = logging.getLogger("datastores.exchanges.bybit")

#: REST host used for ``orderbook.full`` snapshots when it cannot be derived
#: from the WebSocket host (``stream[-testnet].bybit.com`` -> ``api[-testnet]...``).
DEFAULT_REST_URL = "https://api.bybit.com"
FULL_ORDERBOOK_PATH = "/v5/market/full_orderbook"

#: retCodes that mean "slow down" / "bad credentials".
#: https://bybit-exchange.github.io/docs/v5/error
_RATE_LIMIT_CODES = frozenset({10006, 10018})
_AUTH_CODES = frozenset({10003, 10004, 10005, 10007, 33004})

_MAX_BACKOFF = 30.0
#: how long an N-level topic waits for its snapshot after a resubscribe before
#: resubscribing again (doubles per retry, capped at RESUBSCRIBE_TIMEOUT_MAX)
RESUBSCRIBE_TIMEOUT = 10.0
RESUBSCRIBE_TIMEOUT_MAX = 300.0


class BookRecovery:
    """Mixin: resubscription, REST snapshots and reconnect handling for the book."""

    _book: OrderBook
    _client: Any
    _observe_response: Callable[[str, object, int, Any], None]

    def _init_recovery(self) -> None:
        #: REST base for ``orderbook.full`` snapshots (``None``: derived from the WS host)
        self.rest_base_url: str | None = None
        #: ``category`` of those snapshots (``None``: from the WS URL path, else "spot")
        self.full_orderbook_category: str | None = None
        self._reconnecting = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._resubscribing: dict[str, asyncio.Task[None]] = {}
        #: topics whose resubscribe task has sent its requests and waits for the snapshot
        self._awaiting_snapshot: set[str] = set()
        self._syncing: dict[str, asyncio.Task[None]] = {}
        self._closer_client: Any = None
        self._closed = False
        #: what was already warned about (a book asks again on every buffered delta)
        self._warned: set[str] = set()
        self._book.resync_hook = self._resync

    def on_reconnect(self, ws: Any = None) -> None:
        """Mark unsynced the books fed by the connection that was re-established.

        The WebSocketApp re-sends the subscriptions itself, so N-level topics are
        not resubscribed here (their snapshot follows the subscription);
        ``orderbook.full`` symbols fetch a new REST snapshot.
        """
        self._reconnecting = True
        try:
            for symbol in self._book._connection_lost(ws):
                feed = self._book._feed(symbol)
                if feed is not None:
                    # The app re-sends the subscription itself: no retry timer of ours.
                    self._stop_resubscribe(feed.topic)
        finally:
            self._reconnecting = False

    def _resync(self, symbol: str) -> None:
        """The book's resync hook: resubscribe (N-level) or fetch a snapshot (full)."""
        feed = self._book._feed(symbol)
        if feed is None:
            return
        if feed.depth is None:
            restart, feed.restart = feed.restart, False
            if restart and not self._reconnecting:
                self._resubscribe(feed.topic, feed.ws)
            self._schedule_full_sync(symbol)
        elif not self._reconnecting:
            if feed.topic in self._awaiting_snapshot:
                # A new episode (the book synced, then failed again) while the previous
                # retry timer still runs: start over at once, with the first timeout.
                self._stop_resubscribe(feed.topic)
            self._resubscribe(feed.topic, feed.ws, symbol)

    def _resubscribe(self, topic: str, ws: Any, retry_symbol: str | None = None) -> None:
        """Resubscribe ``topic`` on ``ws``; with ``retry_symbol``, keep retrying while
        that symbol's book, fed by ``topic``, stays unsynced."""
        running = self._resubscribing.get(topic)
        if running is not None and not running.done():
            return
        if ws is None or getattr(ws, "closed", False) is True:
            logger.warning(
                "bybit %s: cannot resubscribe: no open WebSocket connection delivered this "
                "topic; the book stays unsynced until its next snapshot (reconnect or "
                "subscribe again)",
                topic,
            )
            return
        if retry_symbol is None:
            coro = self._resubscribe_once(topic, ws)
        else:
            coro = self._resubscribe_loop(topic, ws, retry_symbol)
        task = self._start(coro, f"resubscribe {topic}")
        if task is not None:
            self._resubscribing[topic] = task

    async def _resubscribe_once(self, topic: str, ws: Any) -> None:
        await self._send_resubscribe(topic, ws)

    async def _send_resubscribe(self, topic: str, ws: Any) -> bool:
        """Send ``unsubscribe`` then ``subscribe``; ``False`` if the connection failed."""
        try:
            await ws.send_json({"op": "unsubscribe", "args": [topic]})
            await ws.send_json({"op": "subscribe", "args": [topic]})
        except Exception as exc:
            logger.warning(
                "bybit %s: resubscribe failed (%s: %s); the book stays unsynced until the "
                "connection is re-established",
                topic,
                type(exc).__name__,
                exc,
            )
            return False
        logger.info("bybit %s: resubscribed to get a fresh snapshot", topic)
        return True

    def _recovery_clock(self) -> Clock:
        clock: Clock | None = getattr(self._client, "clock", None)
        return clock if clock is not None else SYSTEM_CLOCK

    def _awaits_snapshot(self, topic: str, symbol: str) -> Any:
        """The connection to resubscribe ``topic`` on while ``symbol`` still waits
        for its snapshot, else ``None`` (synced, fed by another topic, or no open
        connection: a reconnect resubscribes by itself)."""
        feed = self._book._feed(symbol)
        if feed is None or feed.topic != topic or self._book.is_synced(symbol):
            return None
        ws = feed.ws
        if ws is None or getattr(ws, "closed", False) is True:
            return None
        return ws

    async def _resubscribe_loop(self, topic: str, ws: Any, symbol: str) -> None:
        """Resubscribe, then again after a timeout (doubling) while no snapshot comes."""
        clock = self._recovery_clock()
        timeout = RESUBSCRIBE_TIMEOUT
        retries = 0
        try:
            while True:
                if not await self._send_resubscribe(topic, ws):
                    return
                if self._book.is_synced(symbol):
                    return  # the snapshot came while the requests were sent
                self._awaiting_snapshot.add(topic)
                try:
                    await clock.sleep(timeout)
                finally:
                    self._awaiting_snapshot.discard(topic)
                ws = self._awaits_snapshot(topic, symbol)
                if ws is None:
                    return
                retries += 1
                # One WARNING per episode; later retries of the same episode at INFO.
                logger.log(
                    logging.WARNING if retries == 1 else logging.INFO,
                    "bybit %s: no snapshot %.0f s after resubscribing; resubscribing again "
                    "(retry %d)",
                    topic,
                    timeout,
                    retries,
                )
                timeout = min(timeout * 2, RESUBSCRIBE_TIMEOUT_MAX)
        finally:
            if self._resubscribing.get(topic) is asyncio.current_task():
                del self._resubscribing[topic]

    def _stop_resubscribe(self, topic: str) -> None:
        """Cancel ``topic``'s resubscribe task (its retry timer)."""
        task = self._resubscribing.pop(topic, None)
        self._awaiting_snapshot.discard(topic)
        if task is not None:
            task.cancel()

    def _on_book_message(self, topic: str, msg: Mapping[str, Any]) -> None:
        """A message of ``topic`` was handled while its resubscribe task waits: a
        snapshot that synced the book ends the retry timer at once."""
        data = msg.get("data")
        symbol = data.get("s") if type(data) is dict else None
        if type(symbol) is str and self._book.is_synced(symbol):
            self._stop_resubscribe(topic)

    def _schedule_full_sync(self, symbol: str) -> None:
        running = self._syncing.get(symbol)
        if running is not None and not running.done():
            return
        if self._client is None:
            self._warn_once(
                f"no client {symbol}",
                "bybit orderbook.full.%s needs a REST snapshot but the store has no Client: "
                "set `store.client = client` (or call initialize()); the book stays unsynced",
                symbol,
            )
            return
        task = self._start(self._sync_full(symbol), f"full orderbook snapshot {symbol}")
        if task is not None:
            self._syncing[symbol] = task

    def _warn_once(self, key: str, text: str, *args: Any) -> None:
        level = logging.DEBUG if key in self._warned else logging.WARNING
        if len(self._warned) < 1024:
            self._warned.add(key)
        logger.log(level, text, *args)

    def _start(self, coro: Coroutine[Any, Any, None], what: str) -> asyncio.Task[None] | None:
        """Run background work owned by this collection (ended by :meth:`aclose`)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._warn_once(
                f"no loop {what}", "bybit: cannot start %s: no running event loop", what
            )
            coro.close()
            return None
        client = self._client
        if self._closed:
            if client is None or client is self._closer_client:
                coro.close()
                return None
            self._closed = False  # a new Client was given after aclose(): work again
        if client is not None and self._closer_client is not client:
            try:
                client.add_closer(self)
                self._closer_client = client
            except RuntimeError:
                self._warn_once(
                    f"closed {what}", "bybit: cannot start %s: the Client is closed", what
                )
                coro.close()
                return None
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def aclose(self) -> None:
        """Cancel background work (resubscriptions, snapshot fetches). Idempotent.

        The Client calls it when it closes; call it yourself to stop earlier.
        """
        self._closed = True
        self._resubscribing.clear()
        self._awaiting_snapshot.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _sync_full(self, symbol: str) -> None:
        """Fetch REST snapshots until ``symbol``'s full book is bridged (backoff on errors)."""
        book = self._book
        client = self._client
        while True:
            feed = book._feed(symbol)
            if feed is None or feed.depth is not None or book.is_synced(symbol):
                return
            if feed.failures:
                await client.clock.sleep(min(_MAX_BACKOFF, 0.25 * 2 ** min(feed.failures - 1, 8)))
                feed = book._feed(symbol)
                if feed is None or feed.depth is not None or book.is_synced(symbol):
                    return
            try:
                snapshot = await self._fetch_full_snapshot(client, symbol, feed.ws)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                feed.failures += 1
                logger.warning(
                    "bybit orderbook.full.%s: snapshot request failed (%s: %s); retrying",
                    symbol,
                    type(exc).__name__,
                    exc,
                )
                if isinstance(exc, RateLimitError):
                    await client.clock.sleep(5.0)
                continue
            verdict = book._install_full_snapshot(symbol, snapshot)
            if verdict == "synced" or verdict == "not_full":
                return
            feed.failures += 1
            if verdict == "malformed":
                logger.warning("bybit orderbook.full.%s: malformed snapshot; retrying", symbol)
            else:
                logger.debug("bybit orderbook.full.%s: snapshot older than the stream", symbol)

    async def _fetch_full_snapshot(self, client: Any, symbol: str, ws: Any) -> Mapping[str, Any]:
        from ..._http import read_response  # keeps aiohttp out of import time

        base = self.rest_base_url or _rest_base_from_ws(ws) or DEFAULT_REST_URL
        category = self.full_orderbook_category or _category_from_ws(ws) or "spot"
        async with client.get(
            base.rstrip("/") + FULL_ORDERBOOK_PATH,
            params={"category": category, "symbol": symbol},
            auth=None,
        ) as resp:
            data = await read_response(resp, exchange="bybit")
            status = resp.status
            url = resp.url
        result = bybit_result(data, f"GET {FULL_ORDERBOOK_PATH}", status)
        # Response observers (a Recorder) see every snapshot handed to the book;
        # replaying it through _onresponse gives the same verdict as here.
        self._observe_response("GET", url, status, data)
        return result


def bybit_result(data: Any, endpoint: str, status: int | None) -> Mapping[str, Any]:
    """``data["result"]`` of a Bybit V5 response, or the matching ExchangeAPIError."""
    if not isinstance(data, Mapping):
        raise ExchangeAPIError(
            exchange="bybit", endpoint=endpoint, status=status, message="response is not JSON"
        )
    code = data.get("retCode")
    if code != 0:
        cls: type[ExchangeAPIError] = ExchangeAPIError
        if code in _RATE_LIMIT_CODES:
            cls = RateLimitError
        elif code in _AUTH_CODES:
            cls = AuthenticationError
        raise cls(
            exchange="bybit",
            endpoint=endpoint,
            status=status,
            code=code,
            message=str(data.get("retMsg") or "(no retMsg)"),
        )
    result = data.get("result")
    if not isinstance(result, Mapping):
        raise ExchangeAPIError(
            exchange="bybit", endpoint=endpoint, status=status, message="response has no result"
        )
    return result


def _url_of(ws: Any) -> URL | None:
    url = getattr(ws, "url", None)
    if url is None:
        return None
    from yarl import URL  # an aiohttp dependency; only needed off the hot path

    try:
        return URL(str(url))
    except ValueError:
        return None


def _rest_base_from_ws(ws: Any) -> str | None:
    """``wss://stream[-testnet].bybit.com/...`` -> ``https://api[-testnet].bybit.com``."""
    url = _url_of(ws)
    host = url.host if url is not None else None
    if not host or not host.startswith("stream"):
        return None
    return "https://api" + host[len("stream") :]


def _category_from_ws(ws: Any) -> str | None:
    """``/v5/public/spot`` -> ``spot`` (``linear``, ``inverse``)."""
    url = _url_of(ws)
    if url is None:
        return None
    segment = url.path.rstrip("/").rsplit("/", 1)[-1]
    return segment if segment in ("spot", "linear", "inverse") else None
