"""Subjects and the wire format, without a server: a mirror fed from the encoded
messages equals the origin after every batch (property test)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datastores import ChangeBatch, ConfigurationError, LocalSource, _json, apply_batch
from datastores.apps.relay import RelayNames, escape_token
from datastores.apps.relay._wire import (
    WireError,
    batch_runs,
    decode_changes,
    decode_snapshot,
    encode_snapshot,
    restore_snapshot,
    take_snapshot,
)

from ._harness import Plain, random_message, state_of


def test_subject_names() -> None:
    names = RelayNames("binance")
    assert names.subject("orderbook", "BTCUSDT") == "datastores.binance.orderbook.BTCUSDT"
    assert names.subject("trade", "_") == "datastores.binance.trade._"
    assert names.subject("book", "ETH.USDT") == "datastores.binance.book.ETH%2EUSDT"
    assert names.subject("_relay", "a b*>") == "datastores.binance.%5Frelay.a%20b%2A%3E"
    assert names.stream == "DATASTORES_BINANCE"
    assert names.bucket == "datastores_binance"
    assert names.control == "datastores._ctl.binance.snapshot"
    assert not names.control.startswith(names.root + ".")  # outside the stream
    assert escape_token("") == "%"
    assert escape_token("_") == "%5F"  # never the no-symbol token
    assert escape_token("100%") == "100%25"
    for bad in ("", "_x", "a.b", "a b"):
        with pytest.raises(ConfigurationError):
            RelayNames(bad)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 120))
def test_property_mirror_from_the_wire_equals_origin(seed: int, count: int) -> None:
    """Every batch: runs -> JSON -> decoded changes -> apply; states equal after each.
    A mirror started from a snapshot taken midway equals the origin too."""
    rng = random.Random(seed)
    origin, mirror = Plain(), Plain()
    catalog: dict[str, tuple[list[str], str]] = {}
    late: Plain | None = None
    late_catalog: dict[str, tuple[list[str], str]] = {}

    def forward(batch: ChangeBatch) -> None:
        for target, known in ((mirror, catalog), (late, late_catalog)):
            if target is None:
                continue
            changes: list[Any] = []
            for store, symbol, encoded in batch_runs(batch):
                wire = _json.loads(_json.dumps_bytes(encoded))
                known.setdefault(store.name, (list(store.keys), "datastores:DataStore"))
                changes += decode_changes(target, store.name, symbol, wire, known)
            apply_batch(
                target, ChangeBatch(target, batch.seq, batch.time, LocalSource(), tuple(changes))
            )
            assert state_of(target) == state_of(origin)

    origin.add_observer(forward)
    for step in range(count):
        origin.onmessage(random_message(rng, step))
        if step == count // 2:
            body = _json.dumps_bytes(take_snapshot(origin))
            header, snapshot = decode_snapshot(encode_snapshot({"v": 1, "e": "x", "r": 7}, body))
            assert header["r"] == 7
            late = Plain()
            verdicts, late_catalog = restore_snapshot(late, snapshot)
            for (name, symbol), (synced, _error) in verdicts.items():
                late[name]._state(symbol).phase = "synced" if synced else "unsynced"
            assert state_of(late) == state_of(origin)


def test_runs_keep_the_order_of_a_mixed_batch() -> None:
    origin = Plain()
    seen: list[Any] = []
    origin.add_observer(lambda batch: seen.append(batch_runs(batch)))
    origin.onmessage(
        {
            "op": "log",
            "data": [
                {"symbol": "A", "n": 1},
                {"symbol": "A", "n": 2},
                {"symbol": "B", "n": 3},
                {"symbol": "A", "n": 4},
            ],
        }
    )
    runs = seen[-1]
    assert [
        (store.name, symbol, [c[2]["n"] for c in changes]) for store, symbol, changes in runs
    ] == [
        ("log", "A", [1, 2]),
        ("log", "B", [3]),
        ("log", "A", [4]),
    ]


def test_bad_snapshots_and_messages_are_refused() -> None:
    with pytest.raises(WireError):
        decode_snapshot(b"not zlib")
    with pytest.raises(WireError):
        decode_snapshot(encode_snapshot({"v": 99}, b"{}"))
    with pytest.raises(WireError):
        restore_snapshot(Plain(), {"stores": [{"n": "items"}]})
    with pytest.raises(WireError):
        decode_changes(Plain(), "nowhere", "_", [["s", "insert", {}]], {})
    with pytest.raises(WireError):
        decode_changes(Plain(), "items", "_", [["b", [], [], False, None]], {})
    with pytest.raises(WireError):
        decode_changes(Plain(), "items", "_", [["?"]], {})


def test_store_classes_from_the_network_are_only_this_librarys() -> None:
    from datastores import DataStore
    from datastores.apps.relay._wire import _store_class

    assert _store_class("os:system") is DataStore
    assert _store_class("datastores._store:DataStore") is DataStore
    book = _store_class("datastores.exchanges.binance.store:BinanceSpotOrderBook")
    assert book.__name__ == "BinanceSpotOrderBook"
    assert _store_class("datastores.exchanges.binance.store:Client") is DataStore
