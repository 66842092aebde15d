"""The adapter interface of the FMZ bridge: symbols, order ids, key packing, selectors,
the merge of REST recent trades with streamed ones."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datastores.apps.fmz import (
    AdapterContext,
    APIKeys,
    BridgeError,
    ExchangeAdapter,
    FMZSymbol,
    Instrument,
    OrderId,
    OrderRequest,
    PositionSelector,
)
from datastores.apps.fmz._common import TradeSeed
from datastores.apps.fmz.adapter import decimal_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BTC_USDT", FMZSymbol("BTC", "USDT")),
        ("eth_usdt", FMZSymbol("ETH", "USDT")),
        ("BTC_USDT.swap", FMZSymbol("BTC", "USDT", "swap")),
        ("btc_usd.QUARTER", FMZSymbol("BTC", "USD", "quarter")),
        ("BTC_USDT.BTC-240108-40000-C", FMZSymbol("BTC", "USDT", "BTC-240108-40000-C")),
    ],
)
def test_symbols_parse_and_print_in_fmz_form(text: str, expected: FMZSymbol) -> None:
    assert FMZSymbol.parse(text) == expected
    assert FMZSymbol.parse(str(expected)) == expected


@pytest.mark.parametrize("text", ["USDT", "BTC-USDT", "_USDT", "BTC_", "BTC_USDT.", "B/T_USDT", ""])
def test_malformed_symbols_are_refused(text: str) -> None:
    with pytest.raises(BridgeError, match="invalid symbol"):
        FMZSymbol.parse(text)


@given(st.text(alphabet="ABC-_0123", min_size=1, max_size=20), st.text(min_size=1, max_size=30))
def test_order_ids_round_trip(instrument: str, order_id: str) -> None:
    if "," in instrument or "," in order_id:
        return
    oid = OrderId(instrument, order_id)
    assert OrderId.parse(str(oid)) == oid


@pytest.mark.parametrize("text", ["12345", ",12", "BTC-USDT,", "A,B,C"])
def test_malformed_order_ids_are_refused(text: str) -> None:
    with pytest.raises(BridgeError, match="invalid order id"):
        OrderId.parse(text)


def test_passphrase_is_unpacked_from_the_secret_and_never_shown() -> None:
    keys = APIKeys.from_fmz("key-abcdefgh", "s3cr,et-value,pass-phrase", passphrase=True)
    assert (keys.secret, keys.passphrase) == ("s3cr,et-value", "pass-phrase")
    assert keys.as_api_entry() == ["key-abcdefgh", "s3cr,et-value", "pass-phrase"]
    assert "s3cr" not in repr(keys)
    assert "pass-phrase" not in repr(keys)
    assert APIKeys.from_fmz("k", "a,b", passphrase=False).secret == "a,b"
    for secret in ("no-comma-secret", "secret,", ",phrase"):
        with pytest.raises(BridgeError) as info:
            APIKeys.from_fmz("key", secret, passphrase=True)
        assert secret not in str(info.value)
    with pytest.raises(BridgeError):
        APIKeys.from_fmz("", "x", passphrase=False)


def test_position_selectors() -> None:
    swap = FMZSymbol("BTC", "USDT", "swap")
    quarter = FMZSymbol("BTC", "USDT", "quarter")
    coin = FMZSymbol("BTC", "USD", "swap")
    assert PositionSelector(symbol=swap).matches(swap)
    assert not PositionSelector(symbol=swap).matches(quarter)
    usdt_swaps = PositionSelector(quote="USDT", contract="swap")
    assert [usdt_swaps.matches(s) for s in (swap, quarter, coin)] == [True, False, False]
    usdt_futures = PositionSelector(quote="USDT", contract="futures")
    assert [usdt_futures.matches(s) for s in (swap, quarter, coin)] == [False, True, False]
    assert PositionSelector().matches(coin)
    assert not PositionSelector().matches(FMZSymbol("BTC", "USDT"))


def test_order_request_directions() -> None:
    inst = Instrument(FMZSymbol("BTC", "USDT", "swap"), "BTC-USDT-SWAP", "swap")
    sides = {
        s: OrderRequest(inst, s, Decimal(1), None) for s in ("buy", "sell", "closebuy", "closesell")
    }  # type: ignore[misc]
    assert [sides[s].is_buy for s in sides] == [True, False, False, True]
    assert [sides[s].reduce_only for s in sides] == [False, False, True, True]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E-5"), "0.00001"),
        (Decimal("12.500"), "12.5"),
        (Decimal("1E+3"), "1000"),
        ("0.0", "0"),
    ],
)
def test_decimal_text_has_no_exponent(value: Decimal | str, text: str) -> None:
    assert decimal_text(value) == text


def test_supported_methods_are_the_overridden_ones() -> None:
    class Partial(ExchangeAdapter):
        name = "Partial"
        credential_name = "partial"

        def instrument(self, symbol: FMZSymbol) -> Instrument:
            return Instrument(symbol, str(symbol), "spot")

        def instrument_named(self, name: str) -> Instrument:
            return Instrument(FMZSymbol.parse(name), name, "spot")

        async def depth(self, instrument: Instrument, limit: int) -> object:
            return {}

        async def set_margin_level(self, instrument: Instrument | None, level: Decimal) -> object:
            return True

    assert Partial.supported_methods() == {"depth", "marginlevel"}


async def test_default_methods_say_not_support() -> None:
    class Bare(ExchangeAdapter):
        name = "Bare"
        credential_name = "bare"

        def instrument(self, symbol: FMZSymbol) -> Instrument:
            raise BridgeError("none")

        def instrument_named(self, name: str) -> Instrument:
            raise BridgeError("none")

    adapter = Bare(AdapterContext(client=None, keys=APIKeys("k", "s")))  # type: ignore[arg-type]
    with pytest.raises(BridgeError, match=r"^not support: historyorders$"):
        await adapter.history_orders(None, None, None)
    assert adapter.api_allowed("POST", "/api/v5/asset/withdrawal") is not None
    assert adapter.api_allowed("GET", "/api/v5/account/balance") is None


def test_symbol_text_is_the_fmz_symbol_or_the_exchange_name() -> None:
    class Spot(ExchangeAdapter):
        name = "Spot"
        credential_name = "spot"

        def instrument(self, symbol: FMZSymbol) -> Instrument:
            return Instrument(symbol, f"{symbol.base}{symbol.quote}", "spot")

        def instrument_named(self, name: str) -> Instrument:
            if not name.endswith("USDT") or name == "USDT":
                raise BridgeError(f"{name} is not mapped")
            return self.instrument(FMZSymbol(name.removesuffix("USDT"), "USDT"))

    adapter = Spot(AdapterContext(client=None, keys=APIKeys("k", "s")))  # type: ignore[arg-type]
    assert adapter.symbol_text("BTCUSDT") == "BTC_USDT"
    # An order the exchange lists on an instrument the bridge does not map keeps its name.
    assert adapter.symbol_text("BTCEUR") == "BTCEUR"


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=8, min_value=-(10**12), max_value=10**12
    )
)
def test_numbers_parse_exactly_from_strings_and_json_numbers(value: Decimal) -> None:
    from datastores.apps.fmz._dispatch import Params

    params = Params(
        {"text": str(value), "number": float(value) if value == value.to_integral() else str(value)}
    )
    assert params.decimal("text") == value
    assert params.decimal("number") == value


@pytest.mark.parametrize(
    ("sent", "canonical"),
    [
        ("GetTicker", "ticker"),
        ("DEPTH", "depth"),
        ("account", "accounts"),
        ("CreateOrder", "trade"),
        ("GetPositions", "positions"),
        ("position", "positions"),
        ("SetMarginLevel", "marginlevel"),
        ("funding", "fundings"),
        ("GetMarkets", "markets"),
        ("GetTickers", "tickers"),
        ("__api_/api/v5/account/balance", "api"),
    ],
)
def test_method_aliases(sent: str, canonical: str) -> None:
    from datastores.apps.fmz._dispatch import canonical_method

    assert canonical_method(sent) == canonical


def _trade(trade_id: int, time: int) -> dict[str, Any]:
    return {"id": str(trade_id), "time": time, "price": "1", "amount": "1", "type": "buy"}


@given(
    st.lists(st.tuples(st.integers(0, 50), st.integers(0, 20)), max_size=40),
    st.lists(st.tuples(st.integers(0, 50), st.integers(0, 20)), max_size=40),
    st.integers(1, 30),
)
def test_seeded_trades_are_merged_by_id_oldest_first(
    seed: list[tuple[int, int]], streamed: list[tuple[int, int]], limit: int
) -> None:
    rest = [_trade(i, t) for i, t in seed]
    pushed = [_trade(i, t) for i, t in streamed]

    async def merged() -> list[dict[str, Any]]:
        async def fetch() -> list[dict[str, Any]]:
            return rest

        return await TradeSeed().merged("X", fetch, pushed, limit, logging.getLogger("t"))

    rows = asyncio.run(merged())
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)
    # What is kept is the newest of every id seen (the stream's version of a repeated id).
    latest = {r["id"]: r for r in (*rest, *pushed)}
    assert len(rows) == min(limit, len(latest))
    assert all(latest[r["id"]] == r for r in rows)


async def test_a_failed_seed_is_logged_once_and_the_stream_serves(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = []

    async def fetch() -> list[dict[str, Any]]:
        calls.append(1)
        raise ConnectionError("refused")

    seed = TradeSeed()
    logger = logging.getLogger("datastores.apps.fmz")
    pushed = [_trade(2, 20), _trade(1, 10)]
    assert await seed.merged("BTCUSDT", fetch, pushed, 100, logger) == [pushed[1], pushed[0]]
    assert await seed.merged("BTCUSDT", fetch, pushed[:1], 100, logger) == pushed[:1]
    assert calls == [1]
    [record] = [r for r in caplog.records if "recent trades" in r.getMessage()]
    assert "BTCUSDT" in record.getMessage()
    assert "ConnectionError" in record.getMessage()
