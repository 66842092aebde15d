"""What every example shares: ``--fake`` (run against the built-in fake exchange,
offline, no keys), ``--seconds`` (stop after a while), ``--redirect`` (send a host's
requests elsewhere), and one line instead of a traceback when the exchange cannot be
reached or refuses the request.

Not part of the library: the examples import it as a sibling module (``python
examples/<name>.py`` puts this folder first on ``sys.path``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from datastores import Client, DatastoresError
from datastores.testing import FakeExchange

__all__ = ["Session", "add_options", "run", "session"]


def _redirect(text: str) -> tuple[str, str]:
    host, sep, url = text.partition("=")
    if not sep or not host or not url.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"expected HOST=URL (http or https), got {text!r}")
    return host, url


def add_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--fake``, ``--seconds`` and ``--redirect`` to an example's parser."""
    parser.add_argument(
        "--fake",
        action="store_true",
        help="run against the built-in fake exchange (offline, no keys needed)",
    )
    parser.add_argument(
        "--seconds", type=float, default=None, help="stop after N seconds (default: never)"
    )
    parser.add_argument(
        "--redirect",
        type=_redirect,
        action="append",
        default=[],
        metavar="HOST=URL",
        help="send the requests for HOST to URL instead (a proxy or a local server)",
    )
    return parser


@dataclass
class Session:
    """The example's Client, and the fake exchange behind it with ``--fake``."""

    client: Client
    fake: FakeExchange | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def script(self, coro: Awaitable[Any]) -> None:
        """Run ``coro`` (e.g. scripted account events on the fake) beside the example."""
        self.tasks.append(asyncio.ensure_future(coro))


@contextlib.asynccontextmanager
async def session(args: argparse.Namespace, venue: str, **fake: Any) -> AsyncIterator[Session]:
    """A Client for the real exchange; with ``--fake``, for ``FakeExchange(venue, **fake)``
    (whose test keys it then uses)."""
    async with contextlib.AsyncExitStack() as stack:
        redirects = dict(args.redirect)
        apis: Any = None
        exchange = None
        if args.fake:
            exchange = await stack.enter_async_context(FakeExchange(venue, **fake))
            redirects = {**exchange.redirects, **redirects}
            apis = exchange.apis
        client = await stack.enter_async_context(Client(apis=apis, redirects=redirects))
        current = Session(client, exchange)
        try:
            yield current
        finally:
            for task in current.tasks:
                task.cancel()
            await asyncio.gather(*current.tasks, return_exceptions=True)


class _OneLine(logging.Handler):
    """The library's warnings, one line each (a gap, a reconnect, a retried connection)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "ws_connect() raises now" in text:
            return  # run() says why in its own one line
        print(f"{record.name}: {text}", file=sys.stderr, flush=True)


def run(main: Callable[[], Awaitable[object]], args: argparse.Namespace) -> int:
    """Run ``main()`` until it returns, ``--seconds`` pass or Ctrl-C; the exit code.

    A failure to reach the exchange (or a refused request) prints one line naming it,
    not a traceback, and returns 1.
    """

    async def limited() -> None:
        if args.seconds is None:
            await main()
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(main(), args.seconds)

    name = sys.argv[0].rsplit("/", 1)[-1]
    logging.getLogger("datastores").addHandler(_OneLine())
    try:
        asyncio.run(limited())
    except KeyboardInterrupt:
        return 0
    except (DatastoresError, aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
        where = "the fake exchange" if args.fake else "the exchange"
        reason = " ".join(str(exc).split())  # an HTML error page is no reason to scroll
        if len(reason) > 300:
            reason = reason[:297] + "..."
        print(f"{name}: cannot use {where}: {type(exc).__name__}: {reason}", file=sys.stderr)
        return 1
    return 0
