"""The orderBookL2 table rule against a naive model (hypothesis), with and without a lost
message, and a change-feed mirror that must equal the book."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from datastores import BitMEXDataStore, ChangeBatch, apply_batch

Row = tuple[int, str]


def _message(action: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"table": "orderBookL2", "action": action, "data": rows}


@st.composite
def streams(draw: st.DrawFn) -> tuple[dict[Row, tuple[float, int]], list[dict[str, Any]]]:
    """A partial and a valid message stream, with the table the model ends with."""
    model: dict[Row, tuple[float, int]] = {}
    next_id = 0

    def new_rows(count: int) -> list[dict[str, Any]]:
        nonlocal next_id
        rows = []
        used = {(side, price) for (_, side), (price, _) in model.items()}
        for _ in range(count):
            side = draw(st.sampled_from(["Sell", "Buy"]))
            tick = draw(st.integers(1, 60))
            price = 100.0 + tick * 0.5 if side == "Sell" else 100.0 - tick * 0.5
            if (side, price) in used:
                continue
            used.add((side, price))
            next_id += 1
            size = draw(st.integers(1, 10**6))
            model[next_id, side] = (price, size)
            row = {"symbol": "XBTUSD", "id": next_id, "side": side, "size": size, "price": price}
            rows.append(row)
        return rows

    partial = _message("partial", new_rows(draw(st.integers(0, 15))))
    partial["filter"] = {"symbol": "XBTUSD"}
    messages = [partial]
    for _ in range(draw(st.integers(0, 25))):
        action = draw(st.sampled_from(["insert", "update", "delete"]))
        if action == "insert" or not model:
            rows = new_rows(draw(st.integers(1, 3)))
            if rows:
                messages.append(_message("insert", rows))
            continue
        keys = draw(st.lists(st.sampled_from(sorted(model)), min_size=1, max_size=3, unique=True))
        rows = []
        for ident, side in keys:
            if action == "delete":
                del model[ident, side]
                rows.append({"symbol": "XBTUSD", "id": ident, "side": side})
            else:
                price, _ = model[ident, side]
                size = draw(st.integers(1, 10**6))
                model[ident, side] = (price, size)
                row: dict[str, Any] = {"symbol": "XBTUSD", "id": ident, "side": side, "size": size}
                if draw(st.booleans()):
                    row["price"] = price  # newer feeds repeat it
                rows.append(row)
        messages.append(_message(action, rows))
    return model, messages


def _table(store: BitMEXDataStore) -> dict[Row, tuple[float, int]]:
    return {(i["id"], i["side"]): (i["price"], i["size"]) for i in store.orderbook.find()}


@settings(max_examples=60, deadline=None)
@given(streams())
def test_the_book_is_the_table(stream: tuple[dict[Row, Any], list[dict[str, Any]]]) -> None:
    model, messages = stream
    store = BitMEXDataStore()
    for message in messages:
        store.onmessage(copy.deepcopy(message))
        store.orderbook._check()
    assert store.orderbook.is_synced("XBTUSD")
    assert _table(store) == model
    assert store.orderbook.status("XBTUSD").last_update_id == len(messages) - 1


@settings(max_examples=60, deadline=None)
@given(streams(), st.data())
def test_a_lost_message_is_caught_when_a_later_one_touches_its_rows(
    stream: tuple[dict[Row, Any], list[dict[str, Any]]], data: st.DataObject
) -> None:
    model, messages = stream
    if len(messages) < 2:
        return
    lost_at = data.draw(st.integers(1, len(messages) - 1))
    lost = messages[lost_at]
    touched = {(r["id"], r["side"]) for r in lost["data"]}
    later = {(r["id"], r["side"]) for m in messages[lost_at + 1 :] for r in m["data"]}
    store = BitMEXDataStore()
    for index, message in enumerate(messages):
        if index != lost_at:
            store.onmessage(copy.deepcopy(message))
            store.orderbook._check()
    synced = store.orderbook.is_synced("XBTUSD")
    if lost["action"] in ("insert", "delete") and touched & later:
        # A later update/delete of a lost insert, or a re-insert after a lost delete.
        assert not synced
    if synced:
        # Only the lost message's rows can differ (an update lost: undetectable).
        table = _table(store)
        for key in set(table) | set(model):
            if key not in touched:
                assert table.get(key) == model.get(key)


def test_a_change_feed_mirror_equals_the_book() -> None:
    store = BitMEXDataStore()
    mirror = BitMEXDataStore()
    batches: list[ChangeBatch] = []
    store.add_observer(batches.append)
    partial = _message(
        "partial",
        [
            {"symbol": "XBTUSD", "id": 1, "side": "Sell", "size": 5, "price": 101.0},
            {"symbol": "XBTUSD", "id": 2, "side": "Buy", "size": 6, "price": 100.0},
        ],
    )
    partial["filter"] = {"symbol": "XBTUSD"}
    for message in (
        partial,
        _message("update", [{"symbol": "XBTUSD", "id": 1, "side": "Sell", "size": 7}]),
        _message(
            "update", [{"symbol": "XBTUSD", "id": 2, "side": "Buy", "size": 6, "price": 99.0}]
        ),
        _message(
            "insert", [{"symbol": "XBTUSD", "id": 3, "side": "Buy", "size": 1, "price": 99.5}]
        ),
        _message("delete", [{"symbol": "XBTUSD", "id": 1, "side": "Sell"}]),
        _message("update", [{"symbol": "XBTUSD", "id": 9, "side": "Buy", "size": 1}]),  # corrupt
        partial,
    ):
        store.onmessage(copy.deepcopy(message))
        for batch in batches:
            apply_batch(mirror, batch)
        batches.clear()
        mirror.orderbook._check()
        assert mirror.orderbook.find() == store.orderbook.find()
        assert mirror.orderbook.is_synced("XBTUSD") == store.orderbook.is_synced("XBTUSD")
