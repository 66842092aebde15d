"""The fake exchanges' per-exchange packages are discovered, complete and independent."""

from __future__ import annotations

import ast
from pathlib import Path

import datastores.testing
from datastores.testing import DIALECTS, Dialect
from datastores.testing.profiles import (
    EXCHANGES,
    FOLDERS,
    available,
    dialects,
    resolve_profiles,
    signing_schemes,
)

PROFILES_DIR = Path(datastores.testing.__file__).parent / "profiles"


def test_every_exchange_has_one_folder_with_its_dialect_and_verifier() -> None:
    assert set(FOLDERS) == {
        "binance", "bitbank", "bitflyer", "bitget", "bitmex", "bittrade", "bybit", "coincheck",
        "gmocoin", "hyperliquid", "kucoin", "mexc", "okj", "okx", "phemex",
    }  # fmt: skip
    assert set(EXCHANGES) == {"binance", "bitget", "bybit", "kucoin", "okx"}
    assert set(DIALECTS) == set(dialects()) == set(FOLDERS) - {"binance", "gmocoin"} | {"plain"}
    assert DIALECTS["plain"] is Dialect
    assert all(issubclass(cls, Dialect) for cls in DIALECTS.values())
    assert set(signing_schemes()) == set(FOLDERS) | {"binance-usdsm", "mexc-futures"}


def test_profiles_resolve_by_exchange_and_by_venue() -> None:
    assert [p.name for p in resolve_profiles("binance")] == [
        "binance-spot",
        "binance-usdsm",
        "binance-coinm",
    ]
    assert [p.name for p in resolve_profiles("okx-demo")] == ["okx-demo"]
    assert "bybit-linear" in available()


def test_the_server_side_never_imports_the_clients_exchange_code() -> None:
    for path in PROFILES_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                assert "exchanges" not in module, (path, module)
            elif isinstance(node, ast.Import):
                assert not any("exchanges" in a.name for a in node.names), path
