"""Which book side ``datastores._bookside`` picks at import: the C extension when
it was built, the pure-Python fallback when it is absent or ``DATASTORES_PURE``
is set. Runs with and without a compiler (the extension is blocked, not needed).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from _bookimpl import native

from datastores import _bookside

ROOT_DIR = Path(__file__).resolve().parent.parent


def _selected(env: dict[str, str], code: str = "") -> str:
    script = (
        f"{code}\nimport datastores._bookside as b\n"
        "from datastores import BinanceSpotDataStore\n"
        "s = BinanceSpotDataStore()\n"
        "s.orderbook._replace('X', [['2', '1']], [['1', '1']], 1)\n"
        "assert s.orderbook.levels('X') == ([['2', '1']], [['1', '1']])\n"
        "print(b.NATIVE, b.Side.__module__)"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        cwd=ROOT_DIR,
        check=True,
    )
    return run.stdout.strip()


BLOCK_EXTENSION = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "datastores._cbookside":
            raise ImportError("no compiled extension here")
sys.meta_path.insert(0, Block())
"""


def test_the_fallback_is_chosen_without_the_extension_or_with_datastores_pure() -> None:
    assert _selected({"DATASTORES_PURE": "1"}) == "False datastores._bookside"
    assert _selected({"DATASTORES_PURE": ""}, BLOCK_EXTENSION) == "False datastores._bookside"
    if native is not None:  # built here: chosen unless told otherwise
        assert _selected({"DATASTORES_PURE": ""}) == "True datastores._cbookside"
        assert _selected({"DATASTORES_PURE": "0"}) == "True datastores._cbookside"
    pure = os.environ.get("DATASTORES_PURE", "") not in ("", "0")
    assert _bookside.NATIVE is (native is not None and not pure)  # this process
