"""Which connection feeds each order book: :class:`BookFeeds`.

A collection records, per symbol, the connection (``ws``), channel/topic and
arguments its book comes from, and which connections carried books at all, so that
recovery (:mod:`datastores._recovery`) resubscribes on the right connection and a
reconnect unsyncs exactly the books it fed. Nothing here runs per message beyond one
identity comparison (``last_ws``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._orderbook import OrderBookStore

__all__ = ["BookFeed", "BookFeeds"]

#: most connection URLs remembered as having carried books
_MAX_FEED_URLS = 256


@dataclass(slots=True)
class BookFeed:
    """Which connection, channel and arguments feed one symbol's book.

    Attributes:
        ws: the connection that last delivered the book (what ``onmessage`` got).
        channel: the exchange's channel or topic (``"books"``, ``"orderbook.50.BTCUSDT"``).
        args: what the exchange needs to resubscribe it (OKX's ``arg`` dict,
            Bitget's ``instType``...), or ``None``.
    """

    ws: Any
    channel: str
    args: Any = None


class BookFeeds:
    """The book feeds of one collection, per symbol and per connection.

    ``last_ws`` is a hot-path cache: handlers compare the message's ``ws`` with
    it by identity and call :meth:`note_connection` (or :meth:`note`) only when
    it differs, so a stream on one connection costs one comparison per message.
    """

    __slots__ = ("_by_symbol", "_urls", "last_ws", "max_symbols")

    def __init__(self) -> None:
        #: most symbols recorded; ``None``: ``OrderBookStore.max_symbols`` (the class
        #: value, read when a new symbol comes). A new symbol beyond it gets a feed
        #: that is not recorded (its book refuses it too).
        self.max_symbols: int | None = None
        #: the connection that delivered the last book message (identity cache)
        self.last_ws: Any = object()
        self._by_symbol: dict[str, BookFeed] = {}
        self._urls: set[str] = set()

    def note_connection(self, ws: Any) -> None:
        """``ws`` delivers book messages: remember it (and its URL, bounded)."""
        self.last_ws = ws
        url = getattr(ws, "url", None)
        if url is not None and len(self._urls) < _MAX_FEED_URLS:
            self._urls.add(str(url))

    def note(self, symbol: str, ws: Any, channel: str, args: Any = None) -> BookFeed:
        """Record that ``channel`` (with ``args``) on ``ws`` feeds ``symbol``'s book. O(1)."""
        if ws is not self.last_ws:
            self.note_connection(ws)
        feed = self._by_symbol.get(symbol)
        if feed is None:
            cap = OrderBookStore.max_symbols if self.max_symbols is None else self.max_symbols
            if len(self._by_symbol) >= cap:
                return BookFeed(ws, channel, args)  # junk symbols never grow the table
            feed = self._by_symbol[symbol] = BookFeed(ws, channel, args)
        else:
            feed.ws, feed.channel, feed.args = ws, channel, args
        return feed

    def get(self, symbol: str) -> BookFeed | None:
        """The feed of ``symbol``'s book, or ``None``."""
        return self._by_symbol.get(symbol)

    def forget(self, symbol: str) -> BookFeed | None:
        """Stop recording ``symbol`` (unsubscribed); returns its feed."""
        return self._by_symbol.pop(symbol, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._by_symbol))

    def symbols_fed_by(self, ws: Any) -> list[str]:
        """Symbols whose book ``ws`` fed (all when ``ws`` is ``None``: unknown).

        ``on_reconnect(ws)`` is called with the app's *new* connection, so the
        feeds of a connection that is closed by now count as fed by ``ws`` too: a
        lost connection's books are never left out of a reconnect.
        """
        if ws is None:
            return list(self._by_symbol)
        return [
            symbol
            for symbol, feed in self._by_symbol.items()
            if feed.ws is ws or getattr(feed.ws, "closed", False) is True
        ]

    def carried_books(self, ws: Any) -> bool:
        """Whether ``ws`` (being reconnected) carried books, or it cannot be told:
        no ``ws``, the last book connection, a URL that carried books, or no
        book connection known yet."""
        url = getattr(ws, "url", None)
        return (
            ws is None
            or ws is self.last_ws
            or url is None
            or str(url) in self._urls
            or not self._urls
        )

    def reset_connection(self) -> None:
        """Forget the identity cache (after a reconnect the next message notes again)."""
        self.last_ws = object()
