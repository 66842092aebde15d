"""A test collection whose messages make every kind of change the change feed reports.

Shared by the change-feed tests (``tests/test_changefeed.py``) and the relay tests
(``tests/apps/relay/``). Messages are ``{"op": ..., ...}``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from datastores import DataStore, DataStoreCollection, OrderBookStore


class Keyed(DataStore):
    _KEYS: ClassVar[list[str]] = ["id"]


class Log(DataStore):
    _MAXLEN = 3


class Book(OrderBookStore):
    pass


class Plain(DataStoreCollection):
    """``insert``/``update``/``delete``/``clear`` the keyed store, ``log`` (bounded by
    ``_LOG``'s ``_MAXLEN``), ``snapshot``/``delta`` a book, ``invalidate`` every book,
    ``new-store`` (made on first use), and ``raise`` (a handler that fails).
    :meth:`on_reconnect` clears the keyed store and invalidates the books."""

    _LOG: ClassVar[type[DataStore]] = Log

    def _init(self) -> None:
        self.items = self._create("items", datastore_class=Keyed)
        self.log = self._create("log", datastore_class=self._LOG)
        self.book = self._create("book", datastore_class=Book)

    def _onmessage(self, msg: Any, ws: Any) -> None:
        op = msg["op"]
        if op == "insert":
            self.items._insert(msg["data"])
        elif op == "update":
            self.items._update(msg["data"])
        elif op == "delete":
            self.items._delete(msg["data"])
        elif op == "clear":
            self.items._clear()
        elif op == "log":
            self.log._insert(msg["data"])
        elif op == "snapshot":
            self.book._replace(msg["s"], msg["a"], msg["b"], msg.get("u"))
        elif op == "delta":
            self.book._apply(msg["s"], msg["a"], msg["b"])
        elif op == "invalidate":
            self.book._invalidate_all("reconnect: connection lost")
        elif op == "new-store":
            name = msg["name"]
            store = self._stores.get(name) or self._create(name, keys=["k"])
            store._insert(msg["data"])
        elif op == "raise":
            raise KeyError("broken message")

    def on_reconnect(self, ws: Any = None) -> None:
        self.items._clear()
        self.book._invalidate_all("reconnect: connection lost")
