"""The host registry: which exchange signs an HTTP host, which protocol speaks a WebSocket host.

The core never imports an exchange. Exchanges plug in from the other side: each
exchange package's ``signing.py`` calls :func:`register_http_auth` and its
``wsproto.py`` calls :func:`register_ws_protocol` when imported. What to import
is discovered, not listed: the package root names a *provider package*
(``datastores.exchanges``) with :func:`add_provider_package`, and the first
lookup (the first signed request, the first ``ws_connect``) imports the
``signing`` and ``wsproto`` modules of every subpackage found in it with
:func:`pkgutil.iter_modules`. ``import datastores`` therefore loads no exchange.

A host registered twice by two different objects is an error (two exchanges
cannot both sign ``api.example.com``); registering the same object again is a
no-op. Lookups are O(1) dict reads after the one-time discovery.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from ._signing import HttpAuth
    from ._ws.protocol import WsProtocol

__all__ = [
    "PROVIDER_MODULES",
    "add_provider_package",
    "exchange_names",
    "http_auth_by_host",
    "register_http_auth",
    "register_ws_protocol",
    "ws_protocol_by_host",
]

#: The modules imported from each exchange package on discovery, when it has them.
PROVIDER_MODULES: tuple[str, ...] = ("signing", "wsproto")


class _HostEntry(Protocol):
    @property
    def exchange(self) -> str: ...

    @property
    def hosts(self) -> Mapping[str, str]: ...


EntryT = TypeVar("EntryT", bound=_HostEntry)


class HostTable(Generic[EntryT]):
    """Host -> entry, filled by registration; duplicate hosts are refused.

    Args:
        what: what the entries are, for the duplicate-host error message.
    """

    __slots__ = ("_entries", "_view", "_what")

    def __init__(self, what: str) -> None:
        self._what = what
        self._entries: dict[str, EntryT] = {}
        self._view = MappingProxyType(self._entries)

    def register(self, entries: Iterable[EntryT]) -> None:
        """Add every host of every entry.

        Raises:
            RuntimeError: a host already belongs to a different entry (nothing
                of that entry is registered then).
        """
        for entry in entries:
            for host in entry.hosts:
                known = self._entries.get(host)
                if known is not None and known is not entry:
                    raise RuntimeError(
                        f"host {host!r} is registered twice ({self._what}: "
                        f"{known.exchange} and {entry.exchange})"
                    )
            for host in entry.hosts:
                self._entries[host] = entry

    def view(self) -> Mapping[str, EntryT]:
        """A read-only live view of the table."""
        return self._view


_http = HostTable["HttpAuth"]("HTTP signing")
_ws = HostTable["WsProtocol"]("WebSocket")
_providers: list[str] = []
_discovered: set[str] = set()


def register_http_auth(*auths: HttpAuth) -> None:
    """Register HTTP signers by the hosts they declare (called by ``signing.py`` modules).

    Raises:
        RuntimeError: a host is already signed by another ``HttpAuth``.
    """
    _http.register(auths)


def register_ws_protocol(*protocols: WsProtocol) -> None:
    """Register WebSocket protocols by the hosts they declare (called by ``wsproto.py``).

    Raises:
        RuntimeError: a host already has another protocol.
    """
    _ws.register(protocols)


def add_provider_package(name: str) -> None:
    """Have the first lookup import the provider modules of every subpackage of ``name``.

    Cheap: nothing is imported until a lookup needs the tables.
    """
    if name not in _providers:
        _providers.append(name)


def exchange_names(package: str) -> tuple[str, ...]:
    """The subpackages of ``package`` (one per exchange), sorted; ``_private`` ones skipped.

    Imports ``package`` itself, none of its subpackages.
    """
    module = importlib.import_module(package)
    return tuple(
        sorted(
            info.name
            for info in pkgutil.iter_modules(module.__path__)
            if info.ispkg and not info.name.startswith("_")
        )
    )


def _discover() -> None:
    for package in _providers:
        if package in _discovered:
            continue
        for exchange in exchange_names(package):
            for provider in PROVIDER_MODULES:
                name = f"{package}.{exchange}.{provider}"
                if importlib.util.find_spec(name) is not None:
                    importlib.import_module(name)  # registers itself
        # Only once every module imported: a failure is raised again on the next lookup.
        _discovered.add(package)


def http_auth_by_host() -> Mapping[str, HttpAuth]:
    """Host -> ``HttpAuth`` for every exchange that signs HTTP requests (read-only)."""
    if len(_discovered) < len(_providers):
        _discover()
    return _http.view()


def ws_protocol_by_host() -> Mapping[str, WsProtocol]:
    """Host -> WebSocket protocol (login, heartbeat, limits) for every exchange (read-only)."""
    if len(_discovered) < len(_providers):
        _discover()
    return _ws.view()
