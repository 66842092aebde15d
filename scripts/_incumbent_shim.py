"""Write a temporary ``pybotters`` package that re-exports datastores (for scripts/incumbent-suite).

Each module pybotters' tests import maps to datastores' public names of the same role.
Any other name (pybotters' private internals: ``pybotters.auth.Auth.bybit``, its host
tables, ``pybotters.request.ClientRequest``) resolves to a placeholder that raises
``PybottersInternal`` when it is used (called, assigned to), so a test reaching for one
fails with a message naming it, instead of taking its whole file down at import.
Usage: python _incumbent_shim.py DIRECTORY
"""

from __future__ import annotations

import sys
from pathlib import Path

INTERNAL = """\
class PybottersInternal(Exception):
    \"\"\"A test used a pybotters internal that datastores does not have.\"\"\"


class Internal:
    \"\"\"Placeholder for a private pybotters name; using it raises PybottersInternal.\"\"\"

    __slots__ = ("_path",)

    def __init__(self, path):
        object.__setattr__(self, "_path", path)

    def _fail(self, *args, **kwargs):
        raise PybottersInternal(f"{self._path} is a pybotters internal (no datastores counterpart)")

    __call__ = __setattr__ = __delattr__ = __getitem__ = _fail

    def __len__(self):  # list() asks for it before iterating
        return 1

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return Internal(f"{self._path}.{name}")

    def __iter__(self):
        # Parametrize lists over internal tables collect one case that then fails.
        return iter([Internal(f"{self._path}[0]")])

    def __repr__(self):
        return f"<pybotters internal {self._path}>"


def missing(module, name):
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(name)
    return Internal(f"{module}.{name}")
"""

FALLBACK = (
    "\nfrom pybotters._internal import missing as _missing\n\n\n"
    "def __getattr__(name):\n    return _missing(__name__, name)\n"
)

MODULES = {
    "__init__.py": (
        "from datastores import *  # noqa: F403\n"
        "from datastores import __all__, __version__\n"
        "from . import auth, client, helpers, request, store, ws  # loaded, as pybotters does\n"
    ),
    "auth.py": "from datastores import Auth\n",
    "client.py": "from datastores import Client, FetchResult, NotJSONContent, WebSocketApp\n",
    "store.py": "from datastores import DataStore, DataStoreCollection, StoreChange, StoreStream\n",
    "ws.py": "from datastores import ClientWebSocketResponse, WebSocketApp, WebSocketQueue\n",
    "request.py": "",  # pybotters' aiohttp request subclass: no public counterpart
    "helpers/__init__.py": "from datastores.helpers import *  # noqa: F403\n",
    "helpers/gmocoin.py": "from datastores.helpers.gmocoin import *  # noqa: F403\n",
    "helpers/bitbank.py": "from datastores.helpers.bitbank import *  # noqa: F403\n",
    "helpers/hyperliquid.py": "from datastores.helpers.hyperliquid import *  # noqa: F403\n",
}


def main(directory: str) -> None:
    package = Path(directory) / "pybotters"
    package.mkdir(parents=True, exist_ok=True)
    (package / "_internal.py").write_text(INTERNAL, encoding="utf-8")
    for name, text in MODULES.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        shim = '"""Shim: re-exports datastores."""\n' + text + FALLBACK
        path.write_text(shim, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
