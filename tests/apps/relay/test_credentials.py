"""Credentials with a real ``nats-server``: a ``.creds`` file (user JWT and NKey
seed) against a server in operator mode, and a bare NKey seed; refused without
them; the seed never shows in reprs, status, errors or logs."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nkeys
import pytest

from datastores import TransportError
from datastores.apps.relay import Mirror, Relay
from datastores.apps.relay._server import LocalNatsServer

from ._harness import Origin, Plain, converged
from ._nkeys import OperatorSetup, new_seed, operator_setup

FAST_FAIL = {"connect_timeout": 1, "max_reconnect_attempts": 0}


@pytest.fixture
def operator(tmp_path: Path) -> OperatorSetup:
    return operator_setup(tmp_path)


@pytest.fixture
def operator_server(operator: OperatorSetup) -> Iterator[LocalNatsServer]:
    server = LocalNatsServer(config=operator.server_config)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _no_secret(secret: str, *texts: str) -> None:
    for text in texts:
        assert secret not in text


async def test_creds_file_authenticates_relay_and_mirror(
    operator: OperatorSetup, operator_server: LocalNatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="datastores")
    url = operator_server.url

    def relay_of(collection: Any) -> Relay:
        return Relay(collection, servers=url, credentials=operator.creds, name="plain")

    async with Origin(relay_of) as origin:
        origin.feed(random.Random(3), 50)
        async with Mirror(Plain, servers=url, credentials=operator.creds, name="plain") as mirror:
            assert await mirror.wait_synced(10)
            origin.feed(random.Random(4), 200)
            await converged(origin, mirror)
            assert mirror.config.credentials == str(operator.creds)
            _no_secret(
                operator.user_seed,
                repr(origin.relay),
                repr(origin.relay.config),
                str(origin.relay.status()),
                repr(mirror),
                str(mirror.status()),
            )
    _no_secret(operator.user_seed, caplog.text)


async def test_without_the_creds_file_the_server_refuses(
    operator: OperatorSetup, operator_server: LocalNatsServer, tmp_path: Path
) -> None:
    relay = Relay(Plain(), servers=operator_server.url, name="plain", connect_options=FAST_FAIL)
    with pytest.raises(TransportError, match="cannot connect to NATS"):
        await relay.start()
    await relay.aclose()
    # A well-formed file of a user the server does not know: refused too.
    (tmp_path / "stranger").mkdir()
    stranger = operator_setup(tmp_path / "stranger")
    mirror = Mirror(
        Plain,
        servers=operator_server.url,
        credentials=stranger.creds,
        name="plain",
        connect_options=FAST_FAIL,
    )
    with pytest.raises(TransportError) as caught:
        await mirror.start()
    await mirror.aclose()
    assert "Authorization Violation" in str(caught.value)
    _no_secret(stranger.user_seed, str(caught.value), repr(caught.value))


async def test_nkey_seed_through_connect_options(tmp_path: Path) -> None:
    seed = new_seed(nkeys.PREFIX_BYTE_USER)
    public = nkeys.from_seed(bytearray(seed)).public_key.decode()
    seed_file = tmp_path / "user.nk"
    seed_file.write_bytes(seed)
    config = f'authorization {{ users: [ {{ nkey: "{public}" }} ] }}'
    with LocalNatsServer(config=config) as server:
        async with Relay(
            Plain(),
            servers=server.url,
            name="plain",
            connect_options={"nkeys_seed": str(seed_file)},
        ) as relay:
            assert relay.status().state == "running"
            _no_secret(seed.decode(), repr(relay.config), str(relay.status()))
        refused = Relay(Plain(), servers=server.url, name="plain", connect_options=FAST_FAIL)
        with pytest.raises(TransportError):
            await refused.start()
        await refused.aclose()
