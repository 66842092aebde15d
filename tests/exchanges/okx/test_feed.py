"""OKX books on the change feed: a book moving between ``books`` and a channel's own
store (a deeper flavour takes over, or goes away) reaches a mirror built only from
the feed (``datastores.apply_batch``), and watchers see the move too."""

from __future__ import annotations

from typing import Any

from datastores import ChangeBatch, apply_batch
from datastores.exchanges.okx.store import OKXDataStore

from ._support import FakeWS, book_msg, levels_of, lv

INST = "BTC-USDT"


def assert_mirrors(origin: OKXDataStore, mirror: OKXDataStore) -> None:
    """Same books (levels, sync, depth cap) in ``books`` and in every channel's store."""
    pairs = [(origin.books, mirror.books)]
    assert set(origin.books_by_channel) == set(mirror.books_by_channel)
    pairs += [(store, mirror.books_by_channel[c]) for c, store in origin.books_by_channel.items()]
    for store, twin in pairs:
        assert store.name == twin.name
        for symbol in {*store.symbols, *twin.symbols}:
            assert store.levels(symbol) == twin.levels(symbol), (store.name, symbol)
            assert store.is_synced(symbol) == twin.is_synced(symbol), (store.name, symbol)
            assert store._depths.get(symbol) == twin._depths.get(symbol), (store.name, symbol)
        assert list(store) == list(twin), store.name
        twin._check()


def test_a_book_moving_between_stores_reaches_a_mirror_built_from_the_feed() -> None:
    origin = OKXDataStore()
    mirror = OKXDataStore()
    batches: list[ChangeBatch] = []

    def observe(batch: ChangeBatch) -> None:
        batches.append(batch)
        apply_batch(mirror, batch)

    origin.add_observer(observe)
    watched = origin.books.watch()
    ws = FakeWS()
    bbo_asks, bbo_bids = [lv("101", "1")], [lv("100", "1")]
    origin.onmessage(book_msg("bbo-tbt", INST, None, bbo_asks, bbo_bids, seq=7), ws)
    assert_mirrors(origin, mirror)
    assert levels_of(mirror.books, INST) == (bbo_asks, bbo_bids)
    # `books` takes over: the bbo book moves, in sync, to store "books.bbo-tbt".
    deep_asks = [lv("101", "1"), lv("102", "4"), lv("103", "2")]
    deep_bids = [lv("100", "1"), lv("99", "3")]
    origin.onmessage(book_msg("books", INST, "snapshot", deep_asks, deep_bids, prev=-1, seq=10), ws)
    bbo = origin.books_by_channel["bbo-tbt"]
    assert bbo is origin["books.bbo-tbt"]
    assert levels_of(bbo, INST) == (bbo_asks, bbo_bids)
    assert bbo.is_synced(INST)
    assert_mirrors(origin, mirror)
    assert levels_of(mirror.books_by_channel["bbo-tbt"], INST) == (bbo_asks, bbo_bids)
    assert mirror.books_by_channel["bbo-tbt"].is_synced(INST)
    assert levels_of(mirror.books, INST) == (deep_asks, deep_bids)
    # Both keep their own updates, in the mirror too.
    origin.onmessage(book_msg("bbo-tbt", INST, None, [lv("101.5", "1")], bbo_bids, seq=8), ws)
    origin.onmessage(book_msg("books", INST, "update", [lv("102", "0")], [], prev=10, seq=11), ws)
    assert_mirrors(origin, mirror)
    # `books` goes away: the bbo book moves back into `books` (with its cap of 1).
    origin.onmessage({"event": "unsubscribe", "arg": {"channel": "books", "instId": INST}}, ws)
    assert origin.book_channel(INST) == "bbo-tbt"
    assert levels_of(origin.books, INST) == ([lv("101.5", "1")], bbo_bids)
    assert origin.books.is_synced(INST)
    assert INST not in bbo.symbols
    assert_mirrors(origin, mirror)
    assert levels_of(mirror.books, INST) == ([lv("101.5", "1")], bbo_bids)
    assert mirror.books.is_synced(INST)
    # (the mirror keeps an unsynced state for the symbol: integrity is its own)
    assert mirror.books_by_channel["bbo-tbt"].levels(INST) == ([], [])
    assert not mirror.books_by_channel["bbo-tbt"].is_synced(INST)
    # The moved book keeps its integrity record and its depth cap.
    status = origin.books.status(INST)
    assert (status.last_update_id, status.gaps) == (8, 0)
    origin.onmessage(book_msg("bbo-tbt", INST, None, deep_asks, deep_bids, seq=9), ws)
    assert origin.books.status(INST).asks == 1
    assert_mirrors(origin, mirror)
    # A watcher of `books` saw each move as deletes and inserts: replayed, it ends equal.
    replica: dict[tuple[str, str, str], Any] = {}
    while (change := watched.get_nowait()) is not None:
        key = (change.data["instId"], change.data["side"], change.data["px"])
        if change.operation == "delete":
            del replica[key]
        else:
            replica[key] = change.data
    assert replica == {(i["instId"], i["side"], i["px"]): i for i in origin.books}
    assert [b.seq for b in batches] == list(range(1, len(batches) + 1))
