"""Keeping secrets out of error messages.

A server may echo the request it refused: its error text then carries the API
key, the passphrase (OKX, Bitget send it as a header) or the live signature.
:func:`redact` replaces, in any text, every credential value of every live
:class:`datastores.Client` (registered by the client itself, held weakly) and
the value of anything that looks like a signature or key assignment
(``signature=…``, ``OK-ACCESS-SIGN: …``, ``"AccessKeyId": "…"``).
:class:`datastores.DatastoresError` passes its message through it.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "redact", "register_client"]

REDACTED = "<redacted>"

#: Credential values shorter than this are not searched for: replacing a one- or
#: two-character test key everywhere would garble every message, and hides nothing.
MIN_SECRET_LENGTH = 4

# Clients, weakly: a secret stops being searched for once its client is gone.
_clients: weakref.WeakSet[Any] = weakref.WeakSet()

# A signature- or key-like name, then `=` or `:` (JSON quotes allowed), then a token of
# at least 8 characters with a digit in it. The digit keeps "Signature: mismatched"
# readable; signatures, keys and ids always have one.
_ASSIGNMENT = re.compile(
    r"""(?ix)
    (\b[\w-]*(?:sign|passphrase|api-?key|api_key|access-?key|access-?token|secret)[\w-]*
     ["']?\s*[:=]\s*["']?)
    (?=[^\s&"',;)}\]]*\d)
    [^\s&"',;)}\]]{8,}
    """
)


def register_client(client: Any) -> None:
    """Redact ``client.credentials`` values from every error while ``client`` lives.

    ``client`` must be weak-referenceable and have a ``credentials`` mapping of
    :class:`datastores._credentials.Credentials`. O(1).
    """
    _clients.add(client)


def _known_secrets() -> list[str]:
    values: set[str] = set()
    for client in list(_clients):
        credentials: Mapping[str, Any] = client.credentials
        for creds in credentials.values():
            for value in (creds.key, creds.secret, creds.passphrase):
                if len(value) < MIN_SECRET_LENGTH:
                    continue
                values.update((value, quote(value, safe=""), quote_plus(value)))
                if value.startswith(("0x", "0X")) and len(value) - 2 >= MIN_SECRET_LENGTH:
                    values.add(value[2:])  # a private key is also written without 0x
    # Longest first: a secret that contains another is replaced whole.
    return sorted(values, key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` with known credential values and signature-like values replaced.

    Every value becomes ``<redacted>``; the names stay (``signature=<redacted>``),
    so the message still says what was wrong. O(len(text) x number of secrets);
    meant for error messages, not hot paths.
    """
    for value in _known_secrets():
        if value in text:
            text = text.replace(value, REDACTED)
    return _ASSIGNMENT.sub(lambda match: match.group(1) + REDACTED, text)
