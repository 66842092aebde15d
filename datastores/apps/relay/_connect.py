"""Connecting to NATS and preparing the relay's stream and bucket.

nats-py is an optional dependency (``pip install 'datastores[nats]'``),
imported only here, when a relay or mirror starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..._errors import ConfigurationError, MissingDependencyError
from ._subjects import RelayNames

__all__ = ["NatsConfig", "StreamLimits", "connect", "ensure_stream", "import_nats", "redact_url"]

logger = logging.getLogger("datastores.relay")

_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


def redact_url(text: str) -> str:
    """``text`` with the user and password of every URL in it hidden."""
    return _USERINFO.sub("<redacted>@", text)


def import_nats() -> Any:
    """The ``nats`` package.

    Raises:
        MissingDependencyError: nats-py is not installed (the message says how).
    """
    try:
        import nats
    except ImportError as exc:
        raise MissingDependencyError(
            "the NATS relay and mirror need nats-py: pip install 'datastores[nats]'"
        ) from exc
    return nats


@dataclass(frozen=True, slots=True)
class NatsConfig:
    """Where and how to connect: passed through to ``nats.connect``.

    Attributes:
        servers: one URL or several (a cluster), ``nats://host:4222``,
            ``tls://host:4222``; ``nats://user:password@host:4222`` authenticates
            (hidden in reprs and errors).
        credentials: a NATS ``.creds`` file (JWT and NKey seed), or ``None``.
        options: more keyword arguments of ``nats.connect`` (``tls`` with an
            ``ssl.SSLContext``, ``token``, ``user``/``password``, ``nkeys_seed``,
            ``tls_hostname``...); they override the defaults set here.
    """

    servers: tuple[str, ...] = ("nats://127.0.0.1:4222",)
    credentials: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        servers: str | Sequence[str],
        credentials: str | os.PathLike[str] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> NatsConfig:
        """A config from a URL (comma-separated for several), a list of URLs, an
        optional credentials file and ``nats.connect`` options."""
        if isinstance(servers, str):
            urls = tuple(url.strip() for url in servers.split(",") if url.strip())
        else:
            urls = tuple(servers)
        if not urls:
            raise ConfigurationError("no NATS server URL given (e.g. nats://127.0.0.1:4222)")
        creds = None if credentials is None else os.fspath(credentials)
        if creds is not None and not os.path.isfile(creds):
            raise ConfigurationError(f"NATS credentials file not found: {creds!r}")
        return cls(urls, creds, dict(options or {}))

    def __repr__(self) -> str:
        servers = ", ".join(redact_url(url) for url in self.servers)
        options = sorted(self.options)
        return (
            f"NatsConfig(servers=[{servers}], credentials={self.credentials!r}, options={options})"
        )


async def connect(
    config: NatsConfig,
    *,
    name: str,
    on_disconnect: Callable[[], Awaitable[None]],
    on_reconnect: Callable[[], Awaitable[None]],
) -> Any:
    """A connected ``nats.aio.client.Client`` that reconnects forever.

    Raises:
        TransportError: no server of ``config`` could be reached.
    """
    from ..._errors import TransportError

    nats = import_nats()
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        # nats-py reports reconnect attempts here: one line, no URL credentials.
        text = redact_url(f"{type(exc).__name__}: {exc}")
        if not errors:
            errors.append(text)  # the cause; later ones are often its aftermath
        logger.debug("%s: NATS: %s", name, text)

    async def disconnected() -> None:
        await on_disconnect()

    async def reconnected() -> None:
        await on_reconnect()

    options: dict[str, Any] = {
        "servers": list(config.servers),
        "name": name,
        "allow_reconnect": True,
        # A few tries for the first connection (a wrong password must fail, not
        # loop); forever once connected (set below).
        "max_reconnect_attempts": 3,
        "reconnect_time_wait": 0.25,
        "connect_timeout": 2,
        "error_cb": on_error,
        "disconnected_cb": disconnected,
        "reconnected_cb": reconnected,
    }
    if config.credentials is not None:
        options["user_credentials"] = config.credentials
    options.update(config.options)
    forever = "max_reconnect_attempts" not in config.options
    # nats-py can wait forever after a failed TLS handshake (a certificate it
    # cannot verify): bound the first connection by its own tries (unless they
    # were made endless on purpose, max_reconnect_attempts=-1).
    attempts = int(options["max_reconnect_attempts"])
    each = float(options["connect_timeout"]) + float(options["reconnect_time_wait"])
    deadline = None if attempts < 0 else (attempts + 1) * len(config.servers) * each + 1.0
    client = nats.NATS()
    try:
        await asyncio.wait_for(client.connect(**options), deadline)
    except Exception as exc:
        with contextlib.suppress(Exception):
            await client.close()
        servers = ", ".join(redact_url(url) for url in config.servers)
        cause = redact_url(f"{type(exc).__name__}: {exc}")
        if isinstance(exc, asyncio.TimeoutError) and errors:
            cause = f"timed out; first error {errors[0]}"
        raise TransportError(
            f"{name}: cannot connect to NATS at {servers} ({cause}); is nats-server running?"
        ) from None
    if forever:
        # nats-py reads this option at each reconnect: from now on, never give up.
        client.options["max_reconnect_attempts"] = -1
    return client


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """How the relay's stream and bucket are kept (see :class:`~datastores.apps.relay.Relay`)."""

    storage: str = "file"
    replicas: int = 1
    max_age: float = 300.0
    max_msgs: int = 1_000_000
    max_bytes: int = 1 << 30


async def ensure_stream(js: Any, names: RelayNames, limits: StreamLimits) -> Any:
    """Create (or update) the relay's stream and bucket; returns the bucket."""
    import_nats()
    from nats.js.api import DiscardPolicy, KeyValueConfig, StorageType, StreamConfig
    from nats.js.errors import BadRequestError

    storage = StorageType.MEMORY if limits.storage == "memory" else StorageType.FILE
    config = StreamConfig(
        name=names.stream,
        subjects=[names.all_subjects],
        storage=storage,
        num_replicas=limits.replicas,
        max_age=limits.max_age,
        max_msgs=limits.max_msgs,
        max_bytes=limits.max_bytes,
        discard=DiscardPolicy.OLD,
    )
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)  # it exists with other limits: take ours
    try:
        return await js.create_key_value(
            KeyValueConfig(
                bucket=names.bucket, history=1, storage=storage, replicas=limits.replicas
            )
        )
    except BadRequestError:
        return await js.key_value(names.bucket)
