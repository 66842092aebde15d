"""Summarise a JUnit report of pybotters' suite run against datastores (scripts/incumbent-suite).

Prints passed/failed/error counts per test file, then sorts every failure into the
classes docs/migration.md explains: ``private`` (the test reaches into pybotters'
internals or patches them) and ``deliberate`` (a documented difference). A failure no
rule explains is ``UNCLASSIFIED``: a public-API difference to fix, or to document and
classify here. Exits 1 when there is one. Usage: python _incumbent_summary.py REPORT
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable

ADDRESS = re.compile(r" at 0x[0-9a-f]+")

Rule = tuple[str, str, Callable[[str, str], bool]]


def named(*patterns: str) -> Callable[[str, str], bool]:
    """Matches tests whose ``file::name`` starts with one of ``patterns``."""
    return lambda test, message: test.startswith(patterns)


RULES: list[Rule] = [
    (
        "private",
        "uses a private pybotters name (auth/ws host tables, signer and heartbeat "
        "functions, request class); the shim's placeholder raised",
        lambda test, message: "pybotters internal" in message,
    ),
    (
        "private",
        "pybotters' DataStore internals (_data, _index, _hash, _sweep_*, _events, _queues, "
        "_set, _find_with_uuid)",
        named(
            *(
                f"test_store::{name}"
                for name in (
                    "test_dsm_construct",
                    "test_ds_construct",
                    "test_ds_hash",
                    "test_ds_sweep_with_key",
                    "test_ds_sweep_without_key",
                    "test_ds_insert",
                    "test_ds_update",
                    "test_ds_delete",
                    "test_ds_remove",
                    "test_ds_find_and_delete",
                    "test_ds_find_with_uuid",
                    "test_ds_set",
                    "test_ds_wait",
                    "test_ds_put",
                )
            )
        ),
    ),
    (
        "private",
        "Client internals: _load_apis, aiohttp.ClientSession._request or Client.request "
        "patched, pybotters.client.WebSocketApp patched",
        named(
            "test_client::test_client_load_apis_",
            "test_client::test_client_request_",
            "test_client::test_client_get",
            "test_client::test_client_post",
            "test_client::test_client_put",
            "test_client::test_client_delete",
            "test_client::test_client_fetch",
            "test_client::test_client_ws_connect",
        ),
    ),
    (
        "private",
        "WebSocketApp internals (_run_forever, _task, _event, _current_ws) or "
        "asyncio.sleep and random.random patched module-wide",
        named(
            "test_ws::test_websocketapp_init",
            "test_ws::test_websocketapp_run_forever",
            "test_ws::test_ws_connect",
            "test_ws::test_websocketapp_wait",
            "test_ws::test_websocketapp_await",
            "test_ws::test_websocketapp_url",
            "test_ws::test_websocketapp_current_ws",
            "test_ws::test_websocketapp_functional",
        ),
    ),
    (
        "private",
        "host tables' own shape, or aiohttp's response class built by hand",
        named(
            "test_ws::test_heartbeathosts",
            "test_ws::test_authhosts",
            "test_auth::test_hosts",
            "test_ws::test_wsresponse_send_json",
        ),
    ),
    (
        "deliberate",
        "invalid credentials raise ConfigurationError (pybotters logged and dropped them)",
        lambda test, message: test in ("test_client::test_client", "test_client::test_client_warn"),
    ),
    (
        "deliberate",
        "an order that ended never comes back (the test reuses a cancelled order id)",
        named("test_datastore::test_bitbank_private_order"),
    ),
    (
        "deliberate",
        "Hyperliquid user-stream rows carry `user`",
        named(
            "test_datastore::test_hyperliquid[userFundings]",
            "test_datastore::test_hyperliquid[userNonFundingLedgerUpdates]",
            "test_datastore::test_hyperliquid[userTwapSliceFills]",
            "test_datastore::test_hyperliquid[userTwapHistory]",
        ),
    ),
    (
        "deliberate",
        "order-book find() lists levels by side, asks first (sorted() is the book view)",
        named("test_datastore::test_hyperliquid[l2Book]"),
    ),
    (
        "deliberate",
        "Binance futures diffs must carry `pu` (the test's synthetic ones do not)",
        named("test_datastore::test_binance_orderbook_reinitialize_replays_post_init_messages"),
    ),
    (
        "deliberate",
        "error messages say what to do (same exception type, other text)",
        named("test_hyperliquid::test_generate_message_types_raises"),
    ),
    (
        "deliberate",
        "the base DataStoreCollection does not print messages to stdout",
        named("test_store::test_dsc_onmessage_without_ws"),
    ),
    (
        "deliberate",
        "GMOCoinHelper.manage_ws_token() returns when the app ends (the test's mock app "
        "has ended; pybotters looped until asyncio.sleep, patched, cancelled it)",
        named("test_helpers::test_gmo_manage_ws_token"),
    ),
]


def cause(element: ET.Element) -> str:
    """The first line of a failure's message, with memory addresses removed."""
    text = (element.get("message") or element.text or "").strip()
    first = text.splitlines()[0] if text else "(no message)"
    return ADDRESS.sub("", first)[:160]


def classify(test: str, message: str) -> tuple[str, str]:
    for kind, reason, matches in RULES:
        if matches(test, message):
            return kind, reason
    return "UNCLASSIFIED", message


def main(report: str) -> int:
    root = ET.parse(report).getroot()
    per_file: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    classes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for case in root.iter("testcase"):
        module = (case.get("classname") or "?").rsplit(".", 1)[-1]
        test = f"{module}::{case.get('name')}"
        outcome = "passed"
        for kind in ("failure", "error"):
            element = case.find(kind)
            if element is not None:
                outcome = "failed" if kind == "failure" else "error"
                classes[classify(test, cause(element))].append(test)
                break
        if case.find("skipped") is not None:
            outcome = "skipped"
        per_file[module][outcome] += 1
    columns = ("passed", "failed", "error", "skipped")
    print(f"{'file':<18}" + "".join(f"{c:>9}" for c in columns))
    total = {c: 0 for c in columns}
    for module in sorted(per_file):
        counts = per_file[module]
        for c in columns:
            total[c] += counts[c]
        print(f"{module:<18}" + "".join(f"{counts[c]:>9}" for c in columns))
    print(f"{'total':<18}" + "".join(f"{total[c]:>9}" for c in columns))
    print("\nnot passing, by class (count, reason, first test):")
    order = {"UNCLASSIFIED": 0, "deliberate": 1, "private": 2}
    for (kind, reason), tests in sorted(classes.items(), key=lambda i: (order[i[0][0]], i[0][1])):
        print(f"{len(tests):>4}  {kind}: {reason}\n      e.g. {tests[0]}")
    sums = defaultdict(int)
    for (kind, _), tests in classes.items():
        sums[kind] += len(tests)
    print("\n" + ", ".join(f"{kind}: {sums[kind]}" for kind in order))
    return 1 if sums["UNCLASSIFIED"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
