"""`datastores.__all__` lists exactly the public names the package defines."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import datastores


def test_all_matches_public_names() -> None:
    # dir(): the exchange collections are module attributes only once loaded (lazily).
    public = {n for n in dir(datastores) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(datastores, n)).__name__ == "module"}
    assert set(datastores.__all__) - {"__version__"} == public - modules - {"annotations"}
    assert len(datastores.__all__) == len(set(datastores.__all__))


def test_every_exported_name_resolves() -> None:
    for name in datastores.__all__:
        assert getattr(datastores, name) is not None


def test_testing_kit_exports() -> None:
    testing = importlib.import_module("datastores.testing")
    for name in testing.__all__:
        assert hasattr(testing, name), name


def _fresh(code: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_datastores_loads_no_exchange_module() -> None:
    loaded = _fresh(
        "import json, sys\n"
        "import datastores\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('datastores.exchanges'))))"
    )
    assert loaded == []


def test_exchange_collections_load_on_first_access() -> None:
    result = _fresh(
        "import json, sys\n"
        "import datastores\n"
        "names = dir(datastores)\n"
        "from datastores import OKXDataStore\n"
        "okx = sorted(m for m in sys.modules if m.startswith('datastores.exchanges'))\n"
        "spot = datastores.BinanceSpotDataStore\n"
        "print(json.dumps([OKXDataStore.__module__, 'OKXDataStore' in names, okx,"
        " spot.__module__, 'BinanceSpotDataStore' in vars(datastores)]))"
    )
    assert isinstance(result, list)
    okx_module, listed, loaded, spot_module, cached = result
    assert okx_module == "datastores.exchanges.okx.store"
    assert listed  # dir() lists lazy names before they are loaded
    assert "datastores.exchanges.okx.store" in loaded
    assert not [m for m in loaded if m.startswith("datastores.exchanges.binance")]
    assert spot_module == "datastores.exchanges.binance.store"
    assert cached  # the second lookup is a plain module attribute


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchDataStore'"):
        datastores.NoSuchDataStore  # noqa: B018
    assert not hasattr(datastores, "NoSuchDataStore")
