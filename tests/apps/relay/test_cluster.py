"""A three-node JetStream cluster on loopback losing one node: the relay and the
mirror reconnect to the others, and the mirror ends equal to the origin without
ever saying synced while it differed."""

from __future__ import annotations

import random

from datastores.apps.relay import Mirror, Relay
from datastores.apps.relay._server import LocalNatsCluster

from ._harness import Origin, Plain, Watcher, converged


async def test_cluster_loses_one_node(nats_cluster: LocalNatsCluster) -> None:
    rng = random.Random(7)
    urls = nats_cluster.urls

    def relay(collection: Plain) -> Relay:
        # The relay's first server is the node that will die.
        return Relay(
            collection,
            servers=urls,
            name="plain",
            replicas=3,
            heartbeat_interval=0.1,
            snapshot_interval=1.0,
            connect_options={"dont_randomize": True},
        )

    mirror = Mirror(
        Plain,
        servers=[urls[0], urls[2], urls[1]],
        name="plain",
        stale_after=1.0,
        connect_options={"dont_randomize": True},
    )
    watcher = Watcher(mirror)
    origin = Origin(relay)
    watcher.follow(origin)
    # JetStream needs its meta leader before the stream can be made.
    await Origin.start_when_ready(origin, timeout=20)
    try:
        async with mirror:
            await origin.run(rng, 0.5)
            await converged(origin, mirror, timeout=20)
            nats_cluster.nodes[0].stop(keep=True)
            await origin.run(rng, 1.0)
            await converged(origin, mirror, timeout=30)
            assert origin.relay.status().state == "running"
    finally:
        await origin.stop()
    assert watcher.violations == []
    assert watcher.synced_checks > 20
