"""API credentials: loading, validation, and a repr that never shows secrets.

Credentials come as ``{"<name>": [key, secret]}``, ``[key, secret, passphrase]``
or ``[private_key]`` (Hyperliquid), from a dict, a JSON file path, the
``DATASTORES_APIS`` environment variable naming such a file (or pybotters'
``PYBOTTERS_APIS``), or ``./apis.json``. Names are listed in ``docs/credentials.md``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from ._errors import ConfigurationError

__all__ = [
    "ENV_VAR",
    "INCUMBENT_ENV_VAR",
    "PASSPHRASE_REQUIRED",
    "PRIVATE_KEY_ONLY",
    "Credentials",
    "load_apis",
]

logger = logging.getLogger("datastores.credentials")

ENV_VAR = "DATASTORES_APIS"
#: pybotters' variable: read when ``DATASTORES_APIS`` is not set, so a migrated bot
#: does not silently send its private requests unsigned.
INCUMBENT_ENV_VAR = "PYBOTTERS_APIS"
_incumbent_noticed = False

#: Credential names whose entries must be ``[key, secret, passphrase]``.
PASSPHRASE_REQUIRED = frozenset({"okx", "okx_demo", "bitget", "bitget_demo", "kucoin", "okj"})
#: Credential names whose entries are ``[private_key]``.
PRIVATE_KEY_ONLY = frozenset({"hyperliquid", "hyperliquid_testnet"})

ApisArg = Union[Mapping[str, Any], str, "os.PathLike[str]", None]


@dataclass(frozen=True, slots=True)
class Credentials:
    """One exchange's credentials. ``repr()`` and ``str()`` never show the secret.

    Attributes:
        name: the credential name (``"bybit"``, ``"okx_demo"``, ...).
        key: the API key (public identifier); empty for Hyperliquid.
        secret: the API secret, or the private key for Hyperliquid.
        passphrase: the API passphrase where the exchange has one, else ``""``.
    """

    name: str
    key: str
    secret: str = field(repr=False)
    passphrase: str = field(default="", repr=False)

    @property
    def secret_bytes(self) -> bytes:
        """The secret encoded as UTF-8, ready for HMAC."""
        return self.secret.encode()

    def __repr__(self) -> str:
        key = self.key[:4] + "…" if len(self.key) > 4 else "…"
        return f"Credentials(name={self.name!r}, key={key!r}, secret=<hidden>)"

    __str__ = __repr__


def _parse_entry(name: object, value: object) -> Credentials:
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"credential names must be non-empty strings, got {name!r}")
    if not isinstance(value, (list, tuple)):
        raise ConfigurationError(
            f"credentials entry {name!r} must be a list like [key, secret], "
            f"got a {type(value).__name__}"
        )
    if not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"credentials entry {name!r} must contain only strings")
    values: list[str] = list(value)
    if name in PRIVATE_KEY_ONLY:
        if len(values) != 1:
            raise ConfigurationError(
                f"credentials entry {name!r} must be [private_key] (1 item), got {len(values)}"
            )
        return Credentials(name, "", values[0])
    if name in PASSPHRASE_REQUIRED and len(values) != 3:
        raise ConfigurationError(
            f"credentials entry {name!r} must be [key, secret, passphrase] (3 items), "
            f"got {len(values)}"
        )
    if len(values) not in (2, 3):
        raise ConfigurationError(
            f"credentials entry {name!r} must be [key, secret] or [key, secret, passphrase], "
            f"got {len(values)} items"
        )
    if not values[0] or not values[1]:
        raise ConfigurationError(f"credentials entry {name!r} has an empty key or secret")
    return Credentials(name, values[0], values[1], values[2] if len(values) == 3 else "")


def _read_file(path: Path, origin: str) -> Mapping[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(
            f"credentials file {str(path)!r} ({origin}) does not exist"
        ) from None
    except OSError as exc:
        raise ConfigurationError(
            f"credentials file {str(path)!r} ({origin}) cannot be read: {exc.strerror}"
        ) from None
    position: tuple[int, int] | None = None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        position = (exc.lineno, exc.colno)
    if position is not None:
        # Raised outside the except, with the position only: the decoder's error holds
        # the whole file in .doc, and `from None` would still keep it as __context__.
        raise ConfigurationError(
            f"credentials file {str(path)!r} ({origin}) is not valid JSON "
            f"(line {position[0]}, column {position[1]})"
        )
    if not isinstance(data, dict):
        raise ConfigurationError(
            f"credentials file {str(path)!r} ({origin}) must hold a JSON object "
            '{"name": [key, secret], ...}'
        )
    return data


def load_apis(apis: ApisArg = None, *, cwd: Path | None = None) -> dict[str, Credentials]:
    """Resolve credentials the way :class:`datastores.Client` does.

    Order: a mapping as given; a path to a JSON file; else ``$DATASTORES_APIS``
    (a path) if set; else ``$PYBOTTERS_APIS`` if set (logged once per process: the
    native name is ``DATASTORES_APIS``); else ``./apis.json`` if it exists; else no
    credentials.

    Raises:
        ConfigurationError: naming the file or entry and what is wrong (never the secret).
    """
    source: Mapping[str, Any]
    if isinstance(apis, Mapping):
        source = apis
    elif isinstance(apis, (str, os.PathLike)):
        source = _read_file(Path(apis), "the apis argument")
    elif apis is None:
        env = os.environ.get(ENV_VAR)
        incumbent = os.environ.get(INCUMBENT_ENV_VAR)
        default = (cwd or Path.cwd()) / "apis.json"
        if env:
            source = _read_file(Path(env), f"${ENV_VAR}")
        elif incumbent:
            _notice_incumbent_variable()
            source = _read_file(Path(incumbent), f"${INCUMBENT_ENV_VAR}")
        elif default.is_file():
            source = _read_file(default, "./apis.json")
        else:
            source = {}
    else:
        raise ConfigurationError(
            f"apis must be a dict, a path to a JSON file, or None; got {type(apis).__name__}"
        )
    return {name: _parse_entry(name, value) for name, value in source.items()}


def _notice_incumbent_variable() -> None:
    global _incumbent_noticed
    if _incumbent_noticed:
        return
    _incumbent_noticed = True
    logger.warning(
        "credentials: reading the file named by $%s (pybotters' variable); "
        "datastores' own name for it is %s, which wins when both are set",
        INCUMBENT_ENV_VAR,
        ENV_VAR,
    )
