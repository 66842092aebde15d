"""Run one measurement in a fresh interpreter: the benchmarks' child processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_child(module: str, arguments: list[str], *, pure: bool) -> dict[str, Any]:
    """``python -m module *arguments`` from the checkout's root, with the C extension
    (``DATASTORES_PURE`` cleared) or without it (``pure``); its last line of output,
    a JSON object, is the result."""
    env = {**os.environ, "DATASTORES_PURE": "1" if pure else ""}
    out = subprocess.run(
        [sys.executable, "-m", module, *arguments],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result
