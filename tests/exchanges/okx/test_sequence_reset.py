"""OKX sequence resets (maintenance: one update with ``seqId < prevSeqId``, then the
sequence goes on from the lower value) whose first update never reached us.

Every later update is below the book's last ``seqId``; dropped as "stale" (an update
the book already covers), they froze the book while ``status().synced`` stayed True.
An update the book really covers is one it applied (a replay); anything else below the
last ``seqId`` means the sequence went back: a gap.

Not covered (left as a known limitation): a reset missed while a REST snapshot is
being bridged, e.g. right after a reconnect. OKX's bridging rule (drop updates with
``seqId <=`` the snapshot's) cannot tell those updates from ones generated before the
snapshot; only their ``ts`` could, and OKX does not document that REST and WebSocket
``ts`` can be compared."""

from __future__ import annotations

from typing import Any

from datastores._client import Client
from datastores.exchanges.okx.store import OKXDataStore

from ._support import FakeWS, book_msg, levels_of, lv, rest_server, settle


def rest_book(seq: int, ts: str, asks: Any, bids: Any) -> dict[str, Any]:
    return {"code": "0", "msg": "", "data": [{"asks": asks, "bids": bids, "ts": ts, "seqId": seq}]}


def test_a_missed_reset_is_a_gap_not_an_endless_run_of_stale_updates() -> None:
    store = OKXDataStore()
    calls: list[str] = []
    store.books.resync_hook = calls.append
    store.onmessage(
        book_msg("books", "X", "snapshot", [lv("2", "1")], [lv("1", "1")], prev=-1, seq=100)
    )
    store.onmessage(book_msg("books", "X", "update", [lv("3", "1")], [], prev=100, seq=101))
    # maintenance: the update prev=101 -> seq=5 is lost; the next ones follow it
    store.onmessage(book_msg("books", "X", "update", [lv("4", "1")], [], prev=5, seq=6))
    status = store.books.status("X")
    assert not status.synced
    assert (status.gaps, status.stale) == (1, 0)
    assert calls == ["X"]
    store.onmessage(book_msg("books", "X", "update", [lv("5", "1")], [], prev=6, seq=9))
    assert store.books.status("X").gaps == 1  # one episode


def test_a_replayed_update_is_still_stale_and_a_reset_that_arrives_is_applied() -> None:
    store = OKXDataStore()
    store.onmessage(book_msg("books", "X", "snapshot", [lv("2", "1")], [], prev=-1, seq=100))
    for prev, seq, px in ((100, 101, "3"), (101, 104, "4"), (104, 105, "5")):
        store.onmessage(book_msg("books", "X", "update", [lv(px, "1")], [], prev=prev, seq=seq))
    # replays of applied updates (and of the snapshot's seqId): covered, dropped
    store.onmessage(book_msg("books", "X", "update", [lv("3", "9")], [], prev=100, seq=101))
    store.onmessage(book_msg("books", "X", "update", [lv("4", "9")], [], prev=101, seq=104))
    store.onmessage(book_msg("books", "X", "update", [lv("2", "9")], [], prev=99, seq=100))
    status = store.books.status("X")
    assert (status.synced, status.stale, status.gaps) == (True, 3, 0)
    # the reset itself, then the lower sequence goes on
    store.onmessage(book_msg("books", "X", "update", [lv("6", "1")], [], prev=105, seq=7))
    store.onmessage(book_msg("books", "X", "update", [lv("7", "1")], [], prev=7, seq=8))
    status = store.books.status("X")
    assert (status.synced, status.last_update_id, status.gaps) == (True, 8, 0)
    assert [a[0] for a in levels_of(store.books, "X")[0]] == ["2", "3", "4", "5", "6", "7"]


async def test_stale_updates_generated_before_a_rest_snapshot_are_still_dropped() -> None:
    ws = FakeWS()
    async with rest_server() as server:
        server.responses = [(200, rest_book(1010, "1700000000150", [lv("2", "1")], []))]
        async with Client(apis={}, redirects={"www.okx.com": server.base}) as client:
            store = OKXDataStore()
            store.client = client
            store.onmessage(
                book_msg("books", "X", "update", [], [], prev=1000, seq=1004, ts="1700000000100"),
                ws,
            )
            await settle(lambda: store.books.status("X").synced)
            # REST was ahead of the stream: these were generated before the snapshot
            for prev, seq, ts in ((1004, 1006, "120"), (1006, 1010, "150")):
                store.onmessage(
                    book_msg(
                        "books", "X", "update", [], [], prev=prev, seq=seq, ts="1700000000" + ts
                    ),
                    ws,
                )
            store.onmessage(
                book_msg(
                    "books",
                    "X",
                    "update",
                    [lv("3", "1")],
                    [],
                    prev=1010,
                    seq=1011,
                    ts="1700000000200",
                ),
                ws,
            )
            status = store.books.status("X")
            assert (status.synced, status.last_update_id, status.gaps) == (True, 1011, 0)
            assert status.stale == 3
