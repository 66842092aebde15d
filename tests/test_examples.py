"""Every example in examples/ runs offline with ``--fake`` (briefly, ``--seconds``), and
without it against an exchange it cannot use says so in one line: no traceback. No test
reaches the internet: ``--redirect`` points every real host at a local server that
answers 404 (an exchange that refuses the handshake or the request)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

#: example -> (arguments, a line its --fake run prints)
CASES = {
    "binance_orderbook.py": ([], "BTCUSDT (spot)  synced=True"),
    "binance_user_data.py": (["usdsm"], "position BTCUSDT BOTH 0.005 @ 60000"),
    "bybit_orderbook.py": (["BTCUSDT", "linear"], "BTCUSDT (linear)  synced=True"),
    "bybit_private.py": ([], "order BTCUSDT Buy 0.010 @ 60000"),
    "okx_orderbook.py": (["BTC-USDT"], "BTC-USDT via books  synced=True"),
    "bitget_orderbook.py": (["BTCUSDT"], "SPOT:BTCUSDT  synced=True"),
}

#: every real host the examples use
HOSTS = [
    "stream.binance.com", "api.binance.com", "ws-api.binance.com", "fapi.binance.com",
    "fstream.binance.com", "dstream.binance.com", "dapi.binance.com", "stream.bybit.com",
    "api.bybit.com", "ws.okx.com", "www.okx.com", "ws.bitget.com", "api.bitget.com",
]  # fmt: skip


def test_every_example_has_a_case() -> None:
    found = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert found == set(CASES)


def _run(
    name: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_example_runs_against_the_fake_exchange(name: str) -> None:
    args, expected = CASES[name]
    result = _run(name, *args, "--fake", "--seconds", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert expected in result.stdout, result.stdout[-2000:]
    assert "Traceback" not in result.stderr, result.stderr


class _Refusing(BaseHTTPRequestHandler):
    """Answers every request 404: no WebSocket handshake, no REST answer."""

    def do_GET(self) -> None:
        self.send_error(404)

    def do_POST(self) -> None:
        self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def refusing_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
        server.shutdown()
    finally:
        server.server_close()
        thread.join(5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_exchange_it_cannot_use_is_one_line(
    name: str, refusing_server: str, tmp_path: Path
) -> None:
    args, _ = CASES[name]
    redirects = [f"--redirect={host}={refusing_server}" for host in HOSTS]
    apis = tmp_path / "apis.json"  # the private examples get as far as the network
    apis.write_text(json.dumps({"binance": ["key", "secret"], "bybit": ["key", "secret"]}))
    result = _run(name, *args, *redirects, "--seconds", "60", env={"DATASTORES_APIS": str(apis)})
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{name}: cannot use the exchange: "), lines[0]
    assert "404" in lines[0]
    assert "secret" not in result.stderr
