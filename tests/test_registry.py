"""The core's host registry: exchanges register into it, it is discovered, the core imports none."""

from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from datastores import _registry
from datastores._registry import HostTable, http_auth_by_host, ws_protocol_by_host

PACKAGE = Path(_registry.__file__).resolve().parent


@dataclasses.dataclass(frozen=True)
class _Entry:
    exchange: str
    hosts: Mapping[str, str]


def _run(code: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_host_registered_by_two_entries_is_refused_and_nothing_of_the_second_lands() -> None:
    table: HostTable[_Entry] = HostTable("test")
    first = _Entry("one", {"a.test": "one", "b.test": "one"})
    table.register([first])
    table.register([first])  # the same entry again (a module imported twice): no-op
    second = _Entry("two", {"c.test": "two", "b.test": "two"})
    with pytest.raises(RuntimeError, match=r"'b\.test' is registered twice \(test: one and two\)"):
        table.register([second])
    assert dict(table.view()) == {"a.test": first, "b.test": first}


def test_the_global_tables_refuse_a_second_signer_for_a_known_host() -> None:
    auth = http_auth_by_host()["api.binance.com"]
    intruder = dataclasses.replace(auth, exchange="intruder")
    with pytest.raises(RuntimeError, match="registered twice"):
        _registry.register_http_auth(intruder)
    assert http_auth_by_host()["api.binance.com"] is auth
    protocol = ws_protocol_by_host()["stream.binance.com"]
    with pytest.raises(RuntimeError, match="registered twice"):
        _registry.register_ws_protocol(dataclasses.replace(protocol, exchange="intruder"))
    assert ws_protocol_by_host()["stream.binance.com"] is protocol


def test_the_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        http_auth_by_host()["x.test"] = http_auth_by_host()["api.binance.com"]  # type: ignore[index]


def test_exchange_names_are_discovered_from_the_packages() -> None:
    from datastores.exchanges import EXCHANGES

    on_disk = sorted(
        path.parent.name
        for path in (PACKAGE / "exchanges").glob("*/__init__.py")
        if not path.parent.name.startswith("_")
    )
    assert list(EXCHANGES) == on_disk
    assert {"binance", "bybit", "okx", "bitget", "hyperliquid"} <= set(EXCHANGES)
    # Every exchange with a signer or a protocol is in the tables.
    registered = {a.exchange for a in http_auth_by_host().values()}
    registered |= {p.exchange for p in ws_protocol_by_host().values()}
    assert registered == set(EXCHANGES)


def test_discovery_waits_for_the_first_lookup() -> None:
    result = _run(
        "import json, sys\n"
        "import datastores\n"
        "from datastores._registry import http_auth_by_host, ws_protocol_by_host\n"
        "before = sorted(m for m in sys.modules if m.startswith('datastores.exchanges'))\n"
        "http = http_auth_by_host()\n"
        "ws = ws_protocol_by_host()\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('datastores.exchanges'))\n"
        "print(json.dumps([before, loaded, http['www.okx.com'].exchange,"
        " ws['ws.okx.com'].exchange]))\n"
    )
    assert isinstance(result, list)
    before, loaded, http_exchange, ws_exchange = result
    assert before == []
    assert "datastores.exchanges.okx.signing" in loaded
    assert "datastores.exchanges.okx.wsproto" in loaded
    # Discovery imports signers and protocols, not the stores.
    assert not [m for m in loaded if m.endswith(".store")]
    assert (http_exchange, ws_exchange) == ("okx", "okx")


def _imported_modules(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = parts[:-1]  # the module's package (for __init__.py: the package itself)
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_no_core_module_imports_an_exchange() -> None:
    # __init__.py files wire the plug-ins in; the command line is an application.
    core = [
        path
        for path in [*PACKAGE.glob("_*.py"), *PACKAGE.glob("_*/*.py")]
        if not path.name.startswith("__") and path.parent.name != "_cli"
    ]
    assert any(p.parent.name == "_ws" for p in core) or (PACKAGE / "_ws.py").exists()
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name for name in _imported_modules(path) if name.startswith("datastores.exchanges")
        )
        for path in core
    }
    assert {path: names for path, names in offenders.items() if names} == {}
