"""Order-book recovery of :class:`~datastores.exchanges.bybit.store.BybitDataStore`,
on the exchange kit (``datastores._recovery``).

* N-level topics: a gap resubscribes the topic on the connection that last
  delivered it (``unsubscribe`` then ``subscribe``); the exchange answers a
  subscription with a fresh snapshot. If none comes, the kit resubscribes again
  after 10 s, doubling to 300 s (:class:`~datastores._recovery.ResubscribeRecovery`).
* ``orderbook.full``: a REST snapshot (``GET /v5/market/full_orderbook``) is
  fetched through the collection's Client
  (:class:`~datastores._recovery.SnapshotRecovery`: one fetch in flight per
  symbol, the kit's backoff, refetched while older than the stream); a gap
  also resubscribes once, which restarts the documented procedure from its
  first step. https://bybit-exchange.github.io/docs/v5/websocket/public/full-ob
* After a reconnect the WebSocketApp re-sends subscriptions itself, so books
  fed by that connection are only marked unsynced (full books refetch).

The book supplies the rules (``_book.py``: seq-based bridging, restart
detection); this module only says how to ask for a snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from ..._errors import AuthenticationError, ExchangeAPIError, RateLimitError
from ..._recovery import BookFeed, ResubscribeRecovery, SnapshotRecovery

if TYPE_CHECKING:
    from yarl import URL

    from .store import BybitDataStore

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


class _Snapshot(NamedTuple):
    """One ``GET /v5/market/full_orderbook`` response, as fetched."""

    url: URL
    status: int
    data: Any
    result: Mapping[str, Any]


def _resubscribe_messages(feed: BookFeed) -> list[dict[str, Any]]:
    """``unsubscribe`` then ``subscribe`` the topic (``feed.channel``)."""
    return [
        {"op": "unsubscribe", "args": [feed.channel]},
        {"op": "subscribe", "args": [feed.channel]},
    ]


class BookRecovery:
    """The collection's book recovery: the kit's resubscribe and REST-snapshot
    strategies, chosen per symbol by the topic feeding it.

    Install :meth:`request` as the book's ``resync_hook`` (done here).
    """

    def __init__(self, collection: BybitDataStore) -> None:
        self._collection = collection
        book = self.book = collection.orderbook
        background = collection._background
        self.resubscribe = ResubscribeRecovery(
            background, book, book.links, messages=_resubscribe_messages, logger=logger
        )
        self.snapshots: SnapshotRecovery[_Snapshot] = SnapshotRecovery(
            background,
            book,
            fetch=self._fetch,
            install=self._install,
            on_no_client=self._warn_no_client,
            logger=logger,
            wanted=self._wants_snapshot,
        )
        book.resync_hook = self.request

    def request(self, symbol: str) -> None:
        """The book's resync hook: resubscribe (N-level) or fetch a snapshot (full)."""
        feed = self.book._feed(symbol)
        if feed is None:
            return
        if feed.depth is None:
            restart, feed.restart = feed.restart, False
            if restart:
                # A gap: restart the stream too (the documented procedure's first step).
                self.resubscribe.request(symbol, retry=False)
            self.snapshots.request(symbol, stale=feed.stale_snapshots)
        else:
            self.resubscribe.request(symbol)

    def on_snapshot(self, symbol: str) -> None:
        """An N-level snapshot was handled: if it synced the book, stop the retries."""
        if self.book.is_synced(symbol):
            self.resubscribe.on_snapshot(symbol)

    def on_reconnect(self, ws: Any) -> None:
        """Mark unsynced the books fed by ``ws`` (or a closed connection; all when
        ``None``). The app re-sends the subscriptions itself: no resubscribe, and
        the retry timers of those books stop; full books refetch."""
        self.resubscribe.suspended = True
        try:
            for symbol in self.book._connection_lost(ws):
                self.resubscribe.stop(symbol)
        finally:
            self.resubscribe.suspended = False

    def _wants_snapshot(self, symbol: str) -> bool:
        """Whether ``symbol`` is still fed by ``orderbook.full`` (not forgotten)."""
        feed = self.book._feed(symbol)
        return feed is not None and feed.depth is None

    def _warn_no_client(self, symbol: str) -> None:
        logger.warning(
            "bybit orderbook.full.%s needs a REST snapshot but the store has no Client: "
            "set `store.client = client` (or call initialize()); the book stays unsynced",
            symbol,
        )

    async def _fetch(self, symbol: str) -> _Snapshot:
        from ..._http import read_response  # keeps aiohttp out of import time

        collection = self._collection
        link = self.book.links.get(symbol)
        ws = link.ws if link is not None else None
        base = collection.rest_base_url or _rest_base_from_ws(ws) or DEFAULT_REST_URL
        category = collection.full_orderbook_category or _category_from_ws(ws) or "spot"
        async with collection._background.client.get(
            base.rstrip("/") + FULL_ORDERBOOK_PATH,
            params={"category": category, "symbol": symbol},
            auth=None,
        ) as resp:
            data = await read_response(resp, exchange="bybit")
            status = resp.status
            url = resp.url
        result = bybit_result(data, f"GET {FULL_ORDERBOOK_PATH}", status)
        return _Snapshot(url, status, data, result)

    def _install(self, symbol: str, snapshot: _Snapshot) -> None:
        # Response observers (a Recorder) see every snapshot handed to the book;
        # replaying it through _onresponse gives the same verdict as here.
        self._collection._observe_response("GET", snapshot.url, snapshot.status, snapshot.data)
        verdict = self.book._install_full_snapshot(symbol, snapshot.result)
        if verdict == "malformed":
            raise ValueError(f"orderbook.full.{symbol}: malformed snapshot")
        if verdict == "too_old":
            logger.debug("bybit orderbook.full.%s: snapshot older than the stream", symbol)


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
