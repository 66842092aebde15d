"""pybotters names migrating users rely on: ``PYBOTTERS_APIS``, ``DataStore._sorted``
for custom stores written per its guide, and ``ClientWebSocketResponse`` in type hints."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from _wstools import eventually, served
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

import datastores
from datastores import ClientWebSocketResponse, ConfigurationError, DataStore
from datastores import _credentials as credentials_module
from datastores._client import Client
from datastores._credentials import ENV_VAR, INCUMBENT_ENV_VAR, load_apis

SECRET = "s3cr3t-value-never-shown"


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def fresh_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset both variables and forget an earlier notice (it is once per process)."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv(INCUMBENT_ENV_VAR, raising=False)
    monkeypatch.setattr(credentials_module, "_incumbent_noticed", False)


# ------------------------------------------------------------------ PYBOTTERS_APIS


@pytest.mark.usefixtures("fresh_notice")
def test_pybotters_apis_is_read_with_one_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "datastores.credentials")
    path = write(tmp_path / "keys.json", {"bybit": ["PBKEY", SECRET]})
    monkeypatch.setenv(INCUMBENT_ENV_VAR, str(path))
    assert load_apis(cwd=tmp_path)["bybit"].key == "PBKEY"
    assert load_apis(cwd=tmp_path)["bybit"].key == "PBKEY"
    notices = [r.getMessage() for r in caplog.records]
    assert len(notices) == 1  # once per process, not per Client
    assert "PYBOTTERS_APIS" in notices[0]
    assert "DATASTORES_APIS" in notices[0]
    assert SECRET not in caplog.text


@pytest.mark.usefixtures("fresh_notice")
def test_datastores_apis_wins_and_both_win_over_apis_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "datastores.credentials")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    write(cwd / "apis.json", {"bitflyer": ["CWDKEY", SECRET]})
    incumbent = write(tmp_path / "pb.json", {"bitflyer": ["PBKEY", SECRET]})
    native = write(tmp_path / "ds.json", {"bitflyer": ["DSKEY", SECRET]})
    monkeypatch.setenv(INCUMBENT_ENV_VAR, str(incumbent))
    monkeypatch.setenv(ENV_VAR, str(native))
    assert load_apis(cwd=cwd)["bitflyer"].key == "DSKEY"
    assert caplog.records == []  # the native variable is set: nothing to say
    monkeypatch.delenv(ENV_VAR)
    assert load_apis(cwd=cwd)["bitflyer"].key == "PBKEY"
    monkeypatch.delenv(INCUMBENT_ENV_VAR)
    assert load_apis(cwd=cwd)["bitflyer"].key == "CWDKEY"
    # A dict or a path given to the Client ignores the environment.
    monkeypatch.setenv(INCUMBENT_ENV_VAR, str(incumbent))
    assert load_apis({"bitflyer": ["ARGKEY", SECRET]})["bitflyer"].key == "ARGKEY"


@pytest.mark.usefixtures("fresh_notice")
def test_a_missing_pybotters_apis_file_is_an_error_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(INCUMBENT_ENV_VAR, str(tmp_path / "gone.json"))
    with pytest.raises(ConfigurationError, match=r"\$PYBOTTERS_APIS"):
        load_apis(cwd=tmp_path)


async def _echo_headers(request: web.Request) -> web.Response:
    return web.json_response({"key": request.headers.get("X-BAPI-API-KEY")})


@pytest.fixture
async def echo_server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/v5/account/wallet-balance", _echo_headers)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.usefixtures("fresh_notice")
async def test_a_client_signs_with_pybotters_apis(
    echo_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ignoring the variable sent private requests unsigned (HTTP 401 from the exchange).
    monkeypatch.setenv(
        INCUMBENT_ENV_VAR, str(write(tmp_path / "k.json", {"bybit": ["PBK", SECRET]}))
    )
    monkeypatch.chdir(tmp_path)
    async with Client(redirects={"api.bybit.com": echo_server}) as client:
        result = await client.fetch("GET", "https://api.bybit.com/v5/account/wallet-balance")
    assert result.data == {"key": "PBK"}


# ------------------------------------------------------------------------ _sorted


class Board(DataStore):
    """A custom book store written as pybotters' guide shows."""

    _KEYS: ClassVar[list[str]] = ["symbol", "side", "price"]

    def sorted(
        self, query: dict[str, Any] | None = None, limit: int | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        return self._sorted(
            item_key="side",
            item_asc_key="asks",
            item_desc_key="bids",
            sort_key="price",
            query=query,
            limit=limit,
        )


def test_sorted_for_custom_stores_has_the_incumbents_shape() -> None:
    board = Board(
        data=[
            {"symbol": "A", "side": "asks", "price": "101", "size": "1"},
            {"symbol": "A", "side": "bids", "price": "99", "size": "1"},
            {"symbol": "A", "side": "asks", "price": "100.5", "size": "2"},
            {"symbol": "A", "side": "bids", "price": "99.5", "size": "2"},
            {"symbol": "B", "side": "asks", "price": "1", "size": "3"},
        ]
    )
    assert board.sorted({"symbol": "A"}) == {
        "asks": [
            {"symbol": "A", "side": "asks", "price": "100.5", "size": "2"},
            {"symbol": "A", "side": "asks", "price": "101", "size": "1"},
        ],
        "bids": [
            {"symbol": "A", "side": "bids", "price": "99.5", "size": "2"},
            {"symbol": "A", "side": "bids", "price": "99", "size": "1"},
        ],
    }
    assert [i["price"] for i in board.sorted(limit=1)["asks"]] == ["1"]
    assert [i["price"] for i in board.sorted(limit=0)["asks"]] == ["1", "100.5", "101"]
    assert board.sorted({"symbol": "C"}) == {"asks": [], "bids": []}


def test_sorted_leaves_out_items_it_cannot_place() -> None:
    # The incumbent raised KeyError (other side value) or ValueError (no number).
    board = Board(
        keys=["id"],
        data=[
            {"id": 1, "side": "asks", "price": "10"},
            {"id": 2, "side": "other", "price": "11"},
            {"id": 3, "side": "asks", "price": "n/a"},
            {"id": 4, "side": "asks"},
            {"id": 5, "price": "12"},
            {"id": 6, "side": ["asks"], "price": "13"},
            {"id": 7, "side": "bids", "price": 9},
        ],
    )
    result = board.sorted()
    assert [i["id"] for i in result["asks"]] == [1]
    assert [i["id"] for i in result["bids"]] == [7]


levels = st.lists(
    st.fixed_dictionaries(
        {
            "symbol": st.sampled_from(["A", "B"]),
            "side": st.sampled_from(["asks", "bids"]),
            "price": st.integers(min_value=1, max_value=50).map(str),
        }
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(items=levels, symbol=st.sampled_from([None, "A", "B"]), limit=st.integers(0, 5))
def test_sorted_matches_a_naive_model(
    items: list[dict[str, str]], symbol: str | None, limit: int
) -> None:
    board = Board(data=items)
    query = None if symbol is None else {"symbol": symbol}
    result = board.sorted(query, limit)
    stored = list(board)  # later duplicates of a key replaced earlier ones
    for side, descending in (("asks", False), ("bids", True)):
        expected = sorted(
            (i for i in stored if i["side"] == side and symbol in (None, i["symbol"])),
            key=lambda i: float(i["price"]),
            reverse=descending,
        )
        assert result[side] == (expected[:limit] if limit else expected)


# ------------------------------------------------------------ ClientWebSocketResponse


async def test_client_websocket_response_is_what_handlers_get() -> None:
    assert datastores.ClientWebSocketResponse is datastores.WsConnection
    seen: list[ClientWebSocketResponse] = []

    def handler(msg: Any, ws: ClientWebSocketResponse) -> None:
        seen.append(ws)

    async with served() as (server, client, _):
        app = await client.ws_connect("wss://stream.example.test/ws", hdlr_str=handler)
        await server.send(server.connections[0], "hello")
        await eventually(lambda: len(seen) == 1)
        assert isinstance(seen[0], ClientWebSocketResponse)
        assert isinstance(app.current_ws, ClientWebSocketResponse)
        await asyncio.sleep(0)


# ------------------------------------------------------------- item shapes kept


def test_coincheck_feed_response_keeps_the_incumbents_item_shape() -> None:
    # pybotters keeps the answer's `success` field in the stored order; we dropped it.
    store = datastores.CoincheckPrivateDataStore()
    answer = {
        "success": True,
        "id": 12345,
        "amount": "0.5",
        "rate": "4000000.0",
        "order_type": "buy",
        "pair": "btc_jpy",
        "market_buy_amount": None,
    }
    store.order.feed_response(answer)
    assert store.order.find() == [
        {**answer, "pending_amount": "0.5", "pending_market_buy_amount": None}
    ]
