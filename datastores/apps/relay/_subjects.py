"""Names on the NATS side: subjects, the JetStream stream, the key-value bucket.

One relay publishes one collection under a *relay name* (by default the
exchange, ``"binance"``) below a *prefix* (by default ``"datastores"``)::

    datastores.binance.orderbook.BTCUSDT       a book's levels and integrity events
    datastores.binance.trade.BTCUSDT           a plain store's changes (by item symbol)
    datastores.binance.ticker._                a plain store's items without a symbol
    datastores.binance._relay.heartbeat        the relay is alive, at batch sequence r
    datastores.binance._relay.snapshot         a snapshot was stored at this position
    datastores._ctl.binance.snapshot           request: "store a fresh snapshot now"

Everything under ``<prefix>.<name>.>`` goes into one stream, ``DATASTORES_BINANCE``,
so a mirror reads it in one order; the control subject is outside it (a request
on a stream subject would be answered by JetStream itself). Snapshots live in the
key-value bucket ``datastores_binance``, key ``snapshot``.

Store names and symbols may hold characters a subject token cannot (``.``,
``*``, ``>``, whitespace): they are percent-escaped (``BTC.P`` becomes
``BTC%2EP``), and a leading ``_`` too, so no data subject collides with
``_relay``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..._errors import ConfigurationError

__all__ = ["NO_SYMBOL", "RelayNames", "escape_token"]

#: the symbol token of a plain store's items that carry no symbol field
NO_SYMBOL = "_"

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")
_UNSAFE = re.compile(r"[\s.*>%\x00-\x1f\x7f]|^_")


def _escape_match(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode())


def escape_token(text: str) -> str:
    """``text`` as one subject token: ``.``, ``*``, ``>``, ``%``, whitespace,
    control characters and a leading ``_`` percent-escaped; ``""`` becomes ``%``."""
    if not text:
        return "%"
    return _UNSAFE.sub(_escape_match, text)


@dataclass(frozen=True, slots=True)
class RelayNames:
    """Every NATS name of one relay (publisher and mirrors agree through it).

    Args:
        name: the relay's name, usually the exchange (``"binance"``).
        prefix: the first subject token (default ``"datastores"``).

    Raises:
        ConfigurationError: a name or prefix that is not ``[A-Za-z0-9][A-Za-z0-9_-]*``.
    """

    name: str
    prefix: str = "datastores"

    def __post_init__(self) -> None:
        for what, value in (("relay name", self.name), ("subject prefix", self.prefix)):
            if not _NAME.match(value):
                raise ConfigurationError(
                    f"invalid {what} {value!r}: use letters, digits, '-' and '_' "
                    "(not first), e.g. 'binance'"
                )

    @property
    def root(self) -> str:
        """The subject every message of this relay starts with."""
        return f"{self.prefix}.{self.name}"

    @property
    def all_subjects(self) -> str:
        """The wildcard of the stream (and of a mirror's consumer)."""
        return f"{self.root}.>"

    @property
    def heartbeat(self) -> str:
        """The subject of the relay's heartbeats (in the stream, in order with the batches)."""
        return f"{self.root}._relay.heartbeat"

    @property
    def snapshot_marker(self) -> str:
        """The subject marking, in the stream, where a stored snapshot was taken."""
        return f"{self.root}._relay.snapshot"

    @property
    def control(self) -> str:
        """The request subject asking the relay for a fresh snapshot (outside the stream)."""
        return f"{self.prefix}._ctl.{self.name}.snapshot"

    @property
    def stream(self) -> str:
        """The JetStream stream name."""
        return f"{self.prefix}_{self.name}".upper().replace("-", "_")

    @property
    def bucket(self) -> str:
        """The key-value bucket holding the latest snapshot."""
        return f"{self.prefix}_{self.name}".replace("-", "_")

    def subject(self, store: str, symbol: str) -> str:
        """The data subject of ``store``'s ``symbol`` (:data:`NO_SYMBOL` for none)."""
        if symbol == NO_SYMBOL:
            return f"{self.root}.{escape_token(store)}.{NO_SYMBOL}"
        return f"{self.root}.{escape_token(store)}.{escape_token(symbol)}"
