"""TLS with a real ``nats-server``: a relay and a mirror over ``tls://`` with the
CA, mutual TLS with a client certificate (through the CLI's ``--tls-*``
parsing), and a wrong CA or a missing client certificate refused clearly,
naming no secret."""

from __future__ import annotations

import logging
import random
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from datastores import ConfigurationError, TransportError
from datastores._cli import build_parser
from datastores._cli.relay import nats_options
from datastores.apps.relay import Mirror, Relay
from datastores.apps.relay._server import LocalNatsServer

from ._certs import Certificates, make_certificates
from ._harness import Origin, Plain, converged

SECRET = "tls-s3cr3t-Passw0rd"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def tls_server(certs: Certificates) -> Iterator[LocalNatsServer]:
    """TLS required; a user and password as well (to show it stays hidden)."""
    server = LocalNatsServer(
        tls=(certs.server_cert, certs.server_key),
        config=f'authorization {{ user: alice, password: "{SECRET}" }}',
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mtls_server(certs: Certificates) -> Iterator[LocalNatsServer]:
    """TLS required, and a client certificate signed by the CA."""
    server = LocalNatsServer(tls=(certs.server_cert, certs.server_key), tls_client_ca=certs.ca)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def cli_options(*argv: str) -> dict[str, Any]:
    return nats_options(build_parser().parse_args(["mirror", "binance", *argv]))


async def _relay_and_mirror_sync(url: str, options: dict[str, Any]) -> None:
    """A relay and a mirror on ``url`` with ``options``; the mirror follows a busy
    collection and ends equal to it."""

    def relay_of(collection: Any) -> Relay:
        return Relay(collection, servers=url, name="plain", connect_options=options)

    async with Origin(relay_of) as origin:
        origin.feed(random.Random(7), 50)
        async with Mirror(Plain, servers=url, name="plain", connect_options=options) as mirror:
            assert await mirror.wait_synced(10)
            origin.feed(random.Random(8), 200)
            await converged(origin, mirror)
            assert origin.relay.status().published > 0
            for text in (repr(origin.relay), repr(mirror), str(origin.relay.status())):
                assert SECRET not in text


async def test_relay_and_mirror_over_tls_with_the_ca(
    tls_server: LocalNatsServer, certs: Certificates
) -> None:
    assert tls_server.url.startswith("tls://")
    url = tls_server.url.replace("tls://", f"tls://alice:{SECRET}@")
    context = ssl.create_default_context(cafile=str(certs.ca))
    await _relay_and_mirror_sync(url, {"tls": context})


async def test_mutual_tls_with_the_cli_options(
    mtls_server: LocalNatsServer, certs: Certificates
) -> None:
    options = cli_options(
        "--server", mtls_server.url, "--tls-ca", str(certs.ca),
        "--tls-cert", str(certs.client_cert), "--tls-key", str(certs.client_key),
    )  # fmt: skip
    assert isinstance(options["tls"], ssl.SSLContext)
    await _relay_and_mirror_sync(mtls_server.url, options)


async def test_mutual_tls_without_a_client_certificate_is_refused(
    mtls_server: LocalNatsServer, certs: Certificates
) -> None:
    options = cli_options("--tls-ca", str(certs.ca))
    relay = Relay(Plain(), servers=mtls_server.url, name="plain", connect_options=options)
    with pytest.raises(TransportError, match=r"cannot connect to NATS at tls://127\.0\.0\.1"):
        await relay.start()
    await relay.aclose()


async def test_a_wrong_ca_is_a_clear_error_without_the_secret(
    tls_server: LocalNatsServer, certs: Certificates, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="datastores")
    url = tls_server.url.replace("tls://", f"tls://alice:{SECRET}@")
    context = ssl.create_default_context(cafile=str(certs.other_ca))
    # One try each: nats-py would try again and again for the same verdict.
    options = {"tls": context, "connect_timeout": 1, "max_reconnect_attempts": 0}
    for make in (
        lambda: Relay(Plain(), servers=url, name="plain", connect_options=options),
        lambda: Mirror(Plain, servers=url, name="plain", connect_options=options),
    ):
        client: Any = make()
        with pytest.raises(TransportError) as caught:
            await client.start()
        await client.aclose()
        message = str(caught.value)
        assert "certificate verify failed" in message
        assert "tls://<redacted>@127.0.0.1" in message
        assert SECRET not in message
        assert SECRET not in repr(caught.value)
    assert "certificate verify failed" in caplog.text  # logged for debugging, redacted
    assert SECRET not in caplog.text


def test_cli_tls_options(certs: Certificates, tmp_path: Path) -> None:
    assert cli_options() == {}
    context = cli_options("--tls-ca", str(certs.ca))["tls"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    missing = tmp_path / "missing.pem"
    with pytest.raises(ConfigurationError, match=r"CA file .*missing\.pem"):
        cli_options("--tls-ca", str(missing))
    with pytest.raises(ConfigurationError, match="--tls-key needs --tls-cert"):
        cli_options("--tls-key", str(certs.client_key))
    # A key that does not match the certificate: named, its contents not shown.
    with pytest.raises(ConfigurationError, match=r"client\.pem, .*server\.key") as caught:
        cli_options("--tls-cert", str(certs.client_cert), "--tls-key", str(certs.server_key))
    key_body = certs.server_key.read_text().splitlines()[1]
    assert key_body not in str(caught.value)
