"""Applications built on the library's public change feed, outside the core.

The recorder (:mod:`datastores.apps.record`), the FMZ Quant bridge
(:mod:`datastores.apps.fmz`) and the generator of the docs' capability matrix
(:mod:`datastores.apps.capabilities`) live here; the NATS JetStream relay and
mirror will too. Core modules never import this package.
"""

from __future__ import annotations

__all__: list[str] = []
