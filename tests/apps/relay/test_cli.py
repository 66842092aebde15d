"""``datastores relay --fake`` and ``datastores mirror``: the offline two-terminal path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from datastores._cli import build_parser
from datastores.apps.relay._server import free_port

ROOT = Path(__file__).resolve().parents[3]


def _datastores(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "datastores", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )


def test_relay_fake_and_mirror_in_two_processes(tmp_path: Path) -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    relay = _datastores("relay", "binance", "--fake", "--seconds", "6", "--server", url)
    try:
        # The relay starts its own nats-server; the mirror retries until it is there.
        assert relay.stdout is not None
        first = relay.stdout.readline()
        assert f"started a local nats-server at {url}" in first
        mirror = _datastores(
            "mirror", "binance", "--seconds", "2.5", "--view", "plain", "--server", url
        )
        mirror_out, _ = mirror.communicate(timeout=30)
        relay_out, _ = relay.communicate(timeout=30)
    finally:
        relay.kill()
    assert mirror.returncode == 0, mirror_out
    assert relay.returncode == 0, relay_out
    assert "mirror synced at relay sequence" in mirror_out
    assert "summary: synced=yes" in mirror_out
    assert "0 dropped" in relay_out
    assert "relayed" in relay_out


def test_relay_and_mirror_options() -> None:
    args = build_parser().parse_args(
        ["mirror", "okx", "--server", "nats://a:1,nats://b:2", "--creds", "x.creds"]
    )
    assert args.server == "nats://a:1,nats://b:2"
    assert args.creds == "x.creds"
    assert args.name is None
    args = build_parser().parse_args(["relay", "bybit", "--fake", "--name", "bybit-eu"])
    assert args.fake
    assert args.name == "bybit-eu"
