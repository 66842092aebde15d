"""Configuration: URLs (with credentials, hidden), a credentials file, options
passed through to nats-py; a missing server or dependency says what to do."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from datastores import ConfigurationError, MissingDependencyError, TransportError
from datastores.apps.relay import Mirror, NatsConfig, Relay
from datastores.apps.relay._server import LocalNatsServer, free_port

from ._harness import Plain

SECRET = "s3cr3t-Passw0rd"


@pytest.fixture
def guarded_server() -> Any:
    server = LocalNatsServer(config=f'authorization {{ user: alice, password: "{SECRET}" }}')
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_url_credentials_work_and_stay_hidden(guarded_server: LocalNatsServer) -> None:
    url = f"nats://alice:{SECRET}@127.0.0.1:{guarded_server.port}"
    async with (
        Relay(Plain(), servers=url, name="plain") as relay,
        Mirror(Plain, servers=url, name="plain") as mirror,
    ):
        assert await mirror.wait_synced(10)
        relay.collection.onmessage({"op": "insert", "data": [{"id": 1}]})
        snapshots = relay.status().snapshots
        relay.request_snapshot()  # on demand, after the queued message
        await relay.flush()
        assert relay.status().snapshots == snapshots + 1
        assert relay.status().snapshot_sequence == relay.status().sequence == 1
        for text in (repr(relay), repr(mirror), repr(relay.config), str(relay.status())):
            assert SECRET not in text
        assert "<redacted>@127.0.0.1" in repr(relay.config)


async def test_options_are_passed_through(guarded_server: LocalNatsServer) -> None:
    options = {"user": "alice", "password": SECRET}
    async with Relay(
        Plain(), servers=guarded_server.url, name="plain", connect_options=options
    ) as relay:
        assert relay.status().state == "running"
        assert SECRET not in repr(relay.config)


async def test_wrong_password_is_a_transport_error_without_the_secret(
    guarded_server: LocalNatsServer,
) -> None:
    url = f"nats://alice:{SECRET}x@127.0.0.1:{guarded_server.port}"
    relay = Relay(Plain(), servers=url, name="plain", connect_options={"connect_timeout": 1})
    with pytest.raises(TransportError) as caught:
        await relay.start()
    assert SECRET not in str(caught.value)
    await relay.aclose()


async def test_no_server_says_so() -> None:
    relay = Relay(Plain(), servers=f"nats://127.0.0.1:{free_port()}", name="plain")
    with pytest.raises(TransportError, match="is nats-server running"):
        await relay.start()
    await relay.aclose()


def test_credentials_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="credentials file not found"):
        NatsConfig.of("nats://127.0.0.1:4222", tmp_path / "missing.creds")
    creds = tmp_path / "user.creds"
    creds.write_text("-----BEGIN NATS USER JWT-----\n")
    config = NatsConfig.of("nats://a:4222, nats://b:4222", creds)
    assert config.servers == ("nats://a:4222", "nats://b:4222")
    assert config.credentials == str(creds)
    with pytest.raises(ConfigurationError):
        NatsConfig.of(" , ")


async def test_missing_nats_py_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def hide_nats(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "nats" or name.startswith("nats."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", hide_nats)
    relay = Relay(Plain(), name="plain")
    with pytest.raises(MissingDependencyError, match=r"datastores\[nats\]"):
        await relay.start()
