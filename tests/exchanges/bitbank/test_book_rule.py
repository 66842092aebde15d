"""The depth recipe under random streams (hypothesis): wholes taken at any point and
delivered late, diffs before the first whole, duplicated diffs. Whenever no diff
was lost, the book equals the exchange's book at the last ``s`` it applied; a lost
diff is healed by the first whole taken after it."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from datastores import bitbankDataStore

PAIR = "btc_jpy"

# one step: a change of the exchange's book (side, price, amount; "0" deletes)
changes = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.integers(1, 8), st.sampled_from(["0", "1", "2"])),
    min_size=1,
    max_size=3,
)
streams = st.lists(
    st.tuples(changes, st.integers(1, 5), st.booleans(), st.booleans(), st.integers(0, 3)),
    min_size=1,
    max_size=30,
)


def _levels(book: dict[str, dict[int, str]], side: str) -> list[list[str]]:
    reverse = side == "b"
    prices = sorted(book[side], reverse=reverse)
    offset = 100 if side == "a" else 0  # asks 101..108 above bids 1..8: never crossed
    return [[str(offset + p), book[side][p]] for p in prices]


def _message(kind: str, data: Any) -> list[Any]:
    return ["message", {"room_name": f"{kind}_{PAIR}", "message": {"data": data}}]


@settings(max_examples=150, deadline=None)
@given(stream=streams)
def test_book_equals_the_exchanges_when_nothing_was_lost(stream: list[Any]) -> None:
    store = bitbankDataStore()
    book: dict[str, dict[int, str]] = {"a": {}, "b": {}}
    history: dict[int, tuple[list[list[str]], list[list[str]]]] = {}
    sequence = 1000
    pending: list[tuple[int, int, Any]] = []  # (diffs to wait, sequenceId, whole)
    lost_after: int | None = None  # s of the last diff lost that no whole covered yet
    for step, gap, lose, duplicate, whole_delay in stream:
        sequence += gap
        diff: dict[str, list[list[str]]] = {"a": [], "b": []}
        for side, price, amount in step:
            if amount == "0":
                book[side].pop(price, None)
            else:
                book[side][price] = amount
            diff[side].append([str(price + (100 if side == "a" else 0)), amount])
        history[sequence] = (_levels(book, "a"), _levels(book, "b"))
        message = _message(
            "depth_diff", {"a": diff["a"], "b": diff["b"], "t": 1, "s": str(sequence)}
        )
        if lose:
            lost_after = sequence
        else:
            store.onmessage(message, None)
            if duplicate:
                store.onmessage(message, None)
        # a whole taken now, delivered after `whole_delay` more diffs
        asks, bids = history[sequence]
        whole = {"asks": asks, "bids": bids, "timestamp": 1, "sequenceId": str(sequence)}
        pending.append((whole_delay, sequence, _message("depth_whole", whole)))
        due = [p for p in pending if p[0] == 0]
        pending = [(wait - 1, s, m) for wait, s, m in pending if wait > 0]
        for _, taken_at, whole_message in due:
            store.onmessage(whole_message, None)
            if lost_after is not None and taken_at >= lost_after:
                lost_after = None
        store.depth._check()
        status = store.depth.status(PAIR)
        if status.synced and lost_after is None:
            last = status.last_update_id
            assert last is not None
            asks_now, bids_now = store.depth.levels(PAIR)
            expected = history[last]
            assert [list(level) for level in asks_now] == expected[0]
            assert [list(level) for level in bids_now] == expected[1]
