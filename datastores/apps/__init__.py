"""Applications built on the library's public change feed, outside the core.

The recorder lives here (:mod:`datastores.apps.record`), as does the generator of the
docs' capability matrix (:mod:`datastores.apps.capabilities`); the FMZ bridge and
the NATS JetStream relay and mirror will too. Core modules never import this
package.
"""

from __future__ import annotations

__all__: list[str] = []
